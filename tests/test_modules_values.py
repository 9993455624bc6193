"""The generic value types: `json_value` (JSONPath) and `xml_value` (XPath, safely parsed)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Rule
from happyface.errors import FormatError
from happyface.modules.json_value import JsonValue
from happyface.modules.xml_value import XmlValue
from happyface.plugins import Registry
from happyface.rules import rate
from happyface.status import Status
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    assert_clean_failure,
    data,
    hostile_xml,
    huge_input,
    result_or_extract_error,
    run,
)

DCACHE = {"d": "http://www.dcache.org/2008/01/Info"}
TiB = 1024**4


def test_registered_through_the_entry_points():
    assert Registry().get("json_value") is JsonValue
    assert Registry().get("xml_value") is XmlValue


def test_json_values_by_jsonpath():
    values = {
        "ce.running": "$.computing_elements[*].running",
        "squid.hit_ratio": "$.squid.hit_ratio",
        "ce1.healthy": "$.computing_elements[0].healthy",
        "ce.draining": "$.computing_elements[?state = 'draining'].name",
    }
    result = run(JsonValue, data("ce_status.json"), values=values)
    assert result.metrics["ce.running"] == 4120  # first match by default
    assert result.metrics["squid.hit_ratio"] == 0.83  # numeric text is a number
    assert result.metrics["ce1.healthy"] == 1.0
    assert "ce.draining" not in result.metrics and "not a number" in result.message


def test_json_aggregates():
    path = {"v": "$.computing_elements[*].queued"}
    assert run(JsonValue, data("ce_status.json"), values=path, aggregate="sum").metrics["v"] == 407
    assert run(JsonValue, data("ce_status.json"), values=path, aggregate="max").metrics["v"] == 312
    unhealthy = {"v": "$.computing_elements[?healthy = false]"}
    assert (
        run(JsonValue, data("ce_status.json"), values=unhealthy, aggregate="count").metrics["v"]
        == 1
    )


def test_a_missing_value_is_left_to_the_rules():
    values = {"x": "$.nothing.here", "hit": "$.squid.hit_ratio"}
    result = run(JsonValue, data("ce_status.json"), values=values)
    assert "x" not in result.metrics and "x: no match" in result.message
    status, _ = rate(result, [Rule(metric="x", warning=1)])
    assert status is Status.ERROR


@pytest.mark.parametrize(
    ("module_type", "body", "values"),
    [
        (JsonValue, b'{"status": "ok"}', {"x": "$.queues[*].queued", "y": "$.squid.hit_ratio"}),
        (XmlValue, b"<html><body>Bad gateway</body></html>", {"free": "//pool/free"}),
    ],
)
def test_a_document_in_which_no_expression_finds_a_value_is_a_format_error(
    module_type, body, values
):
    with pytest.raises(FormatError, match="expressions find numbers, found none of"):
        run(module_type, body, values=values)


def test_an_xml_document_without_the_configured_namespaces_is_a_format_error():
    # sum() over no nodes is 0: without this check a wrong page would read as "0 free"
    values = {"free": "sum(//d:pool/d:space/d:metric[@name='free'])"}
    with pytest.raises(FormatError, match=r"elements in http://www\.dcache\.org/2008/01/Info"):
        run(XmlValue, b"<html><body>Bad gateway</body></html>", values=values, namespaces=DCACHE)
    assert run(XmlValue, data("dcache_info.xml"), values=values, namespaces=DCACHE).metrics


def test_json_settings_are_checked():
    with pytest.raises(ValueError, match="JSONPath"):
        JsonValue.Settings(values={"x": "$[[["})
    with pytest.raises(ValueError, match="metric name"):
        JsonValue.Settings(values={"bad name": "$.a"})


def test_xml_values_by_xpath_with_namespaces():
    values = {
        "free": "sum(//d:pool/d:space/d:metric[@name='free'])",
        "pools": "count(//d:pools/d:pool)",
        "restore.queued": "//d:queue[@type='restore']/d:metric[@name='queued']",
        "disabled": "//d:pool[d:metric[@name='enabled']='false']/@name",
    }
    result = run(XmlValue, data("dcache_info.xml"), values=values, namespaces=DCACHE)
    assert result.metrics["free"] == (40 + 3 + 1 + 2 + 90 + 75 + 5 + 60) * TiB
    assert result.metrics["pools"] == 9
    assert result.metrics["restore.queued"] == 35
    assert "not a number: 'f01-070-102-e_D_lhcb'" in result.message


def test_xml_settings_are_checked():
    with pytest.raises(ValueError, match="XPath"):
        XmlValue.Settings(values={"x": "//d:pool"})  # unknown prefix
    with pytest.raises(ValueError, match="XPath"):
        XmlValue.Settings(values={"x": "count(("})


@pytest.mark.parametrize("text", ["", "garbage", "[1, 2", "{", '"\\ud800', "[" * 100_000])
def test_json_bad_input_is_an_extract_error(text):
    assert_clean_failure(JsonValue, text, values={"x": "$.a"})


@pytest.mark.parametrize("text", ["", "garbage", "<a><b></a>", '{"a": 1}'])
def test_xml_bad_input_is_an_extract_error(text):
    assert_clean_failure(XmlValue, text, values={"x": "count(//a)"})


def test_truncated_huge_and_hostile_inputs():
    body = data("ce_status.json")
    assert_clean_failure(JsonValue, body[: len(body) // 2], values={"x": "$.a"})
    assert "MB" in assert_clean_failure(JsonValue, huge_input(b"{"), values={"x": "$.a"})
    assert "MB" in assert_clean_failure(XmlValue, huge_input(b"<a>"), values={"x": "count(//a)"})
    for template in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        message = assert_clean_failure(
            XmlValue, hostile_xml(template, "status"), values={"x": "string-length(/status)"}
        )
        assert "unsafe" in message


def test_deeply_nested_xml_is_refused():
    body = b"<a>" * 5000 + b"</a>" * 5000  # beyond lxml's depth limit without huge_tree
    assert_clean_failure(XmlValue, body, values={"x": "count(//a)"})


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape(body):
    result_or_extract_error(JsonValue, body, values={"x": "$..a", "y": "$[?b > 1].c"})
    result_or_extract_error(XmlValue, body, values={"x": "sum(//a)", "y": "//b/@c"})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from("abc"), kids),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(_JSON)
def test_random_json_never_escapes(document):
    values = {"x": "$..a", "y": "$[?b > 1].c", "z": "$.a[*].b"}
    for aggregate in ("first", "sum", "count"):
        result_or_extract_error(JsonValue, json.dumps(document), values=values, aggregate=aggregate)

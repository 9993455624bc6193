"""The `prometheus` module type: answers of the HTTP API, and a query against a real Prometheus."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import ExtractError, SecretRef, Source
from happyface.acquisition.fetch import Fetcher
from happyface.modules.prometheus import Prometheus
from happyface.plugins import Registry
from tests.fixtures.modules import NOW, assert_clean_failure, huge_input, raw, run
from tests.fixtures.prometheus import PrometheusServer

QUERY = "sum by (job) (rate(http_requests_total[5m]))"


def vector(*series: tuple[dict[str, str], str]) -> str:
    result = [{"metric": labels, "value": [1717246800.123, value]} for labels, value in series]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


JOBS = vector(
    ({"job": "dcache", "instance": "door1:9100"}, "12.5"),
    ({"job": "dcache", "instance": "door2:9100"}, "7.5"),
    ({"job": "xrootd", "instance": "xrd1:9100"}, "3"),
    ({"instance": "lost:9100"}, "NaN"),
)


def test_registered_through_the_entry_point():
    assert Registry().get("prometheus") is Prometheus


def test_the_query_url_is_built_and_credentials_kept():
    base = Source(url="https://prom.example.org:9090/", token=SecretRef(env="PROM_TOKEN"))
    module = Prometheus(Prometheus.Settings(query=QUERY), {"main": base})
    source = module.sources()["main"]
    parts = urlsplit(source.url)
    assert parts.path == "/api/v1/query" and parse_qs(parts.query) == {"query": [QUERY]}
    assert source.token == base.token and source.accepts(400) and not source.accepts(500)


def test_a_vector_aggregated_and_split_by_label():
    result = run(Prometheus, JOBS, query=QUERY, metric="requests", label="job")
    assert result.metrics == {
        "requests": 23.0,  # NaN is no value
        "requests.dcache": 20.0,
        "requests.xrootd": 3.0,
    }
    assert result.details == {"query": QUERY, "series": 4}
    labels, value, when = result.tables[0].rows[0]
    assert labels == "instance=door1:9100, job=dcache" and value == 12.5
    assert when == "2024-06-01 13:00:00"


@pytest.mark.parametrize(("aggregate", "expected"), [("max", 12.5), ("avg", 23 / 3), ("count", 3)])
def test_aggregates(aggregate, expected):
    assert run(Prometheus, JOBS, query="x", aggregate=aggregate).metrics["value"] == expected


def test_a_series_without_the_label_and_odd_label_values():
    body = vector(({"job": "a b/c"}, "1"), ({}, "2"))
    assert run(Prometheus, body, query="x", label="job").metrics == {
        "value": 3.0,
        "value.a_b/c": 1.0,
        "value.none": 2.0,
    }


def test_a_scalar_and_an_empty_vector():
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1717246800, "42"]}}
    assert run(Prometheus, json.dumps(scalar), query="scalar(up)").metrics == {"value": 42.0}
    empty = run(Prometheus, vector(), query="up == 2")
    assert empty.metrics == {} and "no value" in empty.message


def test_prometheus_errors_carry_its_message():
    body = {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'}
    answer = dataclasses.replace(raw(json.dumps(body)), status_code=400)
    module = Prometheus(Prometheus.Settings(query="up{"), {})
    with pytest.raises(
        ExtractError, match='refused the query: bad_data: parse error: unexpected "}"'
    ):
        module.extract({"main": answer}, NOW)
    page = dataclasses.replace(raw("<html>proxy error</html>"), status_code=503)
    with pytest.raises(ExtractError, match="HTTP 503: <html>proxy error"):
        module.extract({"main": page}, NOW)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "empty"),
        ("garbage", "not valid JSON"),
        ("[]", "not a Prometheus API answer"),
        ('{"status": "success"}', "no `data`"),
        ('{"status": "success", "data": {"resultType": "matrix", "result": []}}', "range vector"),
        ('{"status": "success", "data": {"resultType": "string", "result": [1, "a"]}}', "string"),
        ('{"status": "success", "data": {"resultType": "vector", "result": [1]}}', "metric"),
        (
            '{"status": "success", "data": {"resultType": "vector", "result": [{}]}}',
            "[time, value]",
        ),
    ],
)
def test_bad_answers_are_extract_errors(body, words):
    assert words in assert_clean_failure(Prometheus, body, query="up")


def test_truncated_and_huge():
    assert_clean_failure(Prometheus, JOBS[: len(JOBS) // 2], query="up")
    assert "MB" in assert_clean_failure(Prometheus, huge_input(b"{"), query="up")


def test_settings_are_checked():
    with pytest.raises(ValueError, match="empty"):
        Prometheus.Settings(query=" ")
    with pytest.raises(ValueError, match="metric name"):
        Prometheus.Settings(query="up", metric="bad name")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(["status", "data", "resultType", "result", "metric", "value"]), kids
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON | st.binary(max_size=300))
def test_random_answers_never_escape(document):
    body = document if isinstance(document, bytes) else json.dumps(document)
    try:
        run(Prometheus, body, query="up", label="job")
    except ExtractError as exc:
        assert str(exc)


# -- against a real Prometheus -----------------------------------------------------------------


async def query(server: PrometheusServer, **settings_: object):
    module = Prometheus(Prometheus.Settings(**settings_), {"main": Source(url=server.base_url)})
    now = datetime.now(UTC)
    async with Fetcher() as fetcher:
        inputs = {name: await fetcher.fetch(s, now) for name, s in module.sources().items()}
    return module.extract(inputs, now)


async def test_a_real_prometheus_answers_a_query(prometheus_server: PrometheusServer) -> None:
    result = await query(prometheus_server, query="up", metric="up", label="job")
    assert result.metrics == {"up": 1.0, "up.prometheus": 1.0}
    labels = result.tables[0].rows[0][0]
    assert "job=prometheus" in labels and "site=test" in labels


async def test_a_real_prometheus_scalar_and_functions(prometheus_server: PrometheusServer) -> None:
    result = await query(
        prometheus_server, query="count(prometheus_build_info) * 2 + scalar(vector(1))"
    )
    assert result.metrics == {"value": 3.0}


async def test_a_real_prometheus_refuses_a_bad_query(prometheus_server: PrometheusServer) -> None:
    with pytest.raises(ExtractError, match="refused the query: bad_data"):
        await query(prometheus_server, query="sum(up{")

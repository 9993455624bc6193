"""The `html_table` module type: table cells by row and column, elements by CSS selector."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from happyface import Rule, Status
from happyface.errors import FormatError
from happyface.modules.html_table import HtmlTable, parse_number
from happyface.plugins import Registry
from happyface.rules import rate
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    NOW,
    assert_clean_failure,
    data,
    hostile_xml,
    huge_input,
    raw,
    result_or_extract_error,
    run,
)

PAGE = data("storage_accounting.html")
SIZES = {"TB": 1e12, "PB": 1e15}


def test_registered_through_the_entry_point():
    assert Registry().get("html_table") is HtmlTable


def test_cells_by_row_text_and_header_text():
    values = {
        "cms.free": {"row": "cms", "column": "Free"},  # case and spaces do not matter
        "atlas.used_pct": {"row": "ATLAS", "column": "Used %"},  # &nbsp; in the header
        "total.free": {"row": "Total", "column": "Free"},  # the tfoot row counts too
    }
    result = run(HtmlTable, PAGE, table="#usage", values=values, units=SIZES)
    assert result.metrics == {
        "cms.free": 2.5e15,
        "atlas.used_pct": 94.3,
        "total.free": 5607.5e12,
    }
    assert result.message.startswith("cms.free 2,500,000,000,000,000, atlas.used_pct 94.3")


def test_metric_units_write_values_for_people_and_tell_the_pages():
    values = {
        "cms.free": {"row": "cms", "column": "Free"},
        "atlas.used_pct": {"row": "ATLAS", "column": "Used %"},
    }
    units = {"*.free": "bytes", "atlas.used_pct": "percent"}
    settings = HtmlTable.Settings(table="#usage", values=values, units=SIZES, metric_units=units)
    module = HtmlTable(settings, {})
    result = module.extract({"main": raw(PAGE, NOW)}, NOW)
    assert result.metrics == {"cms.free": 2.5e15, "atlas.used_pct": 94.3}  # stored as read
    assert result.message == "cms.free 2.5 PB, atlas.used_pct 94 %"
    assert [row[2] for row in result.tables[0].rows] == ["2.5 PB", "94 %"]
    assert module.units() == units  # what the pages and plots humanise and group axes by


def test_an_unknown_metric_unit_is_a_config_error():
    with pytest.raises(ValidationError, match=r"metric 'cms\.free': unknown unit 'TB'"):
        HtmlTable.Settings(cells={"cms.free": "#free"}, metric_units={"cms.free": "TB"})


def test_cells_by_index_and_by_selector():
    values = {"alice.files": {"row": 0, "column": 5}, "lhcb.used": {"row": 3, "column": "Used"}}
    cells = {"running": "#running-jobs", "updated": "#updated"}
    result = run(HtmlTable, PAGE, table="table.accounting", values=values, cells=cells)
    assert result.metrics["alice.files"] == 41_277_013
    assert result.metrics["lhcb.used"] == 4.5  # no units given: the number as written
    assert result.metrics["running"] == 14_212
    assert result.metrics["updated"] == 2024  # a date is no number to read; rules would notice


def test_only_cells_needs_no_table():
    result = run(HtmlTable, PAGE, table="#nowhere", cells={"running": "#running-jobs"})
    assert result.metrics == {"running": 14212.0}


def test_decimal_comma():
    values = {"slots": {"row": "TS4500", "column": "Free slots"}}
    result = run(HtmlTable, PAGE, table="#tape", values=values, decimal_comma=True)
    assert result.metrics["slots"] == 1234.5


def test_missing_cells_are_left_to_the_rules():
    values = {
        "belle.files": {"row": "Belle II", "column": "Files"},
        "x": {"row": "CMS", "column": "Nope"},
        "y": {"row": "Nobody", "column": "Used"},
        "z": {"row": 99, "column": 1},
        "cms.used": {"row": "CMS", "column": "Used"},
    }
    result = run(HtmlTable, PAGE, table="#usage", values=values, cells={"w": "#absent"})
    assert list(result.metrics) == ["cms.used"]
    for words in ("not a number: 'n/a'", "no column 'Nope'", "no row 'Nobody'", "no row 99"):
        assert words in result.message
    status, _ = rate(result, [Rule(metric="x", warning=1)])
    assert status is Status.ERROR


def test_a_page_in_which_no_cell_is_found_is_a_format_error():
    cells = {"w": "#absent", "v": "#nowhere"}
    with pytest.raises(FormatError, match="cell expressions find numbers, found none of 2"):
        run(HtmlTable, PAGE, cells=cells)


def test_rules_rate_the_values():
    values = {"lhcb.used_pct": {"row": "LHCb", "column": "Used %"}}
    result = run(HtmlTable, PAGE, table="#usage", values=values)
    status, message = rate(result, [Rule(metric="lhcb.used_pct", warning=90, critical=97)])
    assert status is Status.UNHAPPY and "97.9" in message


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1,234", 1234),
        ("12 %", 12),
        ("3.5 TB", 3.5e12),
        ("3.5tb", 3.5e12),
        ("−7 jobs", -7),
        ("approx. 42.", 42),
        ("1e3 files", 1000),
        ("n/a", None),
        ("", None),
        ("1.2.3", None),
    ],
)
def test_numbers_are_read_robustly(text, number):
    assert parse_number(text, SIZES) == number


def test_settings_are_checked():
    with pytest.raises(ValueError, match="CSS selector"):
        HtmlTable.Settings(cells={"x": "td[[["})
    with pytest.raises(ValueError, match="CSS selector"):
        HtmlTable.Settings(table="###", cells={"x": "td"})
    with pytest.raises(ValueError, match="give `values`"):
        HtmlTable.Settings()
    with pytest.raises(ValueError, match="metric name"):
        HtmlTable.Settings(cells={"bad name": "td"})
    with pytest.raises(ValueError, match="both"):
        HtmlTable.Settings(cells={"x": "td"}, values={"x": {"row": 0, "column": 0}})


@pytest.mark.parametrize("body", ["", "   ", "garbage with no table", b"\x00\xff\xfe" * 50])
def test_bad_input_is_an_extract_error(body):
    assert_clean_failure(HtmlTable, body, values={"x": {"row": 0, "column": 0}})


def test_truncated_huge_and_hostile_inputs():
    # the table starts after the cut: no table to read
    message = assert_clean_failure(
        HtmlTable, PAGE[:400], table="#usage", values={"x": {"row": 0, "column": 0}}
    )
    assert "#usage" in message
    assert "MB" in assert_clean_failure(HtmlTable, huge_input(b"<table>"), cells={"x": "td"})
    result = run(HtmlTable, hostile_xml(BILLION_LAUGHS, "table"), cells={"x": "table"})
    assert result.metrics == {"x": 9.0}  # the literal "&lol9;": never expanded into a flood


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1000) | st.text(alphabet="<>/tabler dh1,.% 5", max_size=300))
def test_random_input_never_escapes(body):
    result_or_extract_error(
        HtmlTable, body, values={"x": {"row": 0, "column": 1}, "y": {"row": "a", "column": "b"}}
    )
    result_or_extract_error(HtmlTable, body, cells={"x": "td:nth-child(2)"})

"""The `rss` module type: recent entries, keyword rating, and HTML that cannot attack the page."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Status
from happyface.modules.rss import Rss
from happyface.plugins import Registry
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


def test_registered_through_the_entry_point():
    assert Registry().get("rss") is Rss


def test_recent_entries_newest_first_and_unrated():
    result = run(Rss, data("news.rss"))
    assert result.status is None
    assert result.metrics == {"entries": 3.0}  # the April entry is older than 7 days
    titles = [e["title"] for e in result.details["entries"]]
    assert titles[0] == "Scheduled downtime of the tape system"
    assert titles[2] == "Worker nodes migrated to EL9 & cgroups v2"  # plain text, tags gone
    assert result.links[0].url == "https://www.gridka.example/news/"
    assert result.tables[0].rows[0][0] == "2024-05-31 09:00"


def test_days_and_max_entries():
    assert run(Rss, data("news.rss"), days=90).metrics["entries"] == 4
    assert run(Rss, data("news.rss"), days=90, max_entries=2).metrics["entries"] == 2


def test_keywords_rate_the_feed():
    unhappy = run(Rss, data("news.rss"), unhappy_keywords=["outage"], neutral_keywords=["downtime"])
    assert unhappy.status is Status.UNHAPPY
    assert "'outage'" in unhappy.message and unhappy.metrics["keyword_hits"] == 2
    neutral = run(Rss, data("news.rss"), neutral_keywords=["DOWNTIME"])
    assert neutral.status is Status.NEUTRAL
    # whole words only: "out" is not "outage"
    assert run(Rss, data("news.rss"), unhappy_keywords=["out"]).status is None


def test_hostile_entry_html_is_sanitised():
    entries = run(Rss, data("news.rss")).details["entries"]
    everything = " ".join(str(e) for e in entries).lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "document.cookie", "<img"):
        assert bad not in everything
    outage = next(e for e in entries if e["title"].startswith("Outage"))
    assert (
        "<a" in outage["summary_html"]
        and 'rel="noopener noreferrer nofollow"' in outage["summary_html"]
    )
    migrated = next(e for e in entries if e["title"].startswith("Worker"))
    assert migrated["link"] is None  # a javascript: link is dropped, not shown


def test_atom_content_is_sanitised():
    result = run(Rss, data("news.atom"))
    entry = result.details["entries"][0]
    assert entry["summary_html"] == "<p>LHCOPN link at <b>50 %</b> capacity</p>"
    assert entry["author"] == "WLCG operations"


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "<html><body>Not found</body></html>", '{"items": []}', "<rss version="],
)
def test_bad_input_is_an_extract_error(text):
    assert_clean_failure(Rss, text)


def test_truncated_huge_and_hostile_inputs():
    body = data("news.rss")
    assert "truncated" in assert_clean_failure(Rss, body[: len(body) // 2])
    assert "MB" in assert_clean_failure(Rss, huge_input(b"<rss>"))
    for template in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        assert "unsafe" in assert_clean_failure(Rss, hostile_xml(template, "rss"))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape(body):
    result_or_extract_error(Rss, body)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=40), st.text(max_size=40))
def test_random_entries_never_escape(summary, title, date):
    item = (
        f"<item><title>{title}</title><pubDate>{date}</pubDate>"
        f"<description>{summary}</description></item>"
    )
    result_or_extract_error(
        Rss, f'<rss version="2.0"><channel><title>t</title>{item}</channel></rss>'
    )

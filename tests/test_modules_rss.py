"""The `rss` module type: recent entries, keyword rating, and HTML that cannot attack the page."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Status
from happyface.display import DetailInput, Query
from happyface.modules.common import MAX_INPUT_BYTES
from happyface.modules.rss import Rss
from happyface.modules.rss_view import feed_view
from happyface.plugins import Registry
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    NOW,
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


# A feed that declares an entity, hidden behind a comment that mentions the root element.
DECLARING = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<!-- converted from <rss version="2.0"> by a tool -->\n'
    '<!DOCTYPE rss [<!ENTITY boom "BOOM">]>\n'
    '<rss version="2.0"><channel><title>t</title>'
    "<item><title>&boom; happened</title></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("utf-8", lambda text: text.encode("utf-8")),
        ("utf-8", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("utf-16", lambda text: b"\xff\xfe" + text.encode("utf-16-le")),
        ("utf-16", lambda text: b"\xfe\xff" + text.encode("utf-16-be")),
        ("utf-16", lambda text: text.encode("utf-16-le")),  # no byte order mark
        ("utf-32", lambda text: b"\xff\xfe\x00\x00" + text.encode("utf-32-le")),
        ("utf-32", lambda text: b"\x00\x00\xfe\xff" + text.encode("utf-32-be")),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "utf-16-le-bom",
        "utf-16-be-bom",
        "utf-16-le",
        "utf-32-le",
        "utf-32-be",
    ],
)
def test_entity_declarations_are_refused_whatever_precedes_them_and_any_encoding(encoding, encode):
    message = assert_clean_failure(Rss, encode(DECLARING.format(encoding=encoding)))
    assert message == "the feed was refused as unsafe: it declares XML entities"


@pytest.mark.parametrize(
    "feed",
    [
        # after garbage that no parser reads as a prolog
        'junk <!DOCTYPE rss [<!ENTITY boom "BOOM">]><rss version="2.0"><channel/></rss>',
        # a parameter entity, and a declaration after the root element
        '<!DOCTYPE rss [<!ENTITY % p "x">]><rss version="2.0"><channel/></rss>',
        '<rss version="2.0"><channel/></rss><!DOCTYPE rss [<!ENTITY boom "B">]>',
    ],
)
def test_an_entity_declaration_anywhere_is_refused(feed):
    assert "declares XML entities" in assert_clean_failure(Rss, feed)


def test_a_feed_about_entities_is_only_text():
    article = "<![CDATA[<p>XXE: <code>&lt;!ENTITY xxe SYSTEM 'file:///etc/passwd'&gt;</code></p>]]>"
    feed = (
        '<rss version="2.0"><channel><title>Security news</title><item><title>XXE explained'
        f"</title><description>{article}</description></item></channel></rss>"
    )
    (entry,) = run(Rss, feed).details["entries"]
    assert "&lt;!ENTITY xxe" in entry["summary_html"]


def test_an_external_doctype_without_declarations_is_read_and_html_entities_kept():
    feed = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        '<rss version="0.91"><channel><title>Caf&eacute; news</title>'
        "<item><title>Caf&eacute;&nbsp;opens &unknown; soon</title></item></channel></rss>"
    )
    result = run(Rss, feed)
    assert result.details["feed_title"] == "Café news"
    assert result.details["entries"][0]["title"] == "Café\xa0opens &unknown; soon"
    assert "not well-formed" in result.details["parse_warning"]


def entry_feed(count: int, summary: str = "Routine maintenance of the batch system.") -> bytes:
    items = "".join(
        f"<item><title>Notice {n}</title><link>https://news.example/{n}</link>"
        f"<pubDate>Fri, 31 May 2024 09:00:00 +0000</pubDate>"
        f"<description>{summary}</description></item>"
        for n in range(count)
    )
    return f'<rss version="2.0"><channel><title>Busy</title>{items}</channel></rss>'.encode()


def test_a_feed_with_thousands_of_entries_is_read_up_to_a_cap_and_says_so():
    result = run(Rss, entry_feed(4000), max_entries=500)
    cut = result.details["cut"]
    assert cut["entries_total"] == 4000 and 0 < cut["entries_read"] <= 500
    assert result.metrics["entries"] == cut["entries_read"]
    assert result.message.startswith(
        f"{cut['entries_read']} entries in the last 7 days (feed cut to bound the work: read the "
        f"first {cut['entries_read']:,} of 4,000 entries"
    )


def test_a_long_summary_is_shortened_and_counted():
    result = run(Rss, entry_feed(3, summary="word " * 20_000))
    assert result.details["cut"] == {"texts_shortened": 3}
    assert "3 texts shortened" in result.message
    assert all(len(e["summary_html"]) <= 10_000 for e in result.details["entries"])


def test_an_ordinary_feed_is_not_cut():
    result = run(Rss, data("news.rss"))
    assert "cut" not in result.message and result.details["cut"] == {}


def references_feed(size: int, reference: str = "&foo;") -> bytes:
    """A feed as large as `size` bytes whose one summary is nothing but entity references."""
    head = b'<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
    tail = b"</description></item></channel></rss>"
    count = (size - len(head) - len(tail)) // len(reference)
    return head + reference.encode() * count + tail


@pytest.mark.parametrize("reference", ["&foo;", "&amp;", "&#38;", "&lt;b&gt;"])
def test_a_feed_of_entity_references_at_the_size_limit_is_read_with_bounded_work(reference):
    feed = references_feed(MAX_INPUT_BYTES, reference)
    result = run(Rss, feed)
    assert result.details["cut"] == {
        "bytes_read": 1024 * 1024,
        "bytes_total": len(feed),
        "texts_shortened": 1,
    }
    assert result.message == (
        "1 entries in the last 7 days (feed cut to bound the work: read the first 1.0 of 33.6 MB"
        " (1 entries); 1 texts shortened)"
    )
    assert len(result.details["entries"][0]["summary_html"]) <= 60_000  # escaped, still small


def test_a_feed_over_the_size_limit_is_refused_before_parsing():
    assert "MB" in assert_clean_failure(Rss, references_feed(50 * 1024 * 1024))


def test_the_newest_entries_are_shown_whatever_their_order_in_the_feed():
    items = "".join(
        f"<item><title>Day {day}</title><pubDate>{day:02d} May 2024 09:00:00 +0000</pubDate></item>"
        for day in range(1, 29)  # oldest first
    )
    undated = "<item><title>Undated</title></item>"
    feed = f'<rss version="2.0"><channel><title>t</title>{items}{undated}</channel></rss>'
    result = run(Rss, feed, days=30, max_entries=3)
    assert [e["title"] for e in result.details["entries"]] == ["Undated", "Day 28", "Day 27"]


def test_an_element_crowded_with_attributes_loses_them():
    crowd = " ".join(f'x{n}=""' for n in range(100_000))
    feed = f'<rss version="2.0"><channel><title>t</title><item><title {crowd}>Hi</title></item>'
    result = run(Rss, feed + "</channel></rss>")
    assert result.details["entries"][0]["title"] == "Hi"
    assert result.details["cut"] == {"texts_shortened": 1}


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "https://",  # no host
        "https://example.org/a b",  # a space a browser would reinterpret
        "https:&#x2f;&#x2f;example.org",  # decoded in the attribute before use
        "/module/other",  # a bare path of a remote feed would point into HappyFace
    ],
)
def test_a_stored_entry_link_a_browser_would_misread_is_not_linked(link: str) -> None:
    """The view checks stored links again (they may come from elsewhere), as the module does."""
    entry = {"title": "t", "link": link, "summary_html": ""}
    given = DetailInput("feed", {"entries": [entry]}, (), NOW, None, True, {}, _NoLinks())
    (shown,) = feed_view(given).entries
    assert (shown.title, shown.href) == ("t", "")


def test_a_stored_web_link_is_linked() -> None:
    entry = {"title": "t", "link": " https://www.gridka.example/news ", "summary_html": ""}
    given = DetailInput("feed", {"entries": [entry]}, (), NOW, None, True, {}, _NoLinks())
    assert feed_view(given).entries[0].href == "https://www.gridka.example/news"


class _NoLinks:
    def module(self, query: Query = ()) -> str:
        return "/module/feed"

    def archived(self) -> Mapping[str, str]:
        return {}


def test_the_feed_carries_its_newest_time_for_the_staleness_check():
    from datetime import UTC, datetime

    # RSS: the newest item's pubDate (this feed has no lastBuildDate)
    assert run(Rss, data("news.rss")).source_time == datetime(2024, 5, 31, 9, 0, tzinfo=UTC)
    # Atom: the feed's own <updated>, newer than any entry
    assert run(Rss, data("news.atom")).source_time == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    built = data("news.rss").replace(
        b"<channel>", b"<channel><lastBuildDate>Sat, 01 Jun 2024 12:30:00 GMT</lastBuildDate>"
    )
    assert run(Rss, built).source_time == datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    # entries all older than the days shown still date the feed
    assert run(Rss, data("news.rss"), days=0.01).source_time == datetime(
        2024, 5, 31, 9, 0, tzinfo=UTC
    )
    undated = b'<rss version="2.0"><channel><title>t</title><item><title>a</title></item>'
    assert run(Rss, undated + b"</channel></rss>").source_time is None


def test_a_feed_is_stale_only_when_nothing_in_it_is_newer_than_the_days_it_shows():
    from happyface.sources import Source

    module = Rss(Rss.Settings(days=3), {"main": Source(url="https://news.example/feed")})
    assert module.sources()["main"].max_age == 3 * 86400
    own = Source(url="https://news.example/feed", max_age=3600)
    assert Rss(Rss.Settings(), {"main": own}).sources()["main"].max_age == 3600

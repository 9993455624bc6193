"""Type-specific detail views: jobs (group tree, filtered job list), plot images, feed entries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface import Result, Status
from happyface.display import DetailInput, Query
from happyface.modules.jobs_empty import why_empty
from happyface.modules.jobs_view import FilterView, JobsView, jobs_view
from happyface.result import Table
from happyface.storage import ModuleRecord
from happyface.web.pages.archived_files import IMAGE_POLICY, media_type
from happyface.web.render import environment
from happyface.web.urls import Urls
from tests.fixtures.details import FARM_JOBS, HOSTILE_ENTRY, NOW, DetailSite, build
from tests.fixtures.modules import data

FIRST_AT = "2024-06-01T12:30Z"


@pytest.fixture(scope="module")
def client(detail_site: DetailSite) -> Any:
    return detail_site.client()


def job_rows(client: Any, url: str) -> list[dict[str, Any]]:
    """The rows of the job table on a module page's JSON rendering, as dicts."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    table = next(t for t in response.json()["module"]["tables"] if t["name"] == "jobs")
    return [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]


@dataclass(frozen=True)
class PageLinks:
    """The links of module `j` on the live page, as the dashboard builds them."""

    def module(self, query: Query = ()) -> str:
        return Urls().module("j", None, None, query)

    def archived(self) -> Mapping[str, str]:
        return {}


def stored(details: dict[str, Any], full: bool = False) -> DetailInput:
    return DetailInput("j", details, (), NOW, None, full, {}, PageLinks())


def section(html: str, start: str, end: str) -> str:
    """The part of a page from the first `start` to the next `end`."""
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


# jobs: the group tree


def test_the_category_box_shows_the_group_tree_with_counts_and_shares(client: Any) -> None:
    html = client.get("/category/batch").text
    box = section(html, 'id="gridka"', "</section>")
    tree = section(box, '<ul class="tree"', '<p class="more">')
    assert tree.count("<ul>") == 2  # atlas and cms, each with its subgroups as a nested list
    assert '<a href="/module/gridka?group=atlasprd"' in tree
    assert "2010 jobs: 1700 running, 300 pending, 10 held" in tree
    assert "1000 inefficient (58.8 % of running)" in tree
    assert "table" not in box  # compact: the job list lives on the module page
    assert 'href="/module/gridka">The 6 jobs by group and user' in box


def test_the_compact_tree_stops_below_the_top_two_levels() -> None:
    deep = {"group": "a", "total": 1, "children": [{"group": "a.b", "children": []}]}
    tree = [{"group": "top", "total": 1, "children": [{"group": "mid", "children": [deep]}]}]
    env = environment(Urls())
    template = env.get_template("happyface.modules/jobs.html")
    box = {"id": "j", "url": "/module/j", "view": jobs_view(stored({"tree": tree})), "tables": []}
    compact = template.render(box=box, full=False)
    assert ">1 subgroups</a>" in compact and "a.b" not in compact
    box["view"] = jobs_view(stored({"tree": tree}, full=True))
    assert "a.b" in template.render(box=box, full=True)


def test_odd_stored_details_cost_the_view_not_the_page(detail_site: DetailSite) -> None:
    view = jobs_view(stored({"tree": ["not a node", {"children": 3}], "totals": None}))
    assert [n.group for n in view.tree] == ["", ""]
    assert view.totals.total == 0 and view.totals.inefficient_percent is None


# jobs: the job list and its filter


def test_the_module_page_lists_jobs_with_inefficient_ones_flagged_in_words(client: Any) -> None:
    html = client.get("/module/gridka").text
    table = section(html, '<table class="data sortable jobs">', "</table>")
    first = section(section(table, "<tbody>", "</tbody>"), "<tr", "</tr>")
    assert 'class="inefficient"' in first and "⚠ inefficient" in first  # not colour alone
    assert '<a href="/module/gridka?user=cmsprd001"' in first
    assert '<a href="/module/gridka?group=cmsprd"' in first
    assert "True" not in table and "False" not in table


def test_a_group_filter_keeps_the_group_and_its_subgroups(client: Any) -> None:
    rows = job_rows(client, "/module/condor.json?group=cms")
    assert {r["group"] for r in rows} == {"cms.prod", "cms.user"}
    assert {r["group"] for r in job_rows(client, "/module/condor.json?group=cms.prod")} == {
        "cms.prod"
    }
    html = client.get("/module/condor?group=cms").text
    assert "3 jobs of group <strong>cms</strong> and its subgroups" in html
    assert "<option selected>cms</option>" in html
    assert '<a href="/module/condor">Show all jobs</a>' in html


def test_a_user_filter_and_both_together(client: Any) -> None:
    assert {r["user"] for r in job_rows(client, "/module/gridka.json?user=cmsprd001")} == {
        "cmsprd001"
    }
    both = job_rows(client, "/module/condor.json?group=atlas&user=cmsprd001")
    assert both == []
    html = client.get("/module/condor?group=atlas&user=cmsprd001").text
    assert "0 jobs of group <strong>atlas</strong> and its subgroups of user" in html


def test_the_filter_applies_before_paging_and_the_pager_keeps_it(client: Any) -> None:
    everything = client.get("/module/farm.json").json()["module"]["tables"]
    assert next(t for t in everything if t["name"] == "jobs")["total"] == FARM_JOBS
    page = client.get("/module/farm.json?group=atlas").json()
    jobs = next(t for t in page["module"]["tables"] if t["name"] == "jobs")
    atlas = FARM_JOBS - len(range(0, FARM_JOBS, 3))
    assert jobs["total"] == atlas and jobs["pages"] == 2
    assert page["table_links"]["jobs"]["next"] == "/module/farm?group=atlas&table=jobs&page=2"
    second = job_rows(client, "/module/farm.json?group=atlas&table=jobs&page=2")
    assert len(second) == atlas - 100 and {r["group"] for r in second} == {"atlas.prod"}
    html = client.get("/module/farm?group=atlas&table=jobs&page=2").text
    assert 'href="/module/farm?group=atlas&amp;table=jobs&amp;page=1" rel="prev"' in html


def test_the_filter_works_in_the_past(client: Any) -> None:
    html = client.get(f"/module/condor?group=cms&at={FIRST_AT}").text
    assert '<input type="hidden" name="at" value="2024-06-01T12:30Z">' in html
    assert "/module/condor?at=2024-06-01T12%3A30Z&amp;user=cmsprd001" in html
    assert "/module/condor?at=2024-06-01T12%3A30Z&amp;group=cms.prod" in html
    rows = job_rows(client, f"/module/condor.json?group=cms&at={FIRST_AT}")
    assert {r["group"] for r in rows} == {"cms.prod", "cms.user"}


def test_an_unknown_group_shows_no_jobs_and_says_so(client: Any) -> None:
    assert job_rows(client, "/module/condor.json?group=alice") == []
    html = client.get("/module/condor?group=alice").text
    assert "0 jobs of group <strong>alice</strong>" in html
    assert "no job of group alice in this run&#39;s input" in html


@pytest.mark.parametrize("query", ["group=" + "x" * 201, "user=a%0Ab"])
def test_a_bad_filter_is_a_bad_request(client: Any, query: str) -> None:
    response = client.get(f"/module/condor?{query}")
    assert response.status_code == 400


def test_the_filter_leaves_other_tables_alone() -> None:
    jobs = Table("jobs", ("id", "user", "group"), (("1", "u", "a.b"), ("2", "v", "c")))
    groups = Table("groups", ("group",), (("a",), ("c",)))
    tree = [{"group": "a", "children": [{"group": "a.b", "children": []}]}]
    view = jobs_view(stored({"tree": tree}, full=True))
    chosen = FilterView("a", "", True, False, ("a", "a.b"), "/module/j", "")
    out = JobsView(**{**vars(view), "filter": chosen}).tables([jobs, groups])
    assert out[0].rows == (("1", "u", "a.b"),) and out[1] is groups


# generic cells


def test_flags_read_yes_or_a_dash_and_numbers_align_right(client: Any) -> None:
    html = client.get("/module/condor").text
    groups = section(html, 'aria-label="Jobs per group"', "</table>")
    assert "<td>yes</td>" in groups and "True" not in groups
    assert '<th scope="col" class="num">running</th>' in groups
    cell = environment(Urls()).filters["cell"]
    assert cell(True) == "yes" and "True" not in cell(True)
    no = str(cell(False))
    assert "—" in no and '<span class="sr-only">no</span>' in no
    assert cell(0) == "0" and cell(None) == ""


# plot: the images of the shown run


def test_the_box_shows_the_archived_images_of_the_shown_run(client: Any) -> None:
    live = section(client.get("/category/plots").text, 'id="load"', "</section>")
    assert '<img src="/archive/2/load/main.bin" alt="Load of the farm"' in live
    assert '<img src="/archive/2/load/transfers.svg" alt="Transfers"' in live
    assert "<figcaption>Load of the farm</figcaption>" in live
    past = client.get(f"/module/load?at={FIRST_AT}").text
    assert '<img src="/archive/1/load/main.bin"' in past
    assert "image/png" in past and "image/gif" not in past


def test_archived_images_are_served_as_their_type_by_magic_bytes(client: Any) -> None:
    first, second = client.get("/archive/1/load/main.bin"), client.get("/archive/2/load/main.bin")
    assert first.headers["content-type"] == "image/png" and first.content == data("plot_load.png")
    assert second.headers["content-type"] == "image/gif"
    for response in (first, second):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == IMAGE_POLICY


def test_an_archived_svg_is_an_image_only_to_an_img(client: Any) -> None:
    as_page = client.get("/archive/2/load/transfers.svg")
    assert as_page.headers["content-type"].startswith("text/plain")
    as_image = client.get("/archive/2/load/transfers.svg", headers={"Sec-Fetch-Dest": "image"})
    assert as_image.headers["content-type"] == "image/svg+xml"
    policy = as_image.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    assert as_image.headers["x-content-type-options"] == "nosniff"
    assert "Sec-Fetch-Dest" in as_image.headers["vary"]


def test_other_archived_files_stay_plain_text(client: Any) -> None:
    for url in ("/archive/2/feed/main.rss", "/archive/2/load/meta.json"):
        response = client.get(url, headers={"Sec-Fetch-Dest": "image"})
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    ("body", "dest", "expected"),
    [
        (data("plot_load.webp"), "", "image/webp"),
        (data("plot_load.jpg"), "document", "image/jpeg"),
        (b"<html><script>alert(1)</script>", "image", "text/plain; charset=utf-8"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "iframe", "text/plain"),
        (b"\x89PNX not quite", "image", "text/plain"),
        (data("plot_transfers.svg"), "", "text/plain"),  # curl, a script, an old browser
        (data("plot_transfers.svg"), "image", "image/svg+xml"),
        (b"", "image", "text/plain"),
    ],
)
def test_the_media_type_follows_the_bytes(body: bytes, dest: str, expected: str) -> None:
    assert media_type(body, dest).startswith(expected)


@pytest.mark.parametrize(
    "path",
    [
        "/archive/2/load/..%2F..%2Fcondor%2Fmain.json",
        "/archive/2/load/%2e%2e",
        "/archive/2/load/.meta.json",
        "/archive/2/..%2Fload/main.bin",
        "/archive/1/condor/main.bin",
    ],
)
def test_the_archive_route_still_refuses_to_leave_its_folder(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


# rss: the entries


def test_the_feed_entries_show_linked_titles_dates_and_summaries(client: Any) -> None:
    html = client.get("/module/feed").text
    feed = section(html, '<ol class="feed"', "</ol>")
    assert (
        '<a href="https://www.gridka.example/news/2024-05-31-tape" '
        'rel="noopener noreferrer nofollow">Scheduled downtime of the tape system</a>'
    ) in feed
    assert '<time datetime="2024-05-31T09:00:00+00:00">2024-05-31 09:00 UTC</time>' in feed
    assert "The <b>tape library</b> will be in maintenance" in feed  # HTML kept, not escaped
    # a javascript: title link is dropped, its title stays as text
    assert '<p class="entry-title">Worker nodes migrated to EL9 &amp; cgroups v2</p>' in feed


def test_a_hostile_feed_puts_no_script_handler_or_javascript_url_in_the_page(client: Any) -> None:
    assert b"alert(" in HOSTILE_ENTRY  # the second run's feed carries it
    for url in ("/module/feed", "/category/news", f"/module/feed?at={FIRST_AT}"):
        html = client.get(url).text
        feed = section(html, '<ol class="feed"', "</ol>")
        assert "<script" not in feed.lower() and "<iframe" not in feed and "<img" not in feed
        assert "<style" not in feed and not re.search(r"\son[a-z]+\s*=", feed, re.I)
        assert "javascript:" not in html.lower() and "alert(" not in html
    assert "Attack  title" in client.get("/module/feed").text


def test_stored_summaries_are_sanitised_again_when_shown(tmp_path: Path) -> None:
    site = build(tmp_path)
    hostile = '<p onclick="x()">hi</p><script>alert(1)</script><a href="javascript:y()">z</a>'
    entry = {"title": "t", "link": "javascript:alert(2)", "summary_html": hostile}
    result = Result(message="forged", details={"feed_title": "f", "entries": [entry]})
    run = site.store.begin_run(NOW - timedelta(minutes=1), "test", site.site.snapshot)
    record = ModuleRecord("feed", "news", Status.HAPPY, "forged", result)
    site.store.finish_run(run, [record], {"news": Status.HAPPY}, NOW)
    html = site.client().get("/module/feed").text
    feed = section(html, '<ol class="feed"', "</ol>")
    assert "<p>hi</p>" in feed and "onclick" not in feed and "<script" not in feed
    assert "javascript:" not in html and "alert(" not in html
    site.store.close()


def test_the_json_rendering_carries_the_detail_views(client: Any) -> None:
    module = client.get("/module/load.json").json()["module"]
    assert [i["url"] for i in module["view"]["images"]] == [
        "/archive/2/load/main.bin",
        "/archive/2/load/transfers.svg",
    ]
    filtered = client.get("/module/condor.json?user=cmsprd001").json()["module"]["view"]
    assert filtered["filter"]["user"] == "cmsprd001" and filtered["filter"]["active"]
    assert filtered["tree"][0]["url"].startswith("/module/condor?group=")
    boxed = client.get("/category/batch.json").json()["modules"][0]["view"]
    assert boxed["filter"] is None and boxed["totals"]["total"] > 0


@pytest.mark.parametrize(
    ("group", "user", "total", "listed", "reason"),
    [
        ("alice", "", None, (2, 2), "no job of group alice in this run's input"),
        ("lhcb", "", 0, (2, 2), "group lhcb has no jobs in this run"),
        ("lhcb", "", 7, (2, 9), "keeps only the first 2 of 9 jobs and none of them is"),
        ("lhcb", "", 7, (2, 2), "counts 7 jobs of group lhcb but does not list them"),
        (
            "atlas",
            "x",
            1,
            (2, 2),
            "none of the 1 jobs of group atlas in this run belongs to user x",
        ),
        ("", "x", None, (2, 2), "none of the 2 jobs in this run belongs to user x"),
        ("atlas", "", 1, (2, 2), ""),
    ],
)
def test_an_empty_filter_says_why(
    group: str, user: str, total: int | None, listed: tuple[int, int], reason: str
) -> None:
    jobs = Table("jobs", ("id", "user", "group"), (("1", "u", "atlas"), ("2", "v", "cms")))
    said = why_empty(jobs, group, user, {group}, total, listed)
    assert reason in said and bool(said) == bool(reason)
    assert why_empty(None, "atlas", "", {"atlas"}, 5, (0, 5)).startswith(
        "this run's input lists no"
    )

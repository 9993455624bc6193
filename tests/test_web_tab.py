"""The browser tab: every page's title starts with the worst category status, and its
favicon names it, whether or not the page shows the category navigation."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.web import Client

# the shared site: "batch" has a problem, "storage" is fine
PAGES = [
    "/",
    "/category/storage",
    "/module/jobs",
    "/matrix",
    "/plot",
    "/alarms",
    "/downtimes",
    "/handover",
    "/module/no-such-module",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_kind_marks_the_tab_with_the_worst_status(web_client: Client, path: str) -> None:
    html = web_client.get(path).text
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None
    assert title.group(1).startswith("✖ 1 problem — ")
    assert '<link rel="icon" href="/static/favicon-unhappy.svg"' in html


def test_the_tab_mark_leaves_the_json_twins_alone(web_client: Client) -> None:
    for path in ("/alarms.json", "/downtimes.json", "/handover.json"):
        assert "tab_statuses" not in web_client.get(path).json()

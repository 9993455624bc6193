"""The browser tab: every page's title starts with the worst category status, and its
favicon names it, whether or not the page shows the category navigation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.access import ADMIN_DN, populate_access, proxy_headers
from tests.fixtures.browser import Browser
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
    assert _title(html).startswith("✖ 1 problem — ")
    assert '<link rel="icon" href="/static/favicon-unhappy.svg"' in html


def test_the_tab_mark_leaves_the_json_twins_alone(web_client: Client) -> None:
    for path in ("/alarms.json", "/downtimes.json", "/handover.json"):
        assert "tab_statuses" not in web_client.get(path).json()


def test_the_tab_mark_is_kept_per_group_set(tmp_path: Path) -> None:
    # only admins see the hidden module with a problem; everyone else sees no problem
    populated = populate_access(tmp_path)
    try:
        app = populated.app()
        for path in ("/plot", "/alarms", "/handover", "/no-such-page"):
            admin = Browser(app, proxy_headers(ADMIN_DN)).get(path).text
            assert _title(admin).startswith("✖ 1 problem — "), path
            anonymous = Browser(app).get(path).text  # after the admin's: not their mark
            assert not _title(anonymous).startswith("✖"), path
            assert "favicon-unhappy.svg" not in anonymous, path
    finally:
        populated.store.close()


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found.group(1)

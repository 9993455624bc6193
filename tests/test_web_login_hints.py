"""How a page asks an anonymous viewer to be known: a Log in link where OpenID Connect is set
up (also on the handover and alarm pages), a grid certificate where it is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.access import AccessSite, populate_access
from tests.fixtures.browser import Browser
from tests.fixtures.tokensite import provider, token_site

__all__ = ["provider", "token_site"]

ACK = {"kind": "module", "id": "jobs", "comment": "on it", "expires": "4h", "back": "/"}
ACCOUNT_LINK = '<a class="account" href="/login?back='


@pytest.fixture(scope="module")
def app(token_site: AccessSite) -> Any:
    return token_site.app()


def test_an_anonymous_form_is_sent_to_the_login_page_where_there_is_one(app: Any) -> None:
    answer = Browser(app).post("/alarms/acknowledge", ACK)
    assert answer.status_code == 403
    assert "Log in to do this." in answer.text and "grid certificate" not in answer.text
    assert '<a href="/login?back=/">Log in</a>' in answer.text


def test_the_login_link_returns_to_the_page_the_form_was_on(app: Any) -> None:
    browser = Browser(app)
    browser.get("/handover")
    answer = browser.request(
        "POST",
        "/handover/note",
        data={"text": "quiet night", "csrf_token": browser.token()},
        headers={"referer": "http://test/handover"},
    )
    assert answer.status_code == 403
    assert '<a href="/login?back=/handover">Log in</a>' in answer.text


@pytest.mark.parametrize("path", ["/handover", "/alarms", "/downtimes", "/"])
def test_every_navigation_offers_the_account_link(app: Any, path: str) -> None:
    assert f"{ACCOUNT_LINK}{path}" in Browser(app).get(path).text


def test_without_a_login_page_the_form_asks_for_a_certificate(tmp_path: Path) -> None:
    populated = populate_access(tmp_path)
    try:
        answer = Browser(populated.app()).post("/alarms/acknowledge", ACK)
        assert answer.status_code == 403
        assert "needs your grid certificate" in answer.text and "/login" not in answer.text
    finally:
        populated.store.close()

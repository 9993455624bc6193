"""Login with OpenID Connect: Chromium through a real provider, against a real `happyface serve`.

The provider is oidc-provider on loopback with its development login form; HappyFace is the
process a site runs. The refusals (tampered session, replayed or foreign state) are asked of
the same process over real HTTP, and each must leave its line in the server's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from happyface.plugins import Registry
from tests.fixtures.access import AccessSite
from tests.fixtures.nginx import free_port, happyface_serve
from tests.fixtures.oidc import OpenIdProvider, openid_provider
from tests.fixtures.tokensite import USERS, populate_token_site
from tests.test_alarm_visibility import ALARM_CONFIG
from tests.test_browser import ARGS, CHROMIUM
from tests.test_security_serve import served_config

pytestmark = pytest.mark.browser


@dataclass
class Served:
    site: AccessSite
    base: str
    provider: OpenIdProvider
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with openid_provider(base + "/login/callback", USERS) as provider:
        folder = tmp_path_factory.mktemp("oidc")
        config = served_config(base=ALARM_CONFIG)
        # real module types (host_health), as `serve` loads them
        site = populate_token_site(folder, provider.issuer, config, Registry())
        with happyface_serve(folder, port):
            yield Served(site, base, provider, folder / "serve.log")
        site.store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def log_in(page: Any, served: Served, user: str, start: str = "/category/ops") -> None:
    page.goto(served.base + start)
    page.get_by_role("link", name="Log in").click()
    page.wait_for_url(served.provider.issuer + "/**")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(served.base + start)


def test_a_browser_logs_in_at_the_provider_and_sees_by_its_groups(
    served: Served, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(served.base + "/category/ops")
    assert "OPS-MESSAGE" not in page.content()
    log_in(page, served, "ada")
    assert "OPS-MESSAGE" in page.content()
    assert page.get_by_role("button", name="Log out").is_visible()
    assert ">ada<" in page.content()  # the preferred_username of the ID token
    cookie = next(c for c in context.cookies() if c["name"] == "hf_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert cookie["expires"] > 0  # bounded: a Max-Age, not a cookie for ever
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(served.base + "/")
    page.goto(served.base + "/category/ops")
    assert "OPS-MESSAGE" not in page.content() and "Log in" in page.content()
    context.close()


def test_a_login_outside_the_groups_sees_no_more_than_a_shifter(
    served: Served, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, served, "sam", "/module/queue")
    text = page.content()
    assert "QUEUE-INSTRUCTION" in text  # restricted to anyone known: sam is
    page.goto(served.base + "/category/ops")
    assert "OPS-MESSAGE" not in page.content()
    context.close()


def test_a_replayed_callback_is_refused(served: Served, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    callbacks: list[tuple[str, str]] = []

    def remember(request: Any) -> None:
        if request.url.startswith(served.base + "/login/callback"):
            callbacks.append((request.url, request.all_headers().get("cookie", "")))

    page.on("request", remember)
    log_in(page, served, "ada")
    context.close()
    (url, cookie), *_ = callbacks
    assert "hf_login=" in cookie
    again = httpx.get(url, headers={"Cookie": cookie}, timeout=20)
    assert again.status_code == 403 and "already used" in again.text
    assert "replayed state" in served.log_text()


def test_a_callback_without_a_login_of_this_browser_is_refused(served: Served) -> None:
    answer = httpx.get(served.base + "/login/callback?code=x&state=y", timeout=20)
    assert answer.status_code == 403 and "no login of this browser" in answer.text
    assert "login refused" in served.log_text()


def test_a_tampered_session_cookie_is_refused_and_removed(served: Served) -> None:
    with httpx.Client(timeout=20) as client:
        start = client.get(served.base + "/login", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"].startswith(
        served.provider.issuer + "/auth?"
    )
    assert "code_challenge_method=S256" in start.headers["location"]
    assert "nonce=" in start.headers["location"] and "state=" in start.headers["location"]
    forged = "WyJodHRwOi8vZXZpbCIsICJhZGEiLCAiIiwgWyJoZi1hZG1pbnMiXV0.ZzZzZw.c2lnbmF0dXJl"
    answer = httpx.get(
        served.base + "/category/ops", headers={"Cookie": f"hf_session={forged}"}, timeout=20
    )
    assert answer.status_code == 401 and "OPS-MESSAGE" not in answer.text
    assert "login session was not accepted" in answer.text
    assert "hf_session=;" in answer.headers["set-cookie"]
    assert "session cookie refused" in served.log_text()


def test_the_provider_saying_no_is_a_403(served: Served) -> None:
    answer = httpx.get(served.base + "/login/callback?error=access_denied&state=x", timeout=20)
    assert answer.status_code == 403 and "access_denied" in answer.text

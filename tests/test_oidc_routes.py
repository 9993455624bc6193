"""The route walk of test_access_routes.py, by viewers known from tokens instead of certificates.

A login session and a bearer JWT go through the same groups as a certificate: a token holder
outside `admins` sees what a shifter with a certificate sees, one inside sees everything, and
a forged session sees nothing but its refusal.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from happyface.web.access.claims import TokenIdentity
from happyface.web.access.session import SessionExpired, SignedCookies
from happyface.web.app import served
from tests.fixtures.access import HIDDEN, WITHHELD_OPS, WITHHELD_QUEUE, AccessSite
from tests.fixtures.oidc import OpenIdProvider
from tests.fixtures.tokensite import (
    AUDIENCE,
    SESSION_SECRET,
    provider,
    session_cookie,
    token_site,
)
from tests.test_access_routes import ALTERNATIVES, BINARY, leaks, run_walk

__all__ = ["provider", "token_site"]


def cookie_header(who: TokenIdentity, secret: str | None = None) -> dict[str, str]:
    cookies = session_cookie(who) if secret is None else session_cookie(who, secret)
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def shifter(provider: OpenIdProvider) -> TokenIdentity:
    return TokenIdentity(provider.issuer, "sam", frozenset({"cms-shifters"}), "session")


def admin(provider: OpenIdProvider) -> TokenIdentity:
    return TokenIdentity(provider.issuer, "ada", frozenset({"hf-admins"}), "session")


def viewers(provider: OpenIdProvider) -> dict[str, tuple[dict[str, str], list[str]]]:
    outsider = provider.sign(provider.claims(AUDIENCE, **{"wlcg.groups": ["/cms/users"]}))
    return {
        "session shifter": (cookie_header(shifter(provider)), HIDDEN + WITHHELD_OPS),
        "bearer outsider": ({"Authorization": f"Bearer {outsider}"}, HIDDEN + WITHHELD_OPS),
    }


@pytest.fixture(scope="module")
def app(token_site: AccessSite) -> Any:
    return token_site.app()


@pytest.mark.parametrize("viewer", ["session shifter", "bearer outsider"])
def test_no_route_leaks_to_token_viewers_without_rights(
    app: Any, token_site: AccessSite, provider: OpenIdProvider, viewer: str
) -> None:
    headers, secrets = viewers(provider)[viewer]
    answers = run_walk(app, token_site, "GET", headers)
    assert len(answers) > 100
    assert [(u, leaks(u, a, secrets)) for u, a in answers if leaks(u, a, secrets)] == []
    assert not [u for u, a in answers if a.status_code >= 500], "a route crashed"
    # they are somebody: the restricted queue is theirs to see, as for a certificate holder
    assert any("QUEUE-INSTRUCTION" in a.text for _, a in answers)


@pytest.mark.parametrize("way", ["session", "bearer"])
def test_token_admins_see_every_secret_somewhere(
    app: Any, token_site: AccessSite, provider: OpenIdProvider, way: str
) -> None:
    token = provider.client_token(AUDIENCE)
    headers = (
        cookie_header(admin(provider)) if way == "session" else {"Authorization": f"Bearer {token}"}
    )
    answers = run_walk(app, token_site, "GET", headers)
    text = "\n".join(
        a.text for _, a in answers if not a.headers.get("content-type", "").startswith(BINARY)
    )
    wanted = [s for s in HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS if s not in ALTERNATIVES]
    assert [s for s in wanted if s.lower() not in text.lower()] == []


def test_a_forged_session_is_refused_on_every_route(
    app: Any, token_site: AccessSite, provider: OpenIdProvider
) -> None:
    forged = cookie_header(admin(provider), secret="not-the-site-secret-at-all-0123456789")
    answers = run_walk(app, token_site, "GET", forged)
    secrets = HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS
    assert [(u, leaks(u, a, secrets)) for u, a in answers if leaks(u, a, secrets)] == []
    assert {a.status_code for _, a in answers} == {401}
    assert all("hf_session=;" in a.headers.get("set-cookie", "") for _, a in answers)


def test_post_routes_refuse_a_session_without_the_form_token(
    app: Any, token_site: AccessSite, provider: OpenIdProvider
) -> None:
    answers = run_walk(app, token_site, "POST", cookie_header(admin(provider)))
    secrets = HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS
    assert [(u, leaks(u, a, secrets)) for u, a in answers if leaks(u, a, secrets)] == []
    assert all(a.status_code >= 400 for _, a in answers)


def test_login_returns_only_to_pages_of_this_site(
    app: Any, token_site: AccessSite, provider: OpenIdProvider
) -> None:
    cookies = SignedCookies(SESSION_SECRET, 3600)

    async def back_after(back: str) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/login", params={"back": back})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith(provider.issuer + "/auth?")
        return str(cookies.login_of(answer.cookies["hf_login"])["back"])

    assert asyncio.run(back_after("/category/ops?at=x")) == "/category/ops?at=x"
    for elsewhere in ("//evil.example/", "/\t/evil.example", "https://evil.example/", "/\\evil"):
        assert asyncio.run(back_after(elsewhere)) == "/", elsewhere


def test_a_session_lasts_its_lifetime_only() -> None:
    cookies = SignedCookies(SESSION_SECRET, 1)
    who = TokenIdentity("https://issuer.test", "ada", frozenset({"hf-admins"}), "session")
    value = cookies.session_value(who)
    assert cookies.session_of(value) == who
    time.sleep(2.1)
    with pytest.raises(SessionExpired):
        cookies.session_of(value)


def test_a_token_viewers_answer_is_never_sent_again_to_anyone_else(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    """The one-second answer cache in front of the app keeps public answers only."""
    layer = served(token_site.app())
    admin_headers = cookie_header(admin(provider))
    bearer_headers = {"Authorization": f"Bearer {provider.client_token(AUDIENCE)}"}

    async def go() -> list[str]:
        transport = httpx.ASGITransport(app=layer)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            texts = []
            for headers in (admin_headers, bearer_headers, admin_headers, {}):
                texts.append((await client.get("/category/ops", headers=headers)).text)
            return texts

    *theirs, anonymous = asyncio.run(go())
    assert all("OPS-MESSAGE" in text for text in theirs)
    assert "OPS-MESSAGE" not in anonymous

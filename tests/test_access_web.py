"""Category roll-ups per viewer, the page cache per viewer, and CSRF on state-changing routes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import Depends
from starlette.responses import JSONResponse

from happyface.web.access.deps import require_csrf, require_groups
from tests.fixtures.access import ADMIN_DN, USER_DN, AccessSite, proxy_headers

ADMIN = proxy_headers(ADMIN_DN)


def get(app: Any, url: str, **kwargs: Any) -> httpx.Response:
    return asyncio.run(_call(app, "GET", url, **kwargs))


async def _call(
    app: Any, method: str, url: str, cookies: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    base = "http://test"
    async with httpx.AsyncClient(transport=transport, base_url=base, cookies=cookies) as client:
        return await client.request(method, url, **kwargs)


def statuses(app: Any, headers: dict[str, str]) -> dict[str, str]:
    view = get(app, "/overview.json", headers=headers).json()
    return {c["id"]: c["status"]["value"] for c in view["categories"]}


def test_a_roll_up_never_shows_a_hidden_modules_status(access_site: AccessSite) -> None:
    app = access_site.app()
    # secretjobs (hidden) is unhappy; jobs happy; queue restricted to the authenticated
    assert statuses(app, ADMIN) == {"batch": "unhappy", "vault": "neutral", "ops": "happy"}
    assert statuses(app, {}) == {"batch": "happy", "ops": "noinfo"}
    assert statuses(app, proxy_headers(USER_DN)) == {"batch": "happy", "ops": "noinfo"}


def test_the_page_cache_keeps_viewers_apart(access_site: AccessSite) -> None:
    app = access_site.app()
    admin = get(app, "/category/batch", headers=ADMIN)
    anonymous = get(app, "/category/batch")
    assert "SECRET-MESSAGE" in admin.text and "SECRET-MESSAGE" not in anonymous.text
    assert "Restricted: log in" in anonymous.text
    assert get(app, "/module/secretjobs").status_code == 404
    assert "private" in anonymous.headers["cache-control"]


def test_an_issuer_bound_rule_refuses_the_same_name_from_another_ca(
    access_site: AccessSite,
) -> None:
    app = access_site.app()
    forged = proxy_headers(ADMIN_DN, issuer="/C=DE/O=Elsewhere/CN=Other CA")
    assert "SECRET-MESSAGE" not in get(app, "/category/batch", headers=forged).text


@pytest.fixture
def csrf_app(access_site: AccessSite) -> Any:
    """The site's app with two state-changing test routes."""
    app = access_site.app()

    async def done() -> JSONResponse:
        return JSONResponse({"done": True})

    guarded = [Depends(require_csrf), Depends(require_groups("admins"))]
    app.add_api_route("/test/ack", done, methods=["POST"], dependencies=guarded)
    app.add_api_route("/test/script", done, methods=["POST"], dependencies=[Depends(require_csrf)])
    return app


def post(app: Any, url: str, **kwargs: Any) -> httpx.Response:
    return asyncio.run(_call(app, "POST", url, **kwargs))


def token_of(app: Any) -> str:
    cookie = get(app, "/").headers["set-cookie"]
    assert "SameSite=Strict" in cookie
    return cookie.split(";")[0].split("=", 1)[1]


def test_csrf_token_in_a_header_or_a_form_field_is_accepted(csrf_app: Any) -> None:
    token = token_of(csrf_app)
    cookies = {"hf_csrf": token}
    same = {**ADMIN, "Origin": "http://test", "Sec-Fetch-Site": "same-origin"}
    headers = {**same, "X-CSRF-Token": token}
    assert post(csrf_app, "/test/ack", headers=headers, cookies=cookies).status_code == 200
    form = {"csrf_token": token, "comment": "on it"}
    answer = post(csrf_app, "/test/ack", headers=same, cookies=cookies, data=form)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"X-CSRF-Token": ""},
        {"X-CSRF-Token": "guessed"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_forged_requests_are_refused_even_with_a_certificate(
    csrf_app: Any, change: dict[str, str]
) -> None:
    token = token_of(csrf_app)
    headers = {**ADMIN, "Origin": "http://test", "X-CSRF-Token": token, **change}
    answer = post(csrf_app, "/test/ack", headers=headers, cookies={"hf_csrf": token})
    assert answer.status_code == 403


def test_a_valid_token_does_not_replace_the_group(csrf_app: Any) -> None:
    token = token_of(csrf_app)
    for who in (proxy_headers(USER_DN), {}):
        headers = {**who, "X-CSRF-Token": token}
        answer = post(csrf_app, "/test/ack", headers=headers, cookies={"hf_csrf": token})
        assert answer.status_code == 403


def test_a_bearer_header_does_not_exempt_a_form_route_from_csrf(csrf_app: Any) -> None:
    # the routes guarded by require_csrf check no bearer token: sending one proves nothing
    for bearer in ({"Authorization": "Bearer s3cret"}, {"Authorization": "bearer x"}):
        assert post(csrf_app, "/test/script", headers=bearer).status_code == 403
        answer = post(csrf_app, "/test/ack", headers={**ADMIN, **bearer})
        assert answer.status_code == 403
    token = token_of(csrf_app)
    headers = {"Authorization": "Bearer s3cret", "X-CSRF-Token": token}
    answer = post(csrf_app, "/test/script", headers=headers, cookies={"hf_csrf": token})
    assert answer.status_code == 200


def test_the_csrf_cookie_is_http_only_and_strict(csrf_app: Any) -> None:
    cookie = get(csrf_app, "/").headers["set-cookie"]
    flags = {part.strip() for part in cookie.split(";")[1:]}
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= flags
    assert "Secure" not in flags  # plain HTTP here; under TLS see test_security_headers


def test_allow_must_name_a_known_group(tmp_path: Any) -> None:
    from happyface.config.load import load_site
    from happyface.errors import ConfigError
    from tests.fixtures.access import CONFIG
    from tests.fixtures.web import web_registry

    (tmp_path / "happyface.toml").write_text(
        CONFIG.replace('allow = ["admins"]', 'allow = ["admns"]', 1)
    )
    with pytest.raises(ConfigError, match="allow: no group 'admns'"):
        load_site(tmp_path, web_registry())

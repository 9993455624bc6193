"""Bearer JWTs for API clients: believed from the configured issuer only, checked in full.

The tokens come from a real oidc-provider on loopback (client credentials) or are signed here
with its key (or another) to make the cases a provider would never issue.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from happyface.config.load import load_site
from happyface.errors import ConfigError
from happyface.web.access.claims import TokenIdentity
from tests.fixtures.access import AccessSite
from tests.fixtures.oidc import OpenIdProvider, new_key
from tests.fixtures.tokensite import (
    AUDIENCE,
    USERS,
    VIP,
    provider,
    session_cookie,
    token_config,
    token_site,
)
from tests.fixtures.web import web_registry

__all__ = ["provider", "token_site"]


def call(
    site: AccessSite, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=site.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url, headers=headers, **kwargs)

    return asyncio.run(go())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_provider_token_opens_what_its_groups_may_see(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    token = provider.client_token(AUDIENCE)
    seen = call(token_site, "GET", "/api/v1/modules/opsmod", bearer(token))
    assert seen.status_code == 200 and "OPS-MESSAGE" in seen.text
    anonymous = call(token_site, "GET", "/api/v1/modules/opsmod", {})
    assert "OPS-MESSAGE" not in anonymous.text


def test_groups_come_from_the_claims(token_site: AccessSite, provider: OpenIdProvider) -> None:
    outsider = provider.sign(provider.claims(AUDIENCE, **{"wlcg.groups": ["/cms/users"]}))
    answer = call(token_site, "GET", "/api/v1/modules/opsmod", bearer(outsider))
    assert answer.status_code in (200, 403, 404) and "OPS-MESSAGE" not in answer.text
    entitled = provider.sign(
        provider.claims(AUDIENCE, **{"wlcg.groups": [], "eduperson_entitlement": ["hf-admins"]})
    )
    answer = call(token_site, "GET", "/api/v1/modules/opsmod", bearer(entitled))
    assert "OPS-MESSAGE" in answer.text


def test_a_subject_listed_by_issuer_and_sub_is_a_member(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    no_groups = {"wlcg.groups": []}
    vip = provider.sign(provider.claims(AUDIENCE, sub=VIP, **no_groups))
    assert "OPS-MESSAGE" in call(token_site, "GET", "/api/v1/modules/opsmod", bearer(vip)).text
    other = provider.sign(provider.claims(AUDIENCE, sub=VIP + "-not", **no_groups))
    assert (
        "OPS-MESSAGE" not in call(token_site, "GET", "/api/v1/modules/opsmod", bearer(other)).text
    )


def _part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _none_token(claims: dict[str, Any]) -> str:
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}."


def _hmac_with_public_key(provider: OpenIdProvider, claims: dict[str, Any]) -> str:
    """The classic confusion: HS256 "signed" with the issuer's public key as the secret.

    Made by hand: JOSE libraries (rightly) refuse to use a public key as an HMAC secret.
    """
    header = _part({"alg": "HS256", "kid": provider.key.kid, "typ": "JWT"})
    signed = f"{header}.{_part(claims)}"
    secret = provider.key.as_pem(private=False)
    mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


BAD = {
    "unknown issuer": lambda p: p.sign(p.claims(AUDIENCE, iss="http://127.0.0.1:9/other")),
    "wrong audience": lambda p: p.sign(p.claims("https://elsewhere.test")),
    "expired": lambda p: p.sign(p.claims(AUDIENCE, exp=int(time.time()) - 3600)),
    "not yet valid": lambda p: p.sign(p.claims(AUDIENCE, nbf=int(time.time()) + 3600)),
    "issued in the future": lambda p: p.sign(p.claims(AUDIENCE, iat=int(time.time()) + 3600)),
    "alg none": lambda p: _none_token(p.claims(AUDIENCE)),
    "hmac with the public key": lambda p: _hmac_with_public_key(p, p.claims(AUDIENCE)),
    "another key, same kid": lambda p: p.sign(p.claims(AUDIENCE), key=new_key()),
    "another key, unknown kid": lambda p: p.sign(p.claims(AUDIENCE), new_key(), "rogue"),
    "tampered": lambda p: p.sign(p.claims(AUDIENCE))[:-6] + "AAAAAA",
    "no sub": lambda p: p.sign({k: v for k, v in p.claims(AUDIENCE).items() if k != "sub"}),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_tokens_are_refused_with_401_and_a_log_line(
    token_site: AccessSite,
    provider: OpenIdProvider,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = BAD[case](provider)
    with caplog.at_level(logging.WARNING, logger="happyface.web.access"):
        for url in ("/api/v1/modules/opsmod", "/", "/category/ops"):
            answer = call(token_site, "GET", url, bearer(token))
            assert answer.status_code == 401, (case, url, answer.text[:300])
            assert "was not accepted" in answer.text
            assert "OPS-MESSAGE" not in answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
    refused = [r for r in caplog.records if "bearer token refused" in r.getMessage()]
    assert refused, case
    assert token not in caplog.text


def test_a_valid_token_still_passes_after_the_refusals(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    """The refusals above did not poison the key cache: the real key is still believed."""
    token = provider.sign(provider.claims(AUDIENCE))
    answer = call(token_site, "GET", "/api/v1/modules/opsmod", bearer(token))
    assert answer.status_code == 200 and "OPS-MESSAGE" in answer.text


def test_a_bearer_script_needs_no_csrf_token_but_a_cookie_session_does(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    form = {"subjects": "ops", "end": "2026-11-25T18:00", "description": "by script"}
    scripted = call(
        token_site, "POST", "/downtimes", bearer(provider.client_token(AUDIENCE)), data=form
    )
    assert scripted.status_code == 303, scripted.text[:300]
    ada = TokenIdentity(provider.issuer, "ada", frozenset(USERS["ada"]["groups"]), "session")
    cookie = "; ".join(f"{k}={v}" for k, v in session_cookie(ada).items())
    browser = call(token_site, "POST", "/downtimes", {"Cookie": cookie}, data=form)
    assert browser.status_code == 403 and "reload the page" in browser.text


def test_an_opaque_bearer_is_left_to_the_route(token_site: AccessSite) -> None:
    """A non-JWT bearer (an upload's own token) is no identity: the page is the anonymous one."""
    answer = call(token_site, "GET", "/category/ops", bearer("opaque-upload-token"))
    assert answer.status_code == 200 and "OPS-MESSAGE" not in answer.text


def test_an_upload_is_written_by_a_token_of_its_groups_only(
    token_site: AccessSite, provider: OpenIdProvider
) -> None:
    robot = bearer(provider.client_token(AUDIENCE))
    written = call(token_site, "POST", "/upload/robots.json", robot, content=b'{"n": 1}')
    assert written.status_code == 201 and written.json()["bytes"] == 8
    stored = token_site.site.resolve(token_site.site.settings.upload.dir) / "robots.json"
    assert stored.read_bytes() == b'{"n": 1}'
    outsider = provider.sign(provider.claims(AUDIENCE, **{"wlcg.groups": ["/cms/users"]}))
    refused = call(token_site, "POST", "/upload/robots.json", bearer(outsider), content=b'{"n": 2}')
    assert refused.status_code == 403 and "no group that may write" in refused.text
    assert stored.read_bytes() == b'{"n": 1}'


def test_an_upload_naming_an_unknown_group_is_a_config_problem(
    tmp_path: Path, provider: OpenIdProvider
) -> None:
    config = token_config(provider.issuer).replace('groups = ["admins"]', 'groups = ["admns"]')
    (tmp_path / "happyface.toml").write_text(config)
    (tmp_path / "session.key").write_text("x" * 40)
    (tmp_path / "client.secret").write_text("y")
    with pytest.raises(ConfigError, match=r"groups: no group 'admns' in \[access\.groups\]"):
        load_site(tmp_path, web_registry())

"""Login with OpenID Connect: authorization code with PKCE, `state` and `nonce` (Authlib).

`GET /login` sends the browser to the provider with a fresh state, nonce and PKCE verifier,
which it also keeps in a signed login cookie. `GET /login/callback` checks the state against
that cookie and against the states already used (a replayed callback is refused), trades the
code for tokens, verifies the ID token (signature, issuer, audience, nonce, times), reads the
groups from its claims (and from userinfo) and sets the session cookie. `POST /logout` ends
the session. Every refusal is a 4xx page and a log line.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from httpx2 import HTTPError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...config.access import OidcConfig
from ..errors import WebError
from .claims import TokenIdentity, display_name, groups_in
from .jwtcheck import TokenRefused, peek, verified_claims
from .providers import Providers, ProviderUnavailable
from .session import LOGIN_COOKIE, LOGIN_LIFETIME, SESSION_COOKIE, SignedCookies, cookie_header

log = logging.getLogger(__name__)

CALLBACK = "/login/callback"
#: states remembered as used; a login older than LOGIN_LIFETIME is refused anyway
MAX_USED = 10_000


class UsedStates:
    """The `state` values of completed logins, so that a callback counts only once."""

    def __init__(self) -> None:
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, state: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._used) >= MAX_USED:
                self._used = {s: t for s, t in self._used.items() if t > now}
            if state in self._used:
                return False
            self._used[state] = now + LOGIN_LIFETIME
            return True


class OidcLogin:
    """The login, callback and logout endpoints of one site."""

    def __init__(
        self, config: OidcConfig, secret: str | None, cookies: SignedCookies, providers: Providers
    ) -> None:
        self.config = config
        self.secret = secret
        self.cookies = cookies
        self.providers = providers
        self.used = UsedStates()

    def _client(self, request: Request) -> AsyncOAuth2Client:
        scopes = ["openid", *(s for s in self.config.scopes if s != "openid")]
        return AsyncOAuth2Client(
            self.config.client_id,
            self.secret,
            scope=" ".join(scopes),
            redirect_uri=self.config.redirect_uri or _callback_of(request),
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.secret else "none",
            timeout=10.0,
        )

    async def login(self, request: Request) -> Response:
        """Send the browser to the provider, remembering the login in a signed cookie."""
        endpoints = await self._metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        async with self._client(request) as client:
            url, _ = client.create_authorization_url(
                str(endpoints["authorization_endpoint"]),
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        back = _local_path(request.query_params.get("back", "/"))
        value = self.cookies.login_value(
            {"state": state, "nonce": nonce, "verifier": verifier, "back": back}
        )
        response = RedirectResponse(url, status_code=303)
        response.raw_headers.append(
            cookie_header(LOGIN_COOKIE, value, secure=_tls(request), max_age=LOGIN_LIFETIME)
        )
        return response

    async def callback(self, request: Request) -> Response:
        """Finish a login: check state, trade the code, verify the ID token, set the session."""
        try:
            who, back = await self._finish(request)
        except TokenRefused as exc:
            log.warning("login refused for %s: %s", _peer(request), exc)
            raise WebError(
                f"The login was refused: {exc}.",
                status=403,
                title="Login refused",
                hint="Start again from the Log in link.",
            ) from None
        log.info("login of %s, groups %s", who.name, sorted(who.groups))
        response = RedirectResponse(back, status_code=303)
        secure = _tls(request)
        response.raw_headers.append(cookie_header(LOGIN_COOKIE, "", secure=secure, max_age=0))
        value = self.cookies.session_value(who)
        lifetime = int(self.config.session_lifetime)
        response.raw_headers.append(
            cookie_header(SESSION_COOKIE, value, secure=secure, max_age=lifetime)
        )
        return response

    async def logout(self, request: Request) -> Response:
        """End the browser's session (the provider's own session is its business)."""
        response = RedirectResponse(_local_path(request.query_params.get("back", "/")), 303)
        response.raw_headers.append(
            cookie_header(SESSION_COOKIE, "", secure=_tls(request), max_age=0)
        )
        return response

    async def _finish(self, request: Request) -> tuple[TokenIdentity, str]:
        params = request.query_params
        if "error" in params:
            raise TokenRefused(f"the provider answered {params['error'][:100]!r}")
        pending = self.cookies.login_of(request.cookies.get(LOGIN_COOKIE, ""))
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), str(pending.get("state", "")).encode()):
            raise TokenRefused("the state does not match the login this browser started")
        if not self.used.first_use(state):
            raise TokenRefused("this login callback was already used (replayed state)")
        tokens = await self._trade(request, params.get("code", ""), str(pending["verifier"]))
        claims = await self._id_claims(tokens, str(pending["nonce"]))
        groups_from = {**(await self._userinfo(request, tokens, claims)), **claims}
        who = TokenIdentity(
            self.config.issuer,
            str(claims["sub"]),
            groups_in(groups_from, self.config.groups_claim),
            "session",
            display_name(groups_from),
        )
        return who, str(pending.get("back", "/"))

    async def _trade(self, request: Request, code: str, verifier: str) -> Mapping[str, Any]:
        if not code:
            raise TokenRefused("the provider sent no code")
        endpoints = await self._metadata()
        try:
            async with self._client(request) as client:
                return dict(
                    await client.fetch_token(
                        str(endpoints["token_endpoint"]), code=code, code_verifier=verifier
                    )
                )
        except OAuthError as exc:
            raise TokenRefused(f"the provider refused the code: {exc.error}") from None
        except (HTTPError, ValueError) as exc:
            failure = type(exc).__name__
            raise TokenRefused(f"the provider's token endpoint failed: {failure}") from None

    async def _id_claims(self, tokens: Mapping[str, Any], nonce: str) -> Mapping[str, Any]:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRefused("the provider sent no ID token")
        try:
            keys = await self.providers.keys(self.config.issuer, None, peek(id_token).kid)
        except ProviderUnavailable as exc:
            raise TokenRefused(f"the provider's keys are unavailable: {exc}") from None
        return verified_claims(
            id_token,
            keys,
            issuer=self.config.issuer,
            audiences=[self.config.client_id],
            leeway=60,
            nonce=nonce,
        )

    async def _userinfo(
        self, request: Request, tokens: Mapping[str, Any], claims: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The userinfo claims (where WLCG IAM puts `wlcg.groups`), if they name the same sub."""
        endpoint = (await self._metadata()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            async with self._client(request) as client:
                client.token = dict(tokens)
                answer = await client.get(str(endpoint))
            info = answer.json() if answer.status_code == 200 else {}
        except (HTTPError, ValueError):
            log.warning("no userinfo from %s: groups from the ID token", self.config.issuer)
            return {}
        return info if isinstance(info, dict) and info.get("sub") == claims.get("sub") else {}

    async def _metadata(self) -> Mapping[str, Any]:
        try:
            return await self.providers.metadata(self.config.issuer)
        except ProviderUnavailable as exc:
            log.error("OpenID provider unavailable: %s", exc)
            raise WebError(
                "The login service is not answering; try again later.",
                status=502,
                title="Login unavailable",
            ) from None


def _callback_of(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CALLBACK


def _local_path(back: str) -> str:
    """`back` if it is a path on this site; "/" for anything that could lead elsewhere."""
    # browsers drop tabs and newlines from URLs: "/\t/evil.example" would lead away
    plain = all(c.isprintable() and not c.isspace() for c in back)
    ours = plain and back.startswith("/") and not back.startswith("//") and "\\" not in back
    return back if ours else "/"


def _tls(request: Request) -> bool:
    return request.url.scheme == "https"


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"

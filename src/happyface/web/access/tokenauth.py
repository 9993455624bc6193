"""Identities from tokens: a bearer JWT in the Authorization header, or a login session cookie.

Certificates are asked first (`AccessControl.identify`); this is the second way in. A request
that presents a token which fails its checks is refused outright (TokenRefused), never served
as anonymous: a script whose token broke should hear so, not read an empty dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection

from ...config.site import Site
from ...sources import SecretRef
from .bearer import BearerVerifier, bearer_token, looks_like_jwt
from .claims import TokenIdentity
from .jwtcheck import TokenRefused
from .oidc import OidcLogin
from .providers import Providers
from .session import SESSION_COOKIE, SessionExpired, SignedCookies

log = logging.getLogger(__name__)


class TokenAccess:
    """The token side of access control for one site (bearer issuers and OIDC sessions)."""

    def __init__(self, site: Site, providers: Providers | None = None) -> None:
        self.providers = providers or Providers()
        self.bearer = BearerVerifier(site.access.bearer, self.providers)
        oidc = site.access.oidc
        self.cookies: SignedCookies | None = None
        self.login: OidcLogin | None = None
        if oidc is not None:
            # read once at start: a missing secret stops `serve` with a message, not a request
            self.cookies = SignedCookies(
                _resolved(site, oidc.session_secret), oidc.session_lifetime
            )
            client_secret = _resolved(site, oidc.client_secret) if oidc.client_secret else None
            self.login = OidcLogin(oidc, client_secret, self.cookies, self.providers)

    @property
    def enabled(self) -> bool:
        """Whether tokens are set up at all (bearer issuers or OIDC login)."""
        return self.bearer.enabled or self.cookies is not None

    def presented(self, scope: Mapping[str, Any]) -> bool:
        """Whether the request carries a token or session this layer would judge (cheap)."""
        if not self.enabled:
            return False  # the hot path of a site without tokens: parse nothing
        connection = HTTPConnection(scope)  # type: ignore[arg-type]
        if self.cookies is not None and SESSION_COOKIE in connection.cookies:
            return True
        token = bearer_token(connection.headers.get("authorization", ""))
        return self.bearer.enabled and token is not None and looks_like_jwt(token)

    async def identify(self, scope: Mapping[str, Any]) -> TokenIdentity | None:
        """The token identity of a request, None without one; TokenRefused for a bad one."""
        if not self.enabled:
            return None
        connection = HTTPConnection(scope)  # type: ignore[arg-type]
        token = bearer_token(connection.headers.get("authorization", ""))
        if self.bearer.enabled and token is not None and looks_like_jwt(token):
            try:
                return await self.bearer.identity(token)
            except TokenRefused as exc:
                log.warning("bearer token refused from %s: %s", _peer(scope), exc)
                raise
        session = connection.cookies.get(SESSION_COOKIE)
        if self.cookies is None or not session:
            return None
        try:
            return self.cookies.session_of(session)
        except SessionExpired:
            log.debug("expired login session from %s: treated as anonymous", _peer(scope))
            return None
        except TokenRefused as exc:
            log.warning("session cookie refused from %s: %s", _peer(scope), exc)
            raise


def _resolved(site: Site, ref: SecretRef) -> str:
    """The value of a secret reference, a relative file taken from the site's folder."""
    if ref.file is not None:
        ref = SecretRef(file=site.resolve(ref.file))
    return ref.resolve()


def _peer(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"

"""The login session of a browser: a signed cookie (itsdangerous) holding who logged in.

The cookie holds the issuer, subject, display name and groups of the verified ID token, signed
with the site's `session_secret` and bounded in age; nothing else is kept on the server. It is
HttpOnly (no script reads it), SameSite=Lax (sent on the redirect back from the provider, not
with another site's forms) and Secure when the page came over https.

The login in progress (state, nonce, PKCE verifier, where to go back to) rides in a second
signed cookie of its own, valid for a few minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .claims import MAX_GROUPS, TokenIdentity
from .jwtcheck import TokenRefused

SESSION_COOKIE = "hf_session"
LOGIN_COOKIE = "hf_login"
#: seconds a login may take at the provider
LOGIN_LIFETIME = 600


class SessionRefused(TokenRefused):
    """Raised when a session cookie is forged, tampered with or malformed."""


class SessionExpired(TokenRefused):
    """Raised when a session cookie was genuine but is older than the session lifetime."""


class SignedCookies:
    """Session and login-state cookies, signed with one secret under two purposes (salts)."""

    def __init__(self, secret: str, lifetime: float) -> None:
        self.lifetime = lifetime
        self._session = URLSafeTimedSerializer(secret, salt="happyface.session")
        self._login = URLSafeTimedSerializer(secret, salt="happyface.login")

    def session_value(self, who: TokenIdentity) -> str:
        payload = [who.issuer, who.subject, who.display, sorted(who.groups)[:MAX_GROUPS]]
        return str(self._session.dumps(payload))

    def session_of(self, value: str) -> TokenIdentity:
        """The identity in a session cookie; SessionRefused if forged, SessionExpired if old."""
        try:
            payload = self._session.loads(value, max_age=int(self.lifetime))
        except SignatureExpired:
            raise SessionExpired("the login session has expired") from None
        except BadSignature:
            raise SessionRefused("the session cookie is not signed by this server") from None
        try:
            issuer, subject, display, groups = payload
            return TokenIdentity(str(issuer), str(subject), frozenset(groups), "session", display)
        except (TypeError, ValueError):  # signed by us, yet not our shape: an older version's
            raise SessionRefused("the session cookie is malformed") from None

    def login_value(self, state: Mapping[str, str]) -> str:
        return str(self._login.dumps(dict(state)))

    def login_of(self, value: str) -> dict[str, Any]:
        """The login in progress; TokenRefused when missing, forged or older than allowed."""
        try:
            state = self._login.loads(value, max_age=LOGIN_LIFETIME)
        except BadSignature:  # SignatureExpired included
            raise TokenRefused(
                "no login of this browser is in progress (or it took too long)"
            ) from None
        if not isinstance(state, dict):
            raise TokenRefused("the login state is malformed")
        return state


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int, path: str = "/"
) -> tuple[bytes, bytes]:
    """A Set-Cookie header; an empty value with max_age 0 removes the cookie."""
    flags = f"; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax"
    text = f"{name}={value}{flags}{'; Secure' if secure else ''}"
    return b"set-cookie", text.encode("latin-1")

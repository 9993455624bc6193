"""`Authorization: Bearer <JWT>`: API clients and scripts known by an access token.

A token is believed when a configured issuer signed it (its key set, see providers.py), names
one of that issuer's accepted audiences and is within its validity (with the configured
leeway). Its groups come from its claims. A header whose value is no JWT at all is left to
the route (an upload's own opaque token), so only JWTs are judged here.
"""

from __future__ import annotations

from ...config.access import BearerConfig
from .claims import TokenIdentity, display_name, groups_in
from .jwtcheck import TokenRefused, peek, verified_claims
from .providers import Providers, ProviderUnavailable


def bearer_token(authorization: str) -> str | None:
    """The token of a `Bearer` Authorization header value; None for any other scheme."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: a compact JWS, judged here; anything else is the route's."""
    return token.count(".") == 2


class BearerVerifier:
    """Verifies bearer JWTs of the configured issuers."""

    def __init__(self, config: BearerConfig, providers: Providers) -> None:
        self.config = config
        self.providers = providers

    @property
    def enabled(self) -> bool:
        return bool(self.config.issuers)

    async def identity(self, token: str) -> TokenIdentity:
        """The person the token names; TokenRefused says why it is not believed."""
        seen = peek(token)
        issuer = self.config.issuer(seen.issuer)
        if issuer is None:
            raise TokenRefused(f"issuer {seen.issuer!r} is not trusted here")
        try:
            keys = await self.providers.keys(issuer.issuer, issuer.jwks_uri, seen.kid)
        except ProviderUnavailable as exc:
            raise TokenRefused(f"the issuer's keys are unavailable: {exc}") from None
        claims = verified_claims(
            token,
            keys,
            issuer=issuer.issuer,
            audiences=issuer.audience,
            leeway=int(self.config.leeway),
        )
        return TokenIdentity(
            issuer.issuer,
            str(claims["sub"]),
            groups_in(claims, issuer.groups_claim),
            "bearer",
            display_name(claims),
        )

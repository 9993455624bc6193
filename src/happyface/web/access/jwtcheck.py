"""Checking a JWT (joserfc): an asymmetric signature by the issuer's keys, and its claims.

Only public-key algorithms are accepted, so neither `alg=none` nor an HMAC "signed" with the
issuer's public key as its secret can pass; the algorithm is checked before any key is used.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

#: the signature algorithms of OpenID providers; every one verifies with a public key
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
#: the longest token looked at; real ones are a few kB
MAX_TOKEN = 16 * 1024


class TokenRefused(Exception):
    """Raised when a token or session is not believed; the message says why (never the token)."""


@dataclass(frozen=True)
class Unverified:
    """What a token says about itself before its signature is checked: to find its keys."""

    alg: str
    kid: str | None
    issuer: str


def peek(token: str) -> Unverified:
    """The algorithm, key id and issuer a compact JWS names; TokenRefused when it is none."""
    if len(token) > MAX_TOKEN:
        raise TokenRefused("the token is too long")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise TokenRefused("not a signed JWT") from None
    alg = str(compact.headers().get("alg", ""))
    if alg not in ALGORITHMS:
        raise TokenRefused(f"algorithm {alg or 'none'!r} is not accepted")
    kid = compact.headers().get("kid")
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise TokenRefused("the token names no issuer")
    return Unverified(alg, str(kid) if kid is not None else None, issuer)


def verified_claims(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    audiences: Collection[str],
    leeway: int,
    nonce: str | None = None,
) -> Mapping[str, Any]:
    """The claims of `token` once its signature, issuer, audience and times are checked."""
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except BadSignatureError:
        raise TokenRefused("bad signature") from None
    except JoseError as exc:
        raise TokenRefused(f"cannot be verified: {exc.error}") from None
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "values": list(audiences)},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    try:
        JWTClaimsRegistry(leeway=leeway, **options).validate(decoded.claims)
    except ExpiredTokenError:
        raise TokenRefused("the token has expired") from None
    except (InvalidClaimError, MissingClaimError) as exc:
        raise TokenRefused(str(exc.description or exc.error)) from None
    return decoded.claims

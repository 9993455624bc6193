"""What HappyFace knows of each OpenID provider: its discovery document and its signing keys.

Both are fetched once and kept. Keys are fetched again when a token names a key id the set
does not hold (the provider rotated its keys), but at most once per `min_refresh` seconds per
issuer: a stream of tokens with made-up key ids must not turn into a stream of fetches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ...redact import redact_url

log = logging.getLogger(__name__)

DISCOVERY = "/.well-known/openid-configuration"
#: seconds a provider gets to answer a discovery or key request
TIMEOUT = 10.0
#: the largest discovery document or key set read
MAX_BYTES = 1024 * 1024


class ProviderUnavailable(Exception):
    """Raised when a provider's discovery document or keys cannot be fetched or read."""


@dataclass
class _Keys:
    keys: KeySet
    kids: frozenset[str]
    fetched: float


class Providers:
    """Discovery documents and key sets of the configured issuers, cached per issuer."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        min_refresh: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self.min_refresh = min_refresh
        self._clock = clock
        self._metadata: dict[str, Mapping[str, Any]] = {}
        self._keys: dict[str, _Keys] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def metadata(self, issuer: str) -> Mapping[str, Any]:
        """The issuer's discovery document, which must name the issuer (OpenID Discovery 4.3)."""
        found = self._metadata.get(issuer)
        if found is None:
            found = await self._get_json(issuer.rstrip("/") + DISCOVERY)
            if found.get("issuer") != issuer:
                raise ProviderUnavailable(
                    f"{redact_url(issuer)} names another issuer in its discovery document"
                )
            self._metadata[issuer] = found
        return found

    async def keys(self, issuer: str, jwks_uri: str | None, kid: str | None) -> KeySet:
        """The issuer's signing keys, fetched again for an unknown `kid` (rate limited)."""
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            held = self._keys.get(issuer)
            if held is not None and (kid is None or kid in held.kids):
                return held.keys
            if held is not None and self._clock() - held.fetched < self.min_refresh:
                return held.keys  # fetched a moment ago: the kid is unknown, not new
            uri = jwks_uri or str((await self.metadata(issuer)).get("jwks_uri") or "")
            if not uri:
                raise ProviderUnavailable(f"{redact_url(issuer)} publishes no jwks_uri")
            held = self._keys[issuer] = self._read_keys(await self._get_json(uri))
            log.info("keys of %s: %d (kids %s)", issuer, len(held.kids), sorted(held.kids))
            return held.keys

    def _read_keys(self, document: Mapping[str, Any]) -> _Keys:
        try:
            keys = KeySet.import_key_set(cast(Any, document))  # a dict checked by joserfc
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderUnavailable(f"unreadable key set: {exc}") from None
        kids = frozenset(str(k.kid) for k in keys.keys if k.kid)
        return _Keys(keys, kids, self._clock())

    async def _get_json(self, url: str) -> Mapping[str, Any]:
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{redact_url(url)}: {type(exc).__name__}") from None
        if response.status_code != 200 or len(response.content) > MAX_BYTES:
            raise ProviderUnavailable(f"{redact_url(url)}: HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise ProviderUnavailable(f"{redact_url(url)}: not JSON") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{redact_url(url)}: not a JSON object")
        return document

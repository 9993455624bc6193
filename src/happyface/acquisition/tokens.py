"""Bearer tokens for sources that accept only tokens: where each comes from, and when it renews.

Three supplies, one per way a site gets its tokens:
- `ClientCredentialsSupply`: OAuth2 client credentials at a token endpoint (Authlib), the token
  kept until shortly before it expires;
- `FileSupply`: a file that oidc-agent or htgettoken keeps renewing, read again when it changes;
- `DiscoverySupply`: WLCG Bearer Token Discovery, the places a grid job finds its token.

A token value is only ever put into the request's Authorization header: no message, log line
or archive holds it (the archive stores bodies, never request headers).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Protocol

from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from httpx2 import HTTPError

from ..errors import ConfigError, FetchError
from ..redact import redact_url
from ..sources import ClientCredentials, Source

log = logging.getLogger(__name__)

#: a token is renewed once less than this share of its lifetime is left, or 60 s if less
RENEW_SHARE = 0.2
RENEW_SECONDS = 60.0
#: the lifetime assumed when a token endpoint names none
DEFAULT_LIFETIME = 300.0


class TokenSupply(Protocol):
    """Where one source's bearer token comes from."""

    async def token(self, *, fresh: bool = False) -> str:
        """The token to send; `fresh` after a 401: not the one that was just refused."""
        ...


class ClientCredentialsSupply:
    """A token from an OAuth2 token endpoint, kept until shortly before it expires."""

    def __init__(
        self, grant: ClientCredentials, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grant = grant
        self._clock = clock
        self._token = ""
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, *, fresh: bool = False) -> str:
        async with self._lock:  # concurrent fetches of one run ask the endpoint once
            if fresh or not self._token or self._clock() >= self._renew_at:
                await self._renew()
            return self._token

    async def _renew(self) -> None:
        where = redact_url(self.grant.token_url)
        try:
            secret = self.grant.client_secret.resolve()
        except ConfigError as exc:
            raise FetchError(f"client secret for {where}: {'; '.join(exc.problems)}") from None
        started = self._clock()
        try:
            async with AsyncOAuth2Client(
                self.grant.client_id, secret, scope=" ".join(self.grant.scopes) or None
            ) as client:
                answer = await client.fetch_token(
                    self.grant.token_url, grant_type="client_credentials", **self._extra()
                )
        except OAuthError as exc:
            raise FetchError(f"token endpoint {where} refused the client: {exc.error}") from None
        except (HTTPError, ValueError) as exc:
            raise FetchError(f"no token from {where}: {type(exc).__name__}") from None
        self._token, lifetime = _token_and_lifetime(answer, where)
        self._renew_at = started + lifetime - min(RENEW_SECONDS, lifetime * RENEW_SHARE)
        log.info("token from %s, valid for %.0f s", where, lifetime)

    def _extra(self) -> dict[str, str]:
        extra = {}
        if self.grant.audience:
            extra["audience"] = self.grant.audience
        if self.grant.resource:
            extra["resource"] = self.grant.resource
        return extra


def _token_and_lifetime(answer: Mapping[str, object], where: str) -> tuple[str, float]:
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise FetchError(f"token endpoint {where} answered without an access_token")
    expires_in = answer.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else DEFAULT_LIFETIME
    return token, max(lifetime, 1.0)


class FileSupply:
    """A token in a file that another program renews; read again whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._token = ""

    async def token(self, *, fresh: bool = False) -> str:
        # a refused token is only replaced by the file's renewer: reading it again is all we can do
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
            if fresh or stamp != self._stamp:
                self._token, self._stamp = self.path.read_text().strip(), stamp
        except OSError as exc:
            raise FetchError(f"token file {str(self.path)!r}: {exc.strerror or exc}") from None
        if not self._token:
            raise FetchError(f"token file {str(self.path)!r} is empty")
        return self._token


class DiscoverySupply:
    """WLCG Bearer Token Discovery: the first of the places a grid job finds its token."""

    def __init__(self, environ: Mapping[str, str] | None = None, uid: int | None = None) -> None:
        self._environ = environ
        self._uid = os.getuid() if uid is None else uid
        self._files: dict[Path, FileSupply] = {}

    async def token(self, *, fresh: bool = False) -> str:
        environ = os.environ if self._environ is None else self._environ
        value = environ.get("BEARER_TOKEN", "").strip()
        if value:
            return value
        for path in self.places(environ):
            if path.is_file():
                supply = self._files.setdefault(path, FileSupply(path))
                return await supply.token(fresh=fresh)
        raise FetchError(
            "no bearer token found: BEARER_TOKEN is unset and none of "
            + ", ".join(str(p) for p in self.places(environ))
            + " exists"
        )

    def places(self, environ: Mapping[str, str]) -> list[Path]:
        """The files searched in order (the WLCG Bearer Token Discovery specification)."""
        if environ.get("BEARER_TOKEN_FILE"):
            return [Path(environ["BEARER_TOKEN_FILE"])]
        name = f"bt_u{self._uid}"
        runtime = environ.get("XDG_RUNTIME_DIR")
        return [*([Path(runtime) / name] if runtime else []), Path("/tmp") / name]


class TokenSupplies:
    """The token supply of each source that needs one, kept across runs (and their caches)."""

    def __init__(self, base_dir: Path | None = None) -> None:
        self._base_dir = base_dir
        self._supplies: dict[Hashable, TokenSupply] = {}

    def of(self, source: Source) -> TokenSupply | None:
        """The supply of `source`, made on first use; none for a source without token auth."""
        key = _key(source)
        if key is None:
            return None
        found = self._supplies.get(key)
        if found is None:
            found = self._supplies[key] = self._make(source)
        return found

    def _make(self, source: Source) -> TokenSupply:
        if source.oauth2 is not None:
            return ClientCredentialsSupply(source.oauth2)
        if source.token_file is not None:
            path = source.token_file.expanduser()
            if self._base_dir is not None and not path.is_absolute():
                path = self._base_dir / path
            return FileSupply(path)
        return DiscoverySupply()


def _key(source: Source) -> Hashable | None:
    if source.oauth2 is not None:
        return ("oauth2", source.oauth2.model_dump_json())
    if source.token_file is not None:
        return ("file", str(source.token_file))
    if source.token_discovery:
        return ("discovery",)
    return None

"""Fetching sources concurrently, each under a total deadline and a size cap."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import mimetypes
import ssl
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from ..errors import FetchError
from ..sources import RawInput, Source
from ..uploads import upload_name, upload_path
from .netio import asyncio_transport
from .reasons import describe_transport_error
from .slots import FetchSlots, host_of
from .tls import SourceTls, auth_headers, ssl_context
from .tokens import TokenSupplies, TokenSupply

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# idle connections kept between runs, per pool
_KEEPALIVE = 100
#: what every request says besides the User-Agent, as httpx's client did: the answer may come
#: compressed (httpx decodes it), and any type is welcome
_ACCEPT = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}


@dataclass
class _Progress:
    """How far one fetch got, for the message when its deadline strikes, and its TLS peer."""

    received: int = 0
    in_body: bool = False
    expected: int | None = None
    tls_not_after: datetime | None = None
    server: str = ""


class _Refused(Exception):
    """A source refused a renewable bearer token with 401."""


class Fetcher:
    """Fetches sources over http(s) or from local files, sharing connections per TLS setting.

    `transport` replaces the network (an `httpx.MockTransport` in unit tests); `base_dir`
    anchors relative local paths and credential files; `upload_dir` holds the files that
    `upload:NAME` sources read. At most `connections` HTTP fetches are open at once, and
    `connections_per_host` to one host; the others wait for a slot before their deadline starts.
    A proxy set in the environment (`http_proxy`, `https_proxy`, `no_proxy`) is used as httpx
    would.

    Requests go straight to an httpx transport, not through `httpx.AsyncClient`: the client's
    cookie handling, header merging and hooks cost a fifth of a run's CPU for 1,000 sources,
    and redirects, credentials and cookies (none are kept) are handled here anyway.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        base_dir: Path | None = None,
        upload_dir: Path | None = None,
        connections: int = 1000,
        connections_per_host: int = 100,
    ) -> None:
        self._transport = transport
        self._base_dir = base_dir
        self._upload_dir = upload_dir
        self._slots = FetchSlots(connections, connections_per_host)
        # each host's pool as large as its slots: a pool never queues
        pool = min(connections, connections_per_host)
        self._limits = httpx.Limits(
            max_connections=pool, max_keepalive_connections=min(pool, _KEEPALIVE)
        )
        self._transports: dict[Hashable, tuple[Hashable, httpx.AsyncBaseTransport]] = {}
        self._retired: list[httpx.AsyncBaseTransport] = []
        self._contexts: dict[SourceTls, tuple[Hashable, ssl.SSLContext]] = {}
        self._headers = {**_ACCEPT, "User-Agent": f"HappyFace/{_version()}"}
        self._proxies = getproxies()
        self._tokens = TokenSupplies(base_dir)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        transports = [transport for _, transport in self._transports.values()]
        self._transports = {}
        await asyncio.gather(*(t.aclose() for t in transports))
        await self._close_retired()

    async def _close_retired(self) -> None:
        """Close the pools of replaced credentials, whose fetches have all ended."""
        retired, self._retired = self._retired, []
        await asyncio.gather(*(c.aclose() for c in retired))

    async def fetch_all(
        self, sources: Iterable[Source], now: datetime
    ) -> dict[str, RawInput | FetchError]:
        """Fetch all sources concurrently, each distinct one once; keyed by `Source.identity()`.

        One source's failure is its entry's FetchError, never an exception of the whole call.
        """
        unique = {source.identity(): source for source in sources}
        async with asyncio.TaskGroup() as group:
            tasks = {
                key: group.create_task(self.fetch_or_error(s, now)) for key, s in unique.items()
            }
        await self._close_retired()
        return {key: task.result() for key, task in tasks.items()}

    async def fetch(self, source: Source, now: datetime) -> RawInput:
        """Fetch one source within its deadline and size cap; raises FetchError saying why not.

        `fetched_at` of the answer is `now`, the time of the run the fetch belongs to. An HTTP
        fetch first waits for a free slot; its deadline starts once it has one.
        """
        if source.is_local:
            return await self._fetch_in_time(source, now)
        async with self._slots.slot(source.url):
            return await self._fetch_in_time(source, now)

    async def _fetch_in_time(self, source: Source, now: datetime) -> RawInput:
        shown = shown_url(source.url)
        progress = _Progress()
        started = time.monotonic()
        try:
            async with asyncio.timeout(source.timeout):
                if source.is_local:
                    status, content_type, content = await self._read_local(source, progress)
                else:
                    status, content_type, content = await self._fetch_http(source, progress)
        except TimeoutError:
            raise FetchError(
                f"no complete answer from {shown} within {source.timeout:g} s "
                f"({progress.received} bytes received)"
            ) from None
        log.debug("fetched %s: %d bytes", shown, len(content))
        return RawInput(
            url=shown,
            content=content,
            fetched_at=now,
            content_type=content_type,
            status_code=status,
            elapsed=time.monotonic() - started,
            tls_not_after=progress.tls_not_after,
            server=progress.server,
        )

    async def fetch_or_error(self, source: Source, now: datetime) -> RawInput | FetchError:
        """Like `fetch`, but any failure, even a bug, is returned as this source's FetchError."""
        try:
            return await self.fetch(source, now)
        except FetchError as exc:
            log.debug("%s", exc)
            return exc
        except Exception as exc:  # a bug in one fetch must not cost the others their answers
            log.exception("fetching %s failed unexpectedly", shown_url(source.url))
            return FetchError(f"fetching {shown_url(source.url)} failed unexpectedly: {exc!r}")

    # -- http(s) -------------------------------------------------------------------------------

    async def _fetch_http(self, source: Source, progress: _Progress) -> tuple[int, str, bytes]:
        """The answer of an http(s) source; a refused renewable token is renewed and tried again.

        Only once, and only for a 401: a token that a fresh one cannot replace is a real refusal.
        """
        transport = self._transport_for(source)
        supply = self._tokens.of(source)
        if supply is None:
            return await self._follow(transport, source, auth_headers(source), progress, None)
        auth = {"Authorization": f"Bearer {await supply.token()}"}
        try:
            return await self._follow(transport, source, auth, progress, supply)
        except _Refused:
            log.info("%s refused the token (401): trying a fresh one", shown_url(source.url))
        auth = {"Authorization": f"Bearer {await supply.token(fresh=True)}"}
        return await self._follow(transport, source, auth, progress, None)

    async def _follow(
        self,
        transport: httpx.AsyncBaseTransport,
        source: Source,
        auth: dict[str, str],
        progress: _Progress,
        renewable: TokenSupply | None,
    ) -> tuple[int, str, bytes]:
        """GET the source, following redirects one checked hop at a time.

        With a `renewable` token, a 401 raises _Refused so that the caller can renew it.
        """
        headers = self._headers | source.headers
        cert = source.cert is not None or source.proxy is not None
        try:
            url = _parsed(source.url)
        except httpx.InvalidURL as exc:
            raise FetchError(f"{shown_url(source.url)} is not a valid URL: {exc}") from exc
        home = url.host
        for hops in itertools.count():
            # credentials go only to the host they were configured for, never along a redirect
            hop_headers = headers | auth if url.host == home else headers
            try:
                target, answer = await _send(
                    transport, url, hop_headers, source, progress, renewable is not None
                )
                if answer is not None:
                    return answer
            except httpx.HTTPError as exc:
                raise FetchError(
                    describe_transport_error(exc, _shown(url), progress, cert)
                ) from exc
            assert target is not None  # _send gives one or the other
            _check_redirect(url, target, hops)
            url = target
        raise AssertionError("unreachable")  # pragma: no cover

    def _transport_for(self, source: Source) -> httpx.AsyncBaseTransport:
        """The pool of the source's host and TLS setting, created on first use.

        A pool per host and setting (`hostpool.py`) opens as many connections as the host's
        slots let fetches ask for, so none ever queues. When a credential file changes (a
        renewed proxy), the old pool is retired, to be closed after the run, and a new one
        made with the new credentials.
        """
        if self._transport is not None:
            return self._transport
        settings = SourceTls.of(source, self._base_dir)
        host = host_of(source.url)
        proxy = self._proxy_for(source.url, host[0])
        key, stamp = (settings, host, proxy), settings.cache_key()
        found = self._transports.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        if found is not None:
            self._retired.append(found[1])
        transport = self._new_transport(settings, proxy)
        self._transports[key] = (stamp, transport)
        return transport

    def _proxy_for(self, url: str, host: str) -> str | None:
        """The proxy the environment names for `url`, unless `no_proxy` exempts its host."""
        proxy = self._proxies.get(url.partition(":")[0].lower()) or self._proxies.get("all")
        if proxy is None or proxy_bypass(host, self._proxies):
            return None
        return proxy

    def _new_transport(self, settings: SourceTls, proxy: str | None) -> httpx.AsyncBaseTransport:
        context = self._context_for(settings)
        if proxy is not None:
            return httpx.AsyncHTTPTransport(verify=context, limits=self._limits, proxy=proxy)
        return asyncio_transport(context, self._limits)

    def _context_for(self, settings: SourceTls) -> ssl.SSLContext:
        """One context per TLS setting, shared by the pools of all hosts (loading CAs is slow)."""
        stamp = settings.cache_key()
        found = self._contexts.get(settings)
        if found is None or found[0] != stamp:
            found = self._contexts[settings] = (stamp, ssl_context(settings))
        return found[1]

    # -- local files ---------------------------------------------------------------------------

    async def _read_local(self, source: Source, progress: _Progress) -> tuple[int, str, bytes]:
        path = self._local_path(source)
        stop = threading.Event()
        try:
            content = await asyncio.to_thread(_read_file, path, source.max_bytes, progress, stop)
        finally:
            stop.set()  # a read still running in its thread gives up at its next chunk
        return 200, mimetypes.guess_type(path.name)[0] or "", content

    def _local_path(self, source: Source) -> Path:
        """The file a local or `upload:NAME` source reads; uploads never leave their folder."""
        name = upload_name(source.url)
        if name is None:
            path = source.local_path.expanduser()
            if self._base_dir is not None and not path.is_absolute():
                path = self._base_dir / path
            return path
        if self._upload_dir is None:
            raise FetchError(f"{source.url}: uploads are not set up for this fetcher")
        try:
            path = upload_path(self._upload_dir, name)
        except ValueError as exc:
            raise FetchError(str(exc)) from None
        if not path.is_file():
            raise FetchError(f"nothing has been uploaded as {name!r} yet (POST /upload/{name})")
        return path


async def _send(
    transport: httpx.AsyncBaseTransport,
    url: httpx.URL,
    headers: dict[str, str],
    source: Source,
    progress: _Progress,
    renewable: bool,
) -> tuple[httpx.URL | None, tuple[int, str, bytes] | None]:
    """One GET: where it redirects to, or else the final answer (_Refused: a renewable token
    was refused with 401)."""
    request = httpx.Request("GET", url, headers=headers)
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        target = _redirect_target(response)
        if target is not None:
            return target, None
        if renewable and response.status_code == 401:
            raise _Refused
        return None, await _answer(response, source, progress)
    finally:
        await response.aclose()


async def _answer(
    response: httpx.Response, source: Source, progress: _Progress
) -> tuple[int, str, bytes]:
    """Status, content type and body of a final (non-redirect) response."""
    shown, limit = _shown(response.url), source.max_bytes
    if not source.accepts(response.status_code):
        raise FetchError(f"HTTP {response.status_code} {_phrase(response)} from {shown}")
    progress.tls_not_after = _peer_not_after(response)
    progress.server = response.headers.get("server", "")[:200]
    progress.expected = _content_length(response)
    if progress.expected is not None and progress.expected > limit:
        raise FetchError(
            f"answer from {shown} is larger than the limit of {limit} bytes "
            f"(Content-Length {progress.expected})"
        )
    progress.in_body = True
    chunks: list[bytes] = []
    async for chunk in response.aiter_bytes():
        progress.received += len(chunk)
        if progress.received > limit:
            raise FetchError(f"answer from {shown} is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return response.status_code, response.headers.get("content-type", ""), b"".join(chunks)


def _redirect_target(response: httpx.Response) -> httpx.URL | None:
    if response.status_code not in _REDIRECT_CODES or "location" not in response.headers:
        return None
    try:
        return response.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise FetchError(f"{_shown(response.url)} redirects to an invalid URL: {exc}") from exc


def _check_redirect(current: httpx.URL, target: httpx.URL, hops: int) -> None:
    where = f"redirect from {_shown(current)} to {_shown(target)}"
    if target.scheme not in ("http", "https"):
        raise FetchError(f"{where} refused: only http and https are followed")
    if current.scheme == "https" and target.scheme == "http":
        raise FetchError(f"{where} refused: it would leave https for unencrypted http")
    if hops >= MAX_REDIRECTS:
        raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}), the last {where}")


def _read_file(path: Path, limit: int, progress: _Progress, stop: threading.Event) -> bytes:
    """Read at most `limit` bytes of `path` in a thread; FetchError when too big or unreadable."""
    try:
        with path.open("rb") as stream:
            chunks: list[bytes] = []
            while not stop.is_set():
                chunk = stream.read(min(_CHUNK, limit + 1 - progress.received))
                if not chunk:
                    return b"".join(chunks)
                progress.received += len(chunk)
                if progress.received > limit:
                    raise FetchError(
                        f"file {str(path)!r} is larger than the limit of {limit} bytes"
                    )
                chunks.append(chunk)
    except OSError as exc:
        raise FetchError(f"cannot read file {str(path)!r}: {exc.strerror or exc}") from exc
    raise TimeoutError  # the deadline stopped the read; the caller has already given up


def _peer_not_after(response: httpx.Response) -> datetime | None:
    """When the server's certificate expires, from the TLS connection the answer came over."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    # getpeercert() has the parsed fields only for a verified peer, which ours always is
    not_after = (ssl_object.getpeercert() or {}).get("notAfter")
    if not isinstance(not_after, str):
        return None
    try:
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    except ValueError:
        return None


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _phrase(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase or "(unknown status)"


#: the URLs a site's sources name, parsed once per process rather than at every run (and a
#: few more: redirect targets pass through `shown_url`)
_URLS = 16384


@functools.lru_cache(maxsize=_URLS)
def _parsed(url: str) -> httpx.URL:
    return httpx.URL(url)


@functools.lru_cache(maxsize=_URLS)
def shown_url(url: str) -> str:
    """`url` as it may appear in messages, logs and archives: without user name and password."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def _shown(url: httpx.URL) -> str:
    return shown_url(str(url))


def _version() -> str:
    try:
        return metadata.version("happyface")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"

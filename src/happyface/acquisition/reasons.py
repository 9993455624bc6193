"""Readable reasons for transport failures: refused, unknown host, TLS trouble, cut-off answers."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Protocol, TypeVar

import httpx

E = TypeVar("E", bound=BaseException)

# TLS alerts a server sends when it does not like our client certificate, in words
_ALERTS = {
    "CERTIFICATE_REQUIRED": "the server requires a client certificate and got none",
    "UNKNOWN_CA": "the server does not trust the issuer of our client certificate",
    "BAD_CERTIFICATE": "the server rejected our client certificate",
    "CERTIFICATE_UNKNOWN": "the server rejected our client certificate",
    "CERTIFICATE_EXPIRED": "the server says our client certificate has expired",
    "CERTIFICATE_REVOKED": "the server says our client certificate is revoked",
    "HANDSHAKE_FAILURE": "the server refused the TLS handshake",
    "ACCESS_DENIED": "the server denied access to our client certificate",
}


class Progress(Protocol):
    """What is known of a fetch when it failed."""

    received: int
    in_body: bool
    expected: int | None


def describe_transport_error(
    exc: httpx.HTTPError, url: str, progress: Progress, client_cert: bool = False
) -> str:
    """One sentence saying why fetching `url` failed, naming no secret.

    `client_cert` tells whether we offered a client certificate, to guess right when a TLS
    server hangs up without saying why.
    """
    tls = _first(exc, ssl.SSLError)
    if tls is not None and not isinstance(tls, ssl.SSLEOFError):
        return f"TLS with {url} failed: {_tls_reason(tls)}"
    if url.startswith("https://") and not progress.in_body and _hung_up(exc):
        # servers that refuse a client certificate often just close: TLS 1.3 checks it late
        guess = "does not accept our" if client_cert else "requires a"
        return (
            f"TLS with {url} failed: the server closed the connection before answering; "
            f"perhaps it {guess} client certificate"
        )
    if progress.in_body:
        return _cut_off(url, progress, exc)
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: {_connect_reason(exc)}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url} closed the connection or sent no valid HTTP answer ({exc})"
    if isinstance(exc, httpx.TimeoutException):
        return f"no complete answer from {url} ({type(exc).__name__})"
    return f"fetching {url} failed: {exc or type(exc).__name__}"


def _cut_off(url: str, progress: Progress, exc: BaseException) -> str:
    if progress.expected is not None:
        told = f"of the announced {progress.expected}"
    else:
        told = "before the end of the answer"
    return (
        f"answer from {url} was cut off after {progress.received} bytes {told}: "
        f"the connection ended early ({type(exc).__name__})"
    )


def _connect_reason(exc: BaseException) -> str:
    if _first(exc, ConnectionRefusedError) is not None:
        return "connection refused (is the service running and the port right?)"
    if _first(exc, socket.gaierror) is not None:
        return "the host name cannot be resolved (DNS)"
    os_error = _first(exc, OSError)
    if os_error is not None and os_error.strerror:
        return os_error.strerror.lower()
    return str(exc) or type(exc).__name__


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server certificate cannot be verified ({exc.verify_message})"
    reason = (exc.reason or "").upper()
    for alert, words in _ALERTS.items():
        if reason.endswith("ALERT_" + alert):
            return words
    return (exc.reason or str(exc)).lower().replace("_", " ")


def _hung_up(exc: BaseException) -> bool:
    if _first(exc, ConnectionResetError) is not None or _first(exc, ssl.SSLEOFError) is not None:
        return True
    return isinstance(exc, httpx.RemoteProtocolError) and "disconnected" in str(exc)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first(exc: BaseException, kind: type[E]) -> E | None:
    return next((e for e in _chain(exc) if isinstance(e, kind)), None)

"""Why a delivery failed, in words that are safe to store in the log and show on /alarms.

What a receiver answers (an error page may quote the URL it was called with, token and all) and
what a library says (it may name the URL) never reach the notification log. It keeps a
classified reason: "HTTP 404", "timeout", "TLS error", "connection refused", "SMTP 550". The
details go to the process log only, redacted.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator

import httpx

from ..errors import HappyFaceError


class DeliveryError(HappyFaceError):
    """Raised when a channel could not deliver a notification; it is retried later.

    Its message is the classified `reason` that is stored and shown; `detail` says more, for
    the process log, and is redacted by whoever raises it.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


def http_status_reason(status_code: int) -> str:
    """The reason for an answer that is not a success: its status code, never its body."""
    return f"HTTP {status_code}"


def smtp_reason(error: BaseException) -> str:
    """The reason for a failed mail: the SMTP reply code (not the server's text), or the network."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in error.recipients.values()})
        return f"SMTP {'/'.join(codes) or '5xx'} (every recipient refused)"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "SMTP server lacks a needed extension (STARTTLS or AUTH)"
    if isinstance(error, smtplib.SMTPServerDisconnected) and not _caused_by_network(error):
        return "connection closed by the server"
    return network_reason(error)


def network_reason(error: BaseException) -> str:
    """The class of a network failure: timeout, TLS error, connection refused, host not found."""
    for cause in _chain(error):
        found = _classify(cause)
        if found:
            return found
    # httpx and smtplib sometimes keep the operating system's error only as text
    text = str(error).lower()
    for words, reason in _WORDS:
        if any(w in text for w in words):
            return reason
    return "connection failed"


def _classify(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout | httpx.TimeoutException):
        return "timeout"
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "TLS error"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "host not found"
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "invalid URL"
    if isinstance(error, httpx.RemoteProtocolError):
        return "protocol error"
    return ""


_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("certificate", "ssl", "tls"), "TLS error"),
    (("timed out", "timeout"), "timeout"),
    (("refused",), "connection refused"),
    (("name or service not known", "name resolution", "nodename nor servname"), "host not found"),
)


def _caused_by_network(error: BaseException) -> bool:
    return any(_classify(cause) for cause in _chain(error) if cause is not error)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it, outermost first (libraries wrap the socket's error)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__

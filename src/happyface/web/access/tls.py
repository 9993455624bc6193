"""Serving HTTPS directly: the TLS context for grid certificates, and the peer chain for the app.

Uvicorn (0.47 and later) takes our own `SSLContext` through `ssl_context_factory`, but it does
not pass the client certificate to the app. `TlsH11Protocol` does: once the handshake is done
it reads the verified chain from the connection and adds it to every request's scope as the
ASGI TLS extension, `scope["extensions"]["tls"]`, which `identity.from_tls_scope` reads.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ...config.access import ServerTls

log = logging.getLogger(__name__)
_REQUIREMENTS = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def server_context(tls: ServerTls, root: Path) -> ssl.SSLContext:
    """A server context asking for client certificates of the configured CAs, proxies allowed."""
    assert tls.certfile is not None, "server_context needs [site.web.tls] certfile"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    keyfile = _path(tls.keyfile, root) if tls.keyfile else None
    context.load_cert_chain(_path(tls.certfile, root), keyfile)
    if tls.client_certs != "none":
        # a hashed directory is looked up at each handshake: CAs added later count at once
        context.load_verify_locations(
            cafile=_path(tls.ca_file, root) if tls.ca_file else None,
            capath=_path(tls.ca_dir, root) if tls.ca_dir else None,
        )
        context.verify_mode = _REQUIREMENTS[tls.client_certs]
        # grid users browse with RFC 3820 proxy certificates, which OpenSSL refuses unless asked
        context.verify_flags |= ssl.VERIFY_ALLOW_PROXY_CERTS
        if tls.check_crls:
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    return context


def _path(path: Path, root: Path) -> str:
    return str(path if path.is_absolute() else root / path)


def tls_extension(ssl_object: Any) -> dict[str, Any] | None:
    """The ASGI TLS extension of a finished handshake, with the verified client chain (PEM)."""
    if ssl_object is None:
        return None
    chain = _verified_chain(ssl_object)
    version = ssl_object.version() or ""
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": None,
        # only verified certificates pass the handshake; none sent is not an error
        "client_cert_error": None,
        "tls_version": {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}.get(version),
        "cipher_suite": None,
    }


def _verified_chain(ssl_object: Any) -> list[str]:
    """The peer's chain as verified, leaf first (public API from Python 3.13, internal before)."""
    getter = getattr(ssl_object, "get_verified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_verified_chain", None)
    if getter is not None:
        certs = getter() or []
        return [_pem(c) for c in certs]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [ssl.DER_cert_to_PEM_cert(leaf)] if leaf else []


def _pem(cert: Any) -> str:
    if isinstance(cert, bytes):
        return ssl.DER_cert_to_PEM_cert(cert)
    pem = cert.public_bytes()  # PEM text by default
    return pem if isinstance(pem, str) else bytes(pem).decode("ascii")


class _WithTls:
    """The app, with the connection's TLS extension added to each request's scope."""

    def __init__(self, app: Any, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = dict(scope.get("extensions") or {})
        extensions["tls"] = self.tls
        await self.app({**scope, "extensions": extensions}, receive, send)


class TlsH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol, passing the verified client chain of its connection to the app."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        try:
            tls = tls_extension(transport.get_extra_info("ssl_object"))
        except Exception:  # the connection stays usable, anonymous, and the log says why
            log.exception("cannot read the client certificate chain")
            tls = None
        if tls is not None:
            self.app = _WithTls(self.app, tls)

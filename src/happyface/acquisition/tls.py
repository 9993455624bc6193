"""TLS and credential settings of a source: SSL contexts (grid style) and authentication headers."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, FetchError
from ..sources import Source

# A file's identity for caching: path plus modification time and size, so that a renewed grid
# proxy (rewritten every few hours in place) gets a fresh context instead of a stale one.
_FileStamp = tuple[str, int, int] | None


@dataclass(frozen=True)
class SourceTls:
    """The parts of a source that shape its TLS connection; equal settings share one context."""

    cert: Path | None = None
    key: Path | None = None
    proxy: Path | None = None
    ca_dir: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def of(cls, source: Source, base_dir: Path | None = None) -> SourceTls:
        """The TLS settings of `source`, relative paths resolved against `base_dir`."""
        return cls(
            cert=_resolve(source.cert, base_dir),
            key=_resolve(source.key, base_dir),
            proxy=_resolve(source.proxy, base_dir),
            ca_dir=_resolve(source.ca_dir, base_dir),
            ca_file=_resolve(source.ca_file, base_dir),
        )

    def cache_key(self) -> tuple[_FileStamp, ...]:
        """A key that changes when any of the credential files is replaced or rewritten."""
        return tuple(
            _stamp(p) for p in (self.cert, self.key, self.proxy, self.ca_dir, self.ca_file)
        )


def _resolve(path: Path | None, base_dir: Path | None) -> Path | None:
    if path is None:
        return None
    path = path.expanduser()
    return base_dir / path if base_dir is not None and not path.is_absolute() else path


def _stamp(path: Path | None) -> _FileStamp:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


def ssl_context(settings: SourceTls) -> ssl.SSLContext:
    """A verifying client SSL context for `settings`; a FetchError names the unusable file."""
    ctx = _verifying_context(settings)
    if settings.proxy is not None:
        # a grid proxy holds certificate, key and the chain up to the user certificate in one PEM
        _load_identity(ctx, settings.proxy, settings.proxy, "grid proxy")
    elif settings.cert is not None:
        _load_identity(ctx, settings.cert, settings.key, "client certificate")
    return ctx


def _verifying_context(settings: SourceTls) -> ssl.SSLContext:
    ca_file, ca_dir = settings.ca_file, settings.ca_dir
    for path, what, check in (
        (ca_file, "CA file", Path.is_file),
        (ca_dir, "CA directory", Path.is_dir),
    ):
        if path is not None and not check(path):
            raise FetchError(f"{what} {str(path)!r} does not exist or is not readable")
    try:
        # given CAs replace the system store: a grid site trusts exactly its CA directory
        ctx = ssl.create_default_context(
            cafile=str(ca_file) if ca_file else None, capath=str(ca_dir) if ca_dir else None
        )
    except ssl.SSLError as exc:
        raise FetchError(f"CA file {str(ca_file)!r} holds no usable certificate: {exc}") from exc
    if ca_file is None and ca_dir is None:
        _add_certifi(ctx)
    return ctx


def _add_certifi(ctx: ssl.SSLContext) -> None:
    """Also trust the certifi bundle httpx ships with, for hosts without a system CA store."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return
    ctx.load_verify_locations(cafile=certifi.where())


def _load_identity(ctx: ssl.SSLContext, cert: Path, key: Path | None, what: str) -> None:
    if not cert.is_file():
        raise FetchError(f"{what} {str(cert)!r} does not exist or is not readable")
    try:
        # no password callback: an encrypted key must fail here, not prompt on a terminal
        ctx.load_cert_chain(str(cert), str(key) if key else None, password=_no_password)
    except (ssl.SSLError, OSError, TypeError) as exc:
        raise FetchError(f"{what} {str(cert)!r} cannot be used: {_ssl_reason(exc)}") from exc


def _no_password() -> str:
    raise TypeError("the private key is encrypted; give an unencrypted key (mode 0600)")


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def auth_headers(source: Source) -> dict[str, str]:
    """The Authorization header of `source` (bearer token or basic auth), or none.

    Raises FetchError naming the reference, never the secret, when it cannot be resolved.
    """
    try:
        if source.token is not None:
            return {"Authorization": f"Bearer {source.token.resolve()}"}
        if source.username is not None and source.password is not None:
            pair = f"{source.username}:{source.password.resolve()}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}
    except ConfigError as exc:
        raise FetchError(
            f"credentials for the source cannot be read: {'; '.join(exc.problems)}"
        ) from exc
    return {}

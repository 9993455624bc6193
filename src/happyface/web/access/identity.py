"""Who is asking: a DN from a trusted reverse proxy's headers, or from our own TLS handshake.

Behind nginx or Apache the proxy verifies the certificate and passes the DNs in headers; they
are believed only when the connection comes from a configured proxy address. When HappyFace
serves TLS itself, `tls.TlsH11Protocol` puts the verified chain into the ASGI scope as the TLS
extension (`scope["extensions"]["tls"]["client_cert_chain"]`, PEM, leaf first).

A certificate's names are taken from the certificate itself (its x509.Name, multi-valued
RDNs kept as sets); a proxy's header text is read strictly: a DN whose structure it cannot
tell for certain is refused, and said once per DN in the log.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509

from ...config.access import AccessConfig
from ...dn import DN, AmbiguousDnError, DnError
from .groups import Identity

log = logging.getLogger(__name__)

# RFC 3820 proxyCertInfo: the mark of a proxy certificate
PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# distinct refused DNs remembered so each is logged once; forgotten all at once past this
MAX_REFUSED = 1024


class HeaderSource:
    """DNs from the headers of a trusted reverse proxy."""

    def __init__(self, config: AccessConfig) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in config.trusted_proxies
        )
        self.config = config
        self._refused: set[str] = set()

    def trusts(self, client: Sequence[Any] | None) -> bool:
        if not client or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(str(client[0]))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def identity(self, client: Sequence[Any] | None, headers: Mapping[str, str]) -> Identity | None:
        """The identity the headers (names in lower case) carry, if a trusted proxy verified it."""
        if not self.trusts(client):
            return None
        config = self.config
        verified = headers.get(config.verify_header.lower(), "").strip()
        subject = headers.get(config.subject_header.lower(), "").strip()
        if verified != config.verify_value or not subject:
            return None
        issuer = headers.get(config.issuer_header.lower(), "").strip()
        try:
            return from_proxy_headers(header_dn(subject), header_dn(issuer) if issuer else None)
        except DnError as exc:
            self._refuse(exc)
            return None

    def _refuse(self, exc: DnError) -> None:
        """Say once per distinct DN why a proxy's DN was not believed."""
        text = str(exc)
        if text in self._refused:
            return
        if len(self._refused) >= MAX_REFUSED:
            self._refused.clear()
        self._refused.add(text)
        kind = "an ambiguous" if isinstance(exc, AmbiguousDnError) else "an unreadable"
        log.warning("proxy sent %s DN, request treated as anonymous: %s", kind, exc)


def header_dn(text: str) -> DN:
    """A DN from a header value, read strictly (DN.parse_header).

    Headers arrive decoded as Latin-1; a proxy that passes UTF-8 unescaped (Apache's default
    for SSL_CLIENT_S_DN) sent bytes that are read again as UTF-8.
    """
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("latin-1").decode("utf-8")
    return DN.parse_header(text)


def from_proxy_headers(subject: DN, issuer: DN | None) -> Identity:
    """The identity of a leaf certificate known only by its subject and issuer DN.

    A proxy certificate is named after its signer plus one CN (RFC 3820). When the subject is
    exactly the issuer plus such a CN, the signer is the user: the identity is the issuer, and
    the CA that issued the user's certificate is unknown. Only one level is undone; a proxy
    of a proxy then matches nobody, which denies rather than guesses.
    """
    if issuer is not None and subject.parent() == issuer:
        return Identity(issuer, None)
    return Identity(subject, issuer)


def from_tls_scope(scope: Mapping[str, Any]) -> Identity | None:
    """The identity of the verified client certificate chain of our own TLS handshake."""
    tls = scope.get("extensions", {}).get("tls")
    if not tls or tls.get("client_cert_error") is not None:
        return None
    chain = tls.get("client_cert_chain") or ()
    if not chain:
        return None
    try:
        certs = [x509.load_pem_x509_certificate(pem.encode()) for pem in chain]
    except ValueError:
        log.warning("unreadable client certificate chain in the TLS extension")
        return None
    return from_chain(certs)


def from_chain(certs: Sequence[x509.Certificate]) -> Identity | None:
    """The end-entity certificate of a chain (leaf first): the first one that is no proxy."""
    try:
        for cert in certs:
            if not is_proxy(cert):
                return Identity(name_dn(cert.subject), name_dn(cert.issuer))
        # the chain ends in proxies: only the leaf's own names are known
        return from_proxy_headers(name_dn(certs[0].subject), name_dn(certs[0].issuer))
    except DnError:  # an empty name
        return None


def name_dn(name: x509.Name) -> DN:
    """The DN of a certificate's name, component by component, as the certificate holds it."""
    # the type by cryptography's short name or, for any other, its OID: both compare alike
    components = [[(a.rfc4514_attribute_name, _text(a.value)) for a in rdn] for rdn in name.rdns]
    return DN.of(components)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else "#" + value.hex()


def is_proxy(cert: x509.Certificate) -> bool:
    """An RFC 3820 proxy (proxyCertInfo), or a legacy Globus proxy (CN=proxy or limited proxy)."""
    try:
        cert.extensions.get_extension_for_oid(PROXY_CERT_INFO)
        return True
    except x509.ExtensionNotFound:
        pass
    try:
        subject, issuer = name_dn(cert.subject), name_dn(cert.issuer)
    except DnError:
        return False
    return subject.parent() == issuer and not str(subject.proxy_name()).isdigit()

"""Who is asking: a DN from a trusted reverse proxy's headers, or from our own TLS handshake.

Behind nginx or Apache the proxy verifies the certificate and passes the DNs in headers; they
are believed only when the connection comes from a configured proxy address. When HappyFace
serves TLS itself, `tls.TlsH11Protocol` puts the verified chain into the ASGI scope as the TLS
extension (`scope["extensions"]["tls"]["client_cert_chain"]`, PEM, leaf first).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509

from ...access_model import AccessConfig
from ...dn import DN, DnError
from .groups import Identity

log = logging.getLogger(__name__)

# RFC 3820 proxyCertInfo: the mark of a proxy certificate
PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class HeaderSource:
    """DNs from the headers of a trusted reverse proxy."""

    def __init__(self, config: AccessConfig) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in config.trusted_proxies
        )
        self.config = config

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
        try:
            issuer_text = headers.get(config.issuer_header.lower(), "").strip()
            return from_proxy_headers(
                DN.parse(subject), DN.parse(issuer_text) if issuer_text else None
            )
        except DnError as exc:
            log.warning("proxy sent an unreadable DN: %s", exc)
            return None


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
    for cert in certs:
        if not is_proxy(cert):
            try:
                return Identity(
                    DN.parse(cert.subject.rfc4514_string()), DN.parse(cert.issuer.rfc4514_string())
                )
            except DnError:
                return None
    # the chain ends in proxies: only the leaf's own names are known
    leaf = certs[0]
    try:
        return from_proxy_headers(
            DN.parse(leaf.subject.rfc4514_string()), DN.parse(leaf.issuer.rfc4514_string())
        )
    except DnError:
        return None


def is_proxy(cert: x509.Certificate) -> bool:
    """An RFC 3820 proxy (proxyCertInfo), or a legacy Globus proxy (CN=proxy or limited proxy)."""
    try:
        cert.extensions.get_extension_for_oid(PROXY_CERT_INFO)
        return True
    except x509.ExtensionNotFound:
        pass
    try:
        subject = DN.parse(cert.subject.rfc4514_string())
        issuer = DN.parse(cert.issuer.rfc4514_string())
    except DnError:
        return False
    return subject.parent() == issuer and not subject.avas[-1][1].isdigit()

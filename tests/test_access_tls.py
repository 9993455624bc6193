"""`happyface serve` speaking TLS itself and asking for client certificates from a hashed CA dir.

A proxy certificate (RFC 3820) acts as the user who made it; a certificate of an unknown CA
does not get through the handshake; no certificate is anonymous.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.nginx import SECRET_TITLE, SERVED, free_port, happyface_serve, write_served_site
from tests.fixtures.pki import Pki

OPEN, RESTRICTED, HIDDEN = (SERVED[m][1] for m in ("open_health", "admin_health", "secret_health"))
# the RFC 4514 spelling here; the fixture's DN file thus also proves the two forms compare
ADMIN_DN = "CN=Test User,O=HappyFace Tests"


@pytest.fixture(scope="module")
def tls_port(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[int]:
    tls = (
        f'[site.web.tls]\ncertfile = "{pki.server_cert}"\nkeyfile = "{pki.server_key}"\n'
        f'ca_dir = "{pki.ca_dir}"\nclient_certs = "optional"\n'
    )
    folder = write_served_site(tmp_path_factory.mktemp("tls"), ADMIN_DN, tls=tls)
    port = free_port()
    with happyface_serve(folder, port):
        yield port


def fetch(pki: Pki, port: int, *cert: Path, headers: dict[str, str] | None = None) -> str:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    if cert:
        context.load_cert_chain(*(str(p) for p in cert))
    with httpx.Client(verify=context, timeout=20) as c:
        answer = c.get(f"https://127.0.0.1:{port}/category/host", headers=headers or {})
    assert answer.status_code == 200, answer.text[:300]
    return answer.text


def test_the_user_certificate_sees_everything(tls_port: int, pki: Pki) -> None:
    text = fetch(pki, tls_port, pki.client_cert, pki.client_key)
    assert OPEN in text and RESTRICTED in text and HIDDEN in text


def test_a_proxy_certificate_acts_as_its_user(tls_port: int, pki: Pki) -> None:
    text = fetch(pki, tls_port, pki.proxy)
    assert RESTRICTED in text and HIDDEN in text


def test_without_a_certificate_restricted_is_a_note_and_hidden_absent(
    tls_port: int, pki: Pki
) -> None:
    text = fetch(pki, tls_port)
    assert OPEN in text and "Restricted: log in" in text
    assert RESTRICTED not in text and HIDDEN not in text and SECRET_TITLE not in text


def test_dn_headers_are_ignored_without_a_trusted_proxy(tls_port: int, pki: Pki) -> None:
    """The site trusts 127.0.0.1 as a proxy, but never over its own TLS from elsewhere."""
    forged = {"X-SSL-Client-S-DN": ADMIN_DN, "X-SSL-Client-Verify": "SUCCESS"}
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    transport = httpx.HTTPTransport(verify=context, local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=20) as c:
        text = c.get(f"https://127.0.0.1:{tls_port}/category/host", headers=forged).text
    assert RESTRICTED not in text and HIDDEN not in text


def test_a_certificate_of_an_unknown_ca_fails_the_handshake(tls_port: int, pki: Pki) -> None:
    with pytest.raises(httpx.TransportError):
        fetch(pki, tls_port, pki.stranger_cert, pki.stranger_key)

"""Access behind a real nginx that verifies client certificates, in front of `happyface serve`.

The admin is listed in a DN file in the one-line form (`/O=.../CN=...`) while nginx sends the
RFC 4514 form: they must match. A certificate ending in the multi-valued RDN `OU=KIT+CN=Ada
Admin` and one ending in `OU=KIT` and `CN=Ada Admin` are different people. The certificates
come from tests/fixtures/pki.py.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from cryptography import x509

from happyface.dn import DN
from happyface.web.access.identity import name_dn
from tests.fixtures.nginx import (
    SECRET_TITLE,
    SERVED,
    free_port,
    happyface_serve,
    nginx,
    write_served_site,
)
from tests.fixtures.pki import Pki

ADMIN_DN = "/O=HappyFace Tests/CN=Test User"
OPEN, RESTRICTED, HIDDEN = (SERVED[m][1] for m in ("open_health", "admin_health", "secret_health"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[tuple[int, int]]:
    """(nginx port, happyface port) of the running pair."""
    folder = write_served_site(tmp_path_factory.mktemp("served"), ADMIN_DN)
    port = free_port()
    with happyface_serve(folder, port), nginx(pki, port) as front:
        yield front, port


def client(pki: Pki, cert: tuple[Path, ...] = ()) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    if cert:
        context.load_cert_chain(*(str(p) for p in cert))
    return httpx.Client(verify=context, timeout=20)


def category(pki: Pki, port: int, *cert: Path) -> httpx.Response:
    with client(pki, cert) as c:
        return c.get(f"https://127.0.0.1:{port}/category/host")


def assert_anonymous_view(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text[:500]
    assert OPEN in answer.text and "Restricted: log in" in answer.text
    for secret in (RESTRICTED, HIDDEN, SECRET_TITLE, "secret_health"):
        assert secret not in answer.text


def test_the_admin_certificate_sees_restricted_and_hidden(
    served: tuple[int, int], pki: Pki
) -> None:
    answer = category(pki, served[0], pki.client_cert, pki.client_key)
    assert answer.status_code == 200
    assert OPEN in answer.text and RESTRICTED in answer.text and HIDDEN in answer.text
    assert "private" in answer.headers.get("cache-control", "private")


def test_anonymous_and_unknown_ca_see_the_restricted_note_only(
    served: tuple[int, int], pki: Pki
) -> None:
    assert_anonymous_view(category(pki, served[0]))
    assert_anonymous_view(category(pki, served[0], pki.stranger_cert, pki.stranger_key))


def test_a_proxy_certificate_is_refused_by_nginx_not_mistaken(
    served: tuple[int, int], pki: Pki
) -> None:
    """OpenSSL 1.1+ verifies RFC 3820 proxies only when the program asks; nginx does not.

    nginx answers 400 for a proxy: the user is never mistaken for someone else. Proxy users
    need HappyFace's own TLS (test_access_tls.py), where the proxy acts as its user.
    """
    answer = category(pki, served[0], pki.proxy)
    assert answer.status_code == 400
    assert RESTRICTED not in answer.text and HIDDEN not in answer.text


def test_dn_headers_from_a_browser_are_overwritten_by_nginx(
    served: tuple[int, int], pki: Pki
) -> None:
    forged = {"X-SSL-Client-S-DN": "CN=Test User,O=HappyFace Tests",
              "X-SSL-Client-Verify": "SUCCESS"}  # fmt: skip
    with client(pki) as c:
        assert_anonymous_view(c.get(f"https://127.0.0.1:{served[0]}/category/host", headers=forged))


def test_dn_headers_sent_to_happyface_directly_are_ignored(served: tuple[int, int]) -> None:
    """Only 127.0.0.1 (nginx's proxy_bind) is trusted; another loopback address is not."""
    forged = {"X-SSL-Client-S-DN": ADMIN_DN, "X-SSL-Client-Verify": "SUCCESS"}
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=20) as c:
        answer = c.get(f"http://127.0.0.1:{served[1]}/category/host", headers=forged)
    assert_anonymous_view(answer)
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=20) as c:
        data = c.get(f"http://127.0.0.1:{served[1]}/api/v1/status", headers=forged).text
    assert HIDDEN not in data and "secret_health" not in data and RESTRICTED not in data


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 and keeps the DN headers nginx passed on."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.headers["X-SSL-Client-S-DN"], self.headers["X-SSL-Client-I-DN"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def recorded(pki: Pki) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """nginx in front of a server that records the DN headers: (nginx port, headers seen)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with nginx(pki, server.server_address[1]) as front:
            yield front, _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("cert", "sent"),
    [("multi", "CN=Ada Admin+OU=KIT,O=HappyFace Tests"),
     ("flat", "CN=Ada Admin,OU=KIT,O=HappyFace Tests")],
)  # fmt: skip
def test_nginx_sends_a_multi_valued_rdn_joined_by_a_plus(
    recorded: tuple[int, list[tuple[str, str]]], pki: Pki, cert: str, sent: str
) -> None:
    """$ssl_client_s_dn is the RFC 2253 form: the pairs of one RDN joined by `+`."""
    port, seen = recorded
    seen.clear()
    files = (getattr(pki, f"{cert}_cert"), getattr(pki, f"{cert}_key"))
    with client(pki, files) as c:
        assert c.get(f"https://127.0.0.1:{port}/").status_code == 200
    assert seen == [(sent, "CN=HappyFace Test CA,O=HappyFace Tests")]
    chain = x509.load_pem_x509_certificates(files[0].read_bytes())
    assert DN.parse_header(sent) == name_dn(chain[0].subject)


MULTI = "/O=HappyFace Tests/OU=KIT+CN=Ada Admin"
FLAT = "/O=HappyFace Tests/OU=KIT/CN=Ada Admin"


@pytest.fixture(scope="module")
def ada_site(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[tuple[int, Path]]:
    """(nginx port, site folder) of a pair whose admins.dns each test writes itself."""
    folder = write_served_site(tmp_path_factory.mktemp("ada"), FLAT)
    port = free_port()
    with happyface_serve(folder, port), nginx(pki, port) as front:
        yield front, folder


@pytest.mark.parametrize(
    ("listed", "admitted", "refused"), [(FLAT, "flat", "multi"), (MULTI, "multi", "flat")]
)
def test_a_multi_valued_rdn_matches_only_a_dn_file_entry_with_a_plus(
    ada_site: tuple[int, Path], pki: Pki, listed: str, admitted: str, refused: str
) -> None:
    port, folder = ada_site
    dns = folder / "admins.dns"
    dns.write_text(f"{listed}\n")
    os.utime(dns, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new stamp, re-read at once
    admin = category(pki, port, getattr(pki, f"{admitted}_cert"), getattr(pki, f"{admitted}_key"))
    assert admin.status_code == 200 and HIDDEN in admin.text and RESTRICTED in admin.text
    assert_anonymous_view(
        category(pki, port, getattr(pki, f"{refused}_cert"), getattr(pki, f"{refused}_key"))
    )

"""Fetching: deadlines, size caps, HTTP errors, redirects, local files, credentials and TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from happyface import FetchError, RawInput, SecretRef, Source
from happyface.acquisition import netio
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.fetch import _Progress as Progress
from happyface.acquisition.reasons import describe_transport_error
from tests.fixtures.pki import Pki, subject_hash
from tests.fixtures.sources import GARBAGE, PAYLOAD, MisbehavingServer

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def fetch(url: str, **settings: Any) -> RawInput:
    async with Fetcher() as fetcher:
        return await fetcher.fetch(Source(url=url, **settings), NOW)


async def failure(url: str, **settings: Any) -> str:
    with pytest.raises(FetchError) as caught:
        await fetch(url, **settings)
    return str(caught.value)


async def closed(server: MisbehavingServer, within: float = 2.0) -> bool:
    """True once the server has seen every connection end."""
    deadline = time.monotonic() + within
    while server.open_connections and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return server.open_connections == 0


def only_this_task() -> bool:
    return asyncio.all_tasks() == {asyncio.current_task()}


# -- answers -----------------------------------------------------------------------------------


async def test_payload_arrives_with_its_metadata(misbehaving_server: MisbehavingServer) -> None:
    url = misbehaving_server.url("/payload")
    raw = await fetch(url)
    assert raw.content == PAYLOAD
    assert (raw.url, raw.status_code, raw.fetched_at) == (url, 200, NOW)
    assert raw.content_type == "application/json"
    assert raw.json() == {"hello": "happyface"}


async def test_user_agent_and_extra_headers_are_sent(misbehaving_server: MisbehavingServer) -> None:
    raw = await fetch(misbehaving_server.url("/headers"), headers={"X-Site": "GridKa"})
    sent = raw.json()
    assert sent["user-agent"].startswith("HappyFace/")
    assert sent["x-site"] == "GridKa"
    assert "gzip" in sent["accept-encoding"]  # a compressed answer is welcome, and decoded


async def test_connections_are_made_on_asyncio_sockets(
    misbehaving_server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pools connect through acquisition/netio.py, not through httpx's own backend."""
    opened: list[tuple[str, int]] = []
    real_open = netio._open

    async def counted(host: str, port: int, *args: Any) -> netio.AsyncioStream:
        opened.append((host, port))
        return await real_open(host, port, *args)

    monkeypatch.setattr(netio, "_open", counted)
    assert (await fetch(misbehaving_server.url("/payload"))).content == PAYLOAD
    assert opened == [("127.0.0.1", misbehaving_server.port)]


async def test_only_host_names_are_looked_up(
    misbehaving_server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An address literal connects without a lookup (the loop's goes through a thread)."""
    loop = asyncio.get_running_loop()
    asked: list[str] = []
    real_lookup = loop.getaddrinfo

    async def counted(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return await real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", counted)
    assert (await fetch(misbehaving_server.url("/payload"))).content == PAYLOAD
    assert asked == []
    by_name = f"http://localhost:{misbehaving_server.port}/payload"
    assert (await fetch(by_name)).content == PAYLOAD
    assert asked == ["localhost"]


async def _recording_proxy(requests: list[bytes]) -> asyncio.Server:
    """A loopback HTTP proxy that records each request line and answers it itself."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head.split(b"\r\n", 1)[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia proxy")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_proxy_of_the_environment_is_used(
    misbehaving_server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[bytes] = []
    async with await _recording_proxy(requests) as proxy:
        port = proxy.sockets[0].getsockname()[1]
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        assert (await fetch("http://127.0.0.2:9/data")).content == b"via proxy"
        assert requests == [b"GET http://127.0.0.2:9/data HTTP/1.1"]
        # a host named in no_proxy is asked directly
        assert (await fetch(misbehaving_server.url("/payload"))).content == PAYLOAD
        assert len(requests) == 1


@pytest.mark.parametrize("path", ["/empty", "/garbage"])
async def test_empty_and_garbage_bodies_are_no_fetch_error(
    misbehaving_server: MisbehavingServer, path: str
) -> None:
    raw = await fetch(misbehaving_server.url(path))
    assert raw.content == (b"" if path == "/empty" else GARBAGE)


@pytest.mark.parametrize(
    ("code", "words"), [(500, "Internal Server Error"), (404, "Not Found"), (503, "Unavailable")]
)
async def test_http_error_status(
    misbehaving_server: MisbehavingServer, code: int, words: str
) -> None:
    url = misbehaving_server.url(f"/status/{code}")
    message = await failure(url)
    assert message.startswith(f"HTTP {code} ") and words in message and message.endswith(url)


async def test_not_http_at_all(misbehaving_server: MisbehavingServer) -> None:
    assert "no valid HTTP answer" in await failure(misbehaving_server.url("/not-http"))


async def test_truncated_answer_is_cut_off(misbehaving_server: MisbehavingServer) -> None:
    message = await failure(misbehaving_server.url("/truncated?announce=100&send=10"))
    assert "was cut off after 10 bytes of the announced 100" in message


async def test_connection_refused_is_readable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = await failure(f"http://127.0.0.1:{port}/")
    assert message == f"cannot connect to http://127.0.0.1:{port}/: connection refused " + (
        "(is the service running and the port right?)"
    )


async def test_unknown_host_is_readable() -> None:
    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("lookup failed") from socket.gaierror(-2, "Name not known")

    async with Fetcher(transport=httpx.MockTransport(no_dns)) as fetcher:
        with pytest.raises(FetchError, match="cannot be resolved"):
            await fetcher.fetch(Source(url="https://batch.example.org/jobs"), NOW)


# -- deadline and size -------------------------------------------------------------------------


async def test_slow_answer_within_deadline(misbehaving_server: MisbehavingServer) -> None:
    raw = await fetch(misbehaving_server.url("/slow?seconds=0.3"), timeout=2)
    assert raw.content == PAYLOAD and raw.elapsed >= 0.3


async def test_slow_answer_past_deadline(misbehaving_server: MisbehavingServer) -> None:
    url = misbehaving_server.url("/slow?seconds=5")
    message = await failure(url, timeout=0.5)
    assert message == f"no complete answer from {url} within 0.5 s (0 bytes received)"


@pytest.mark.parametrize("path", ["/hang", "/drip?bytes=100&interval=1"])
async def test_deadline_ends_hanging_and_dripping_servers(
    misbehaving_server: MisbehavingServer, path: str
) -> None:
    started = time.monotonic()
    message = await failure(misbehaving_server.url(path), timeout=2.5)
    assert 2.5 <= time.monotonic() - started < 3.0
    assert "within 2.5 s" in message
    if path.startswith("/drip"):
        assert "(3 bytes received)" in message or "(2 bytes received)" in message
    assert only_this_task()
    assert await closed(misbehaving_server)


async def test_too_large_by_content_length_fails_early(
    misbehaving_server: MisbehavingServer,
) -> None:
    url = misbehaving_server.url("/big?bytes=5000000")
    message = await failure(url, max_bytes=1000)
    assert (
        message
        == f"answer from {url} is larger than the limit of 1000 bytes (Content-Length 5000000)"
    )
    assert await closed(misbehaving_server)


async def test_too_large_while_streaming(misbehaving_server: MisbehavingServer) -> None:
    url = misbehaving_server.url("/big?bytes=5000000&length=0")
    message = await failure(url, max_bytes=1000)
    assert message == f"answer from {url} is larger than the limit of 1000 bytes"


async def test_exactly_the_limit_passes(misbehaving_server: MisbehavingServer) -> None:
    raw = await fetch(misbehaving_server.url("/big?bytes=1000&length=0"), max_bytes=1000)
    assert len(raw.content) == 1000


# -- redirects ---------------------------------------------------------------------------------


async def test_five_redirects_are_followed(misbehaving_server: MisbehavingServer) -> None:
    raw = await fetch(misbehaving_server.url("/redirect/5"))
    assert raw.content == PAYLOAD


@pytest.mark.parametrize("path", ["/redirect/6", "/loop"])
async def test_too_many_redirects(misbehaving_server: MisbehavingServer, path: str) -> None:
    assert "too many redirects (more than 5)" in await failure(misbehaving_server.url(path))


async def test_redirect_to_other_scheme_refused(misbehaving_server: MisbehavingServer) -> None:
    message = await failure(misbehaving_server.url("/redirect-to?url=ftp://127.0.0.1/x"))
    assert "refused: only http and https are followed" in message


async def test_credentials_stay_with_their_host(
    misbehaving_server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "s3cret-token")
    elsewhere = f"http://localhost:{misbehaving_server.port}/headers"
    token = SecretRef(env="HF_TOKEN")
    here = await fetch(misbehaving_server.url("/headers"), token=token)
    there = await fetch(misbehaving_server.url(f"/redirect-to?url={elsewhere}"), token=token)
    assert here.json()["authorization"] == "Bearer s3cret-token"
    assert "authorization" not in there.json()


# -- credentials in headers --------------------------------------------------------------------


async def test_basic_auth(misbehaving_server: MisbehavingServer, tmp_path: Path) -> None:
    (tmp_path / "password").write_text("pa55word\n")
    secret = SecretRef(file=tmp_path / "password")
    raw = await fetch(misbehaving_server.url("/headers"), username="monitor", password=secret)
    assert raw.json()["authorization"] == "Basic bW9uaXRvcjpwYTU1d29yZA=="


async def test_secrets_never_in_messages(
    misbehaving_server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "s3cret-token")
    in_url = misbehaving_server.url("/status/401").replace("//", "//user:hunter2@")
    message = await failure(in_url, token=SecretRef(env="HF_TOKEN"))
    assert message.startswith("HTTP 401 Unauthorized from http://127.0.0.1:")
    assert "hunter2" not in message and "s3cret" not in message and "user" not in message


async def test_missing_secret_is_named_not_shown(misbehaving_server: MisbehavingServer) -> None:
    message = await failure(misbehaving_server.url("/payload"), token=SecretRef(env="HF_NO_SUCH"))
    assert "'HF_NO_SUCH' is not set" in message


# -- many sources ------------------------------------------------------------------------------


async def test_fetch_all_fetches_each_distinct_source_once_and_concurrently(
    misbehaving_server: MisbehavingServer,
) -> None:
    slow = [Source(url=misbehaving_server.url(f"/slow?seconds=1&n={i}")) for i in range(5)]
    broken = Source(url=misbehaving_server.url("/status/500"))
    sources = [*slow, *slow, broken, broken]
    started = time.monotonic()
    async with Fetcher() as fetcher:
        answers = await fetcher.fetch_all(sources, NOW)
    assert time.monotonic() - started < 1.8
    assert set(answers) == {s.identity() for s in sources} and len(answers) == 6
    assert all(isinstance(answers[s.identity()], RawInput) for s in slow)
    assert isinstance(answers[broken.identity()], FetchError)
    assert len(misbehaving_server.requests) == 6


async def test_fetch_all_survives_unexpected_errors() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    source = Source(url="https://batch.example.org/jobs")
    async with Fetcher(transport=httpx.MockTransport(explode)) as fetcher:
        answers = await fetcher.fetch_all([source], NOW)
    assert "failed unexpectedly" in str(answers[source.identity()])


async def test_mock_transport_replaces_the_network() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<jobinfo/>", headers={"Content-Type": "text/xml"})

    async with Fetcher(transport=httpx.MockTransport(answer)) as fetcher:
        raw = await fetcher.fetch(Source(url="https://batch.example.org/jobs"), NOW)
    assert (raw.content, raw.content_type) == (b"<jobinfo/>", "text/xml")


# -- local files -------------------------------------------------------------------------------


async def test_local_files_relative_and_file_url(tmp_path: Path) -> None:
    (tmp_path / "jobs.xml").write_bytes(b"<jobinfo/>")
    async with Fetcher(base_dir=tmp_path) as fetcher:
        relative = await fetcher.fetch(Source(url="jobs.xml"), NOW)
        absolute = await fetcher.fetch(Source(url=f"file://{tmp_path}/jobs.xml"), NOW)
    assert relative.content == absolute.content == b"<jobinfo/>"
    assert relative.content_type == "application/xml"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing.xml", "No such file"),
        (".", "Is a directory"),
        ("big.bin", "larger than the limit"),
    ],
)
async def test_local_file_failures(tmp_path: Path, name: str, words: str) -> None:
    (tmp_path / "big.bin").write_bytes(b"0" * 2000)
    async with Fetcher(base_dir=tmp_path) as fetcher:
        with pytest.raises(FetchError, match=words):
            await fetcher.fetch(Source(url=name, max_bytes=1000), NOW)


# -- TLS and client certificates ---------------------------------------------------------------


async def test_client_certificate_and_ca_file(tls_server: MisbehavingServer, pki: Pki) -> None:
    url = tls_server.url("/payload")
    raw = await fetch(url, cert=pki.client_cert, key=pki.client_key, ca_file=pki.ca_file)
    assert raw.content == PAYLOAD


async def test_grid_proxy_and_hashed_ca_dir(tls_server: MisbehavingServer, pki: Pki) -> None:
    raw = await fetch(tls_server.url("/payload"), proxy=pki.proxy, ca_dir=pki.ca_dir)
    assert raw.content == PAYLOAD


async def test_no_client_certificate(tls_server: MisbehavingServer, pki: Pki) -> None:
    message = await failure(tls_server.url("/payload"), ca_file=pki.ca_file)
    assert message.endswith("perhaps it requires a client certificate")


async def test_unknown_client_certificate(tls_server: MisbehavingServer, pki: Pki) -> None:
    message = await failure(
        tls_server.url("/payload"),
        cert=pki.stranger_cert,
        key=pki.stranger_key,
        ca_file=pki.ca_file,
    )
    assert message.endswith("perhaps it does not accept our client certificate")


async def test_unknown_server_is_not_trusted(tls_server: MisbehavingServer, pki: Pki) -> None:
    message = await failure(tls_server.url("/payload"), proxy=pki.proxy)
    assert "server certificate cannot be verified" in message


async def test_https_to_http_redirect_refused(
    tls_server: MisbehavingServer, misbehaving_server: MisbehavingServer, pki: Pki
) -> None:
    plain = misbehaving_server.url("/payload")
    url = tls_server.url(f"/redirect-to?url={plain}")
    message = await failure(url, proxy=pki.proxy, ca_file=pki.ca_file)
    assert message.endswith("refused: it would leave https for unencrypted http")


async def test_unusable_credential_files(tmp_path: Path, pki: Pki) -> None:
    (tmp_path / "broken.pem").write_text("not a certificate")
    missing = await failure("https://127.0.0.1:1/", proxy=tmp_path / "missing.pem")
    broken = await failure("https://127.0.0.1:1/", cert=tmp_path / "broken.pem")
    assert "does not exist" in missing and "cannot be used" in broken


async def test_one_client_per_tls_setting(tls_server: MisbehavingServer, pki: Pki) -> None:
    by_cert = {"cert": pki.client_cert, "key": pki.client_key, "ca_file": pki.ca_file}
    by_proxy = {"proxy": pki.proxy, "ca_dir": pki.ca_dir}
    sources = [
        Source(url=tls_server.url(f"/payload?n={n}"), **settings)
        for n in range(3)
        for settings in (by_cert, by_proxy)
    ]
    async with Fetcher() as fetcher:
        answers = await fetcher.fetch_all(sources, NOW)
        assert all(isinstance(a, RawInput) for a in answers.values())
        # pools are per TLS setting and host, never per source; the SSL context, whose CA
        # loading is the slow part, is made once per setting
        settings = {key[0] for key in fetcher._transports}
        assert len(settings) == 2
        assert len(fetcher._contexts) == 2
        assert len(fetcher._transports) == 2


def test_subject_hash_matches_openssl(pki: Pki) -> None:
    ca = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
    command = ["openssl", "x509", "-hash", "-noout", "-in", str(pki.ca_file)]
    assert (
        subject_hash(ca) == subprocess.run(command, capture_output=True, text=True).stdout.strip()
    )


def test_server_context_is_strict(pki: Pki) -> None:
    from tests.fixtures.pki import client_cert_context

    assert client_cert_context(pki).verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (
            "TLSV13_ALERT_CERTIFICATE_REQUIRED",
            "the server requires a client certificate and got none",
        ),
        (
            "TLSV1_ALERT_UNKNOWN_CA",
            "the server does not trust the issuer of our client certificate",
        ),
        ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "the server says our client certificate has expired"),
    ],
)
def test_tls_alerts_in_words(reason: str, words: str) -> None:
    """Servers such as Apache and nginx send an alert saying why; asyncio's just hangs up."""
    alert = ssl.SSLError(1, f"[SSL: {reason}]")
    alert.reason = reason
    try:
        raise httpx.ReadError("") from alert
    except httpx.ReadError as exc:
        message = describe_transport_error(exc, "https://se.example.org/", Progress())
    assert message == f"TLS with https://se.example.org/ failed: {words}"


async def test_a_tls_connection_closed_lets_go_of_its_socket_at_once(
    tls_server: MisbehavingServer, pki: Pki
) -> None:
    """A graceful TLS close waits up to 30 s for the peer's close_notify before the socket
    goes: a process (or an event loop) that ends first leaves it open. It is aborted."""
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    plain = await netio.AsyncioBackend().connect_tcp("127.0.0.1", tls_server.port, timeout=5)
    stream = await plain.start_tls(context, "127.0.0.1", timeout=5)
    sock = stream.get_extra_info("socket")
    assert sock.fileno() >= 0
    await stream.aclose()
    for _ in range(3):  # the loop's next turns, not a round trip to the peer
        await asyncio.sleep(0)
    assert sock.fileno() == -1

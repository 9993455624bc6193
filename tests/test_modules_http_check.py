"""The `http_check` module type, and the two fetcher features it rests on: error statuses passed
on when a source accepts them, and the server certificate's expiry in the raw input."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import ExtractError, FetchError, RawInput, Result, Rule, Source, Status
from happyface.acquisition.fetch import Fetcher
from happyface.modules.http_check import HttpCheck
from happyface.plugins import Registry
from happyface.rules import combined, rate
from happyface.units import humanise
from tests.fixtures.modules import NOW, raw
from tests.fixtures.pki import Pki
from tests.fixtures.sources import PAYLOAD, MisbehavingServer


def check(
    content: bytes = b"ok",
    status_code: int = 200,
    elapsed: float = 0.1,
    expires_in_days: float | None = None,
    **settings_: object,
) -> Result:
    not_after = NOW + timedelta(days=expires_in_days) if expires_in_days is not None else None
    body = dataclasses.replace(
        raw(content), status_code=status_code, elapsed=elapsed, tls_not_after=not_after
    )
    module = HttpCheck(HttpCheck.Settings(**settings_), {})
    return module.extract({"main": body}, NOW)


def rated_check(*args: Any, rules: tuple[Rule, ...] = (), **kwargs: Any) -> tuple[Status, str]:
    """The check's status and message after the default rules and `rules`, as a site's."""
    return rate(
        check(*args, **kwargs),
        combined(rules, HttpCheck.default_rules, True, HttpCheck.metric_units),
    )


def test_registered_through_the_entry_point():
    assert Registry().get("http_check") is HttpCheck


def test_a_healthy_endpoint_is_left_to_the_rules():
    result = check(elapsed=0.25, expires_in_days=200)
    assert result.status is None
    assert rated_check(elapsed=0.25, expires_in_days=200)[0] is Status.HAPPY
    assert result.metrics == {"up": 1.0, "status_code": 200.0, "latency": 0.25, "cert_days": 200.0}
    assert result.message == "HTTP 200 in 0.25 s; certificate valid 200 more days"
    assert dict(result.tables[0].rows)["status code"] == 200


def test_an_unexpected_status_is_unhappy_not_an_error():
    result = check(b"<h1>Service Unavailable</h1>", status_code=503)
    assert result.metrics["up"] == 0 and result.metrics["status_code"] == 503
    status, message = rated_check(b"<h1>Service Unavailable</h1>", status_code=503)
    assert status is Status.UNHAPPY
    assert message == (
        "the endpoint answered with an unexpected HTTP status: HTTP 503, expected 200, in 0.10 s"
    )
    assert rated_check(status_code=404, expected_status=[200, 404])[0] is Status.HAPPY


@pytest.mark.parametrize(
    ("elapsed", "status"), [(1.0, Status.HAPPY), (3.0, Status.NEUTRAL), (12.0, Status.UNHAPPY)]
)
def test_latency_thresholds(elapsed, status):
    assert rated_check(elapsed=elapsed)[0] is status


def test_latency_thresholds_are_a_rule_a_site_overrides():
    status, message = rated_check(elapsed=1.7, rules=(Rule(metric="latency", warning=1.5),))
    assert status is Status.NEUTRAL and message == "latency is 1.7 s, above the limit of 1.5 s"


@pytest.mark.parametrize(
    ("days", "status"),
    [(30, Status.HAPPY), (10, Status.NEUTRAL), (2, Status.UNHAPPY), (-1, Status.UNHAPPY)],
)
def test_certificate_days_thresholds(days, status):
    rating, message = rated_check(expires_in_days=days)
    assert rating is status
    if status is not Status.HAPPY:
        assert f"the TLS certificate has {humanise(days, 'days')} left" in message


def test_content_regex():
    ok = check(b"<title>dCache</title> all pools online", content_regex=r"pools\s+online")
    assert ok.metrics["content_found"] == 1
    assert rated_check(b"all pools online", content_regex=r"pools\s+online")[0] is Status.HAPPY
    bad = check(b"<title>maintenance</title>", content_regex=r"pools\s+online")
    assert bad.metrics["content_found"] == 0
    status, message = rated_check(b"<title>maintenance</title>", content_regex=r"pools\s+online")
    assert status is Status.UNHAPPY and "does not contain" in message
    assert "no match for 'pools\\\\s+online'" in message


def test_worst_verdict_wins_and_names_only_its_causes():
    status, message = rated_check(status_code=500, elapsed=3.0)
    assert status is Status.UNHAPPY
    assert message == (
        "the endpoint answered with an unexpected HTTP status: HTTP 500, expected 200, in 3.00 s"
    )


def test_settings_are_checked():
    with pytest.raises(ValueError, match="regular expression"):
        HttpCheck.Settings(content_regex="([")
    with pytest.raises(ValueError, match="between 100 and 599"):
        HttpCheck.Settings(expected_status=[42])


def test_missing_input_is_an_extract_error():
    module = HttpCheck(HttpCheck.Settings(), {})
    with pytest.raises(ExtractError, match="no input named 'main'"):
        module.extract({}, NOW)


def test_its_source_accepts_every_status_and_keeps_credentials(tmp_path):
    configured = Source(url="https://ce.example.org/", ca_file=tmp_path / "ca.pem", timeout=5)
    source = HttpCheck(HttpCheck.Settings(), {"main": configured}).sources()["main"]
    assert source.accept_status == "any" and source.accepts(503)
    assert source.ca_file == tmp_path / "ca.pem" and source.timeout == 5
    assert not configured.accepts(503)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=500), st.integers(100, 599), st.floats(0, 100))
def test_random_answers_give_a_result(body, code, elapsed):
    result = check(body, status_code=code, elapsed=elapsed, content_regex="a+b")
    assert result.metrics["status_code"] == code


# -- the fetcher: accepted error statuses and the peer certificate -----------------------------


async def test_error_status_is_a_fetch_error_unless_accepted(
    misbehaving_server: MisbehavingServer,
) -> None:
    url = misbehaving_server.url("/status/503")
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError, match="HTTP 503"):
            await fetcher.fetch(Source(url=url), NOW)
        with pytest.raises(FetchError, match="HTTP 503"):
            await fetcher.fetch(Source(url=url, accept_status=[404]), NOW)
        answer = await fetcher.fetch(Source(url=url, accept_status=[503]), NOW)
    assert answer.status_code == 503 and answer.content == b"failed on purpose\n"
    assert answer.tls_not_after is None  # plain http has no certificate


def test_accept_status_is_validated():
    with pytest.raises(ValueError, match="between 100 and 599"):
        Source(url="http://127.0.0.1/", accept_status=[1000])
    with pytest.raises(ValueError):
        Source(url="http://127.0.0.1/", accept_status="some")


async def test_peer_certificate_expiry_arrives(tls_server: MisbehavingServer, pki: Pki) -> None:
    credentials = {"cert": pki.client_cert, "key": pki.client_key, "ca_file": pki.ca_file}
    async with Fetcher() as fetcher:
        answer = await fetcher.fetch(Source(url=tls_server.url("/payload"), **credentials), NOW)
    assert answer.content == PAYLOAD
    expected = x509.load_pem_x509_certificate(pki.server_cert.read_bytes()).not_valid_after_utc
    assert answer.tls_not_after == expected


async def test_http_check_through_a_real_fetch(misbehaving_server: MisbehavingServer) -> None:
    configured = {"main": Source(url=misbehaving_server.url("/status/503"))}
    module = HttpCheck(HttpCheck.Settings(), configured)
    now = datetime.now(UTC)
    async with Fetcher() as fetcher:
        inputs: dict[str, RawInput] = {
            name: await fetcher.fetch(source, now) for name, source in module.sources().items()
        }
    result = module.extract(inputs, now)
    assert rate(result, HttpCheck.default_rules)[0] is Status.UNHAPPY
    assert result.metrics["status_code"] == 503
    assert 0 < result.metrics["latency"] < 5

"""The access model held by a real `happyface serve` process, attacked from an untrusted peer.

An in-process test cannot see what the server in front of the app does to a request (uvicorn
once rewrote the client address from `X-Forwarded-For`, letting any peer pose as a trusted
proxy), so these tests start `happyface serve` as sites run it, with its real uvicorn options and
`FORWARDED_ALLOW_IPS=*` in its environment, and walk every route three ways from 127.0.0.2, a
peer that is not in `trusted_proxies`: anonymous, with forged certificate headers, and with the
forged headers plus every forwarding header naming a trusted proxy. Each must see exactly what
an anonymous viewer sees. A request from the trusted proxy itself (127.0.0.1) proves that the
forged headers are the right ones: there they open everything.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from happyface.plugins import Registry
from tests.fixtures.access import (
    ADMIN_DN,
    CONFIG,
    HIDDEN,
    WITHHELD_OPS,
    WITHHELD_QUEUE,
    AccessSite,
    populate_access,
    proxy_headers,
)
from tests.fixtures.nginx import free_port, running
from tests.fixtures.pki import Pki
from tests.test_access_routes import leaks, urls
from tests.test_alarm_visibility import (
    ALARM_CONFIG,
    QUEUE_MARKS,
    SECRET_MARKS,
    detect_every_run,
    mark_alarms,
)

UNTRUSTED = "127.0.0.2"
SECRETS = HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS + SECRET_MARKS + QUEUE_MARKS
TRUSTED_PROXIES = 'trusted_proxies = ["127.0.0.1/32", "10.9.9.9/32"]'
FORWARDING = {
    "X-Forwarded-For": "10.9.9.9, 127.0.0.1",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "127.0.0.1",
    "Forwarded": "for=10.9.9.9;proto=https, for=127.0.0.1",
    "X-Real-IP": "10.9.9.9",
    "X-Client-IP": "127.0.0.1",
}
FORGED = proxy_headers(ADMIN_DN)
WAYS = {"anonymous": {}, "forged": FORGED, "forged+forwarded": {**FORGED, **FORWARDING}}


def served_config(tls: str = "", base: str = CONFIG) -> str:
    """The access test site with real module types, trusting 127.0.0.1 and 10.9.9.9 only."""
    config = base.replace('type = "probe"', 'type = "host_health"')
    config = config.replace('trusted_proxies = ["127.0.0.1/32", "::1"]', TRUSTED_PROXIES)
    config = config.replace('interval = "15m"', 'interval = "15m"\nstale_after = "3650d"')
    assert TRUSTED_PROXIES in config and "probe" not in config
    return config + tls


@contextmanager
def serve(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`happyface serve` as a site starts it, with uvicorn told to believe every forwarder."""
    command = [sys.executable, "-m", "happyface", "-c", str(folder), "serve", "--no-acquire",
               "--port", str(port)]  # fmt: skip
    env = {**os.environ, "FORWARDED_ALLOW_IPS": "*"}
    with running(command, port, folder / "serve.log", env=env) as process:
        yield process


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AccessSite, str]]:
    """The populated site and the base URL of its `serve` process."""
    folder = tmp_path_factory.mktemp("served")
    site = populate_access(folder, served_config(base=ALARM_CONFIG), Registry())
    # the hidden and the restricted module have alarm states, acknowledgements, notifications
    # and downtimes: the alarm routes of the walk have something to leak
    detect_every_run(site)
    mark_alarms(site, datetime.now(UTC))
    port = free_port()
    with serve(folder, port):
        yield site, f"http://127.0.0.1:{port}"
    site.store.close()


def client(local_address: str, **kwargs: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=local_address, **kwargs)
    return httpx.Client(transport=transport, timeout=20)


def walk(site: AccessSite, base: str, method: str, headers: dict[str, str]) -> list[Any]:
    """Every route of the app (as the in-process walk builds them), asked over real HTTP."""
    app = site.app()
    with client(UNTRUSTED) as c:
        return [(u, c.request(method, base + u, headers=headers)) for u in urls(app, site, method)]


@pytest.mark.parametrize("way", list(WAYS))
def test_an_untrusted_peer_sees_only_the_anonymous_view(
    served: tuple[AccessSite, str], way: str
) -> None:
    site, base = served
    answers = walk(site, base, "GET", WAYS[way])
    assert len(answers) > 100
    assert [(u, leaks(u, a, SECRETS)) for u, a in answers if leaks(u, a, SECRETS)] == []
    assert [u for u, a in answers if a.status_code >= 500] == [], "a route crashed"


@pytest.mark.parametrize("way", ["forged", "forged+forwarded"])
def test_forged_posts_from_an_untrusted_peer_change_and_leak_nothing(
    served: tuple[AccessSite, str], way: str
) -> None:
    site, base = served
    answers = walk(site, base, "POST", WAYS[way])
    assert [(u, leaks(u, a, SECRETS)) for u, a in answers if leaks(u, a, SECRETS)] == []
    assert [u for u, a in answers if a.status_code < 400] == []


def test_the_forged_headers_open_everything_from_the_trusted_proxy(
    served: tuple[AccessSite, str],
) -> None:
    """The control: the same headers from 127.0.0.1 are believed, so the walk above means it."""
    _, base = served
    with client("127.0.0.1") as trusted, client(UNTRUSTED) as untrusted:
        hidden = trusted.get(f"{base}/module/secretjobs", headers=FORGED)
        from_untrusted = untrusted.get(f"{base}/module/secretjobs", headers=FORGED)
    assert hidden.status_code == 200 and "SECRET-MESSAGE" in hidden.text
    assert from_untrusted.status_code == 404 and "SECRET" not in from_untrusted.text
    with client("127.0.0.1") as trusted:
        alarms = trusted.get(f"{base}/alarms.json", headers=FORGED).text
        windows = trusted.get(f"{base}/downtimes.json?days=366", headers=FORGED).text
    assert "SECRET-NOTE" in alarms and "SECRET-ACK" in hidden.text
    assert "SECRET-DOWNTIME" in windows


def test_a_forwarded_trusted_address_does_not_make_a_peer_trusted(
    served: tuple[AccessSite, str],
) -> None:
    """The audit's exact request: a proxy address in X-Forwarded-For, from an untrusted peer."""
    _, base = served
    headers = {**FORGED, "X-Forwarded-For": "10.9.9.9"}
    with client(UNTRUSTED) as c:
        answer = c.get(f"{base}/module/secretjobs.json", headers=headers)
    assert answer.status_code == 404
    assert "SECRET" not in answer.text


@pytest.fixture(scope="module")
def served_tls(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[str]:
    tls = (
        f'\n[site.web.tls]\ncertfile = "{pki.server_cert}"\nkeyfile = "{pki.server_key}"\n'
        f'ca_dir = "{pki.ca_dir}"\nclient_certs = "optional"\n'
    )
    folder = tmp_path_factory.mktemp("served-tls")
    config = served_config().replace("[access]", tls + "\n[access]")
    site = populate_access(folder, config, Registry())
    site.store.close()
    port = free_port()
    with serve(folder, port):
        yield f"https://127.0.0.1:{port}"


def test_over_its_own_tls_forwarding_headers_open_nothing(served_tls: str, pki: Pki) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    with client(UNTRUSTED, verify=context) as c:
        answer = c.get(f"{served_tls}/module/secretjobs", headers={**FORGED, **FORWARDING})
        page = c.get(f"{served_tls}/category/batch", headers={**FORGED, **FORWARDING})
    assert answer.status_code == 404 and "SECRET" not in answer.text
    assert page.status_code == 200 and not leaks("/category/batch", page, SECRETS)


PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ANSWERS = ["/", "/category/nope", "/api/v1/status", "/status.xml", "/metrics",
           "/static/chart.js", "/static/favicon.svg", "/plot.json?m=jobs:running",
           "/overview.json", "/archive/1/jobs/main.txt"]  # fmt: skip


def test_every_answer_carries_the_browser_security_headers(
    served: tuple[AccessSite, str],
) -> None:
    _, base = served
    with client("127.0.0.1") as c:
        answers = {path: c.get(base + path) for path in ANSWERS}
    for path, answer in answers.items():
        assert answer.headers.get("x-content-type-options") == "nosniff", path
        assert answer.headers.get("referrer-policy") == "same-origin", path
        assert "strict-transport-security" not in answer.headers, path  # plain HTTP here
    for path in ("/", "/category/nope"):
        assert answers[path].headers["content-security-policy"] == PAGE_POLICY
        assert answers[path].headers["x-frame-options"] == "DENY"
    # an archived input keeps its own stricter policy
    archived = answers["/archive/1/jobs/main.txt"]
    assert archived.status_code == 200, archived.text
    assert "sandbox" in archived.headers["content-security-policy"]
    cookie = answers["/"].headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


def test_over_its_own_tls_it_asks_for_https_and_secure_cookies(served_tls: str, pki: Pki) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    with client(UNTRUSTED, verify=context) as c:
        page = c.get(f"{served_tls}/")
        api = c.get(f"{served_tls}/api/v1/status")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert api.headers["strict-transport-security"] == "max-age=31536000"
    cookie = page.headers["set-cookie"]
    assert {"HttpOnly", "SameSite=Strict", "Secure"} <= {p.strip() for p in cookie.split(";")}

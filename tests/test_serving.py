"""Serving cached answers cheaply, against a real `happyface serve` process.

Entity tags and 304, gzip chosen by `Accept-Encoding` with `Vary`, `Cache-Control` on every
cacheable answer, and the layer that sends recent public answers again: none of them may
hand one viewer's answer to a viewer of another sight, or drop the security headers.
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from happyface import Result, Status
from happyface.config.load import load_site
from happyface.storage import ModuleRecord, open_store
from happyface.web.livetail import Stem, gzip_with_tail, stem_of
from happyface.web.negotiate import accepts_gzip, matches
from tests.fixtures.access import proxy_headers
from tests.fixtures.nginx import SECRET_TITLE, free_port, happyface_serve, write_served_site
from tests.fixtures.prometheus import scraping

ADMIN = "/C=DE/O=GermanGrid/OU=KIT/CN=Ada Admin"
RESTRICTED = "RESTRICTED-MESSAGE"
#: what a browser that has been here before sends: its form-token cookie
BROWSER = {"Cookie": "hf_csrf=test-browser"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A site of an open, a restricted and a hidden module with one run, and its server."""
    folder = write_served_site(tmp_path_factory.mktemp("serving"), ADMIN)
    port = free_port()
    with happyface_serve(folder, port):
        yield folder, f"http://127.0.0.1:{port}"


@pytest.fixture
def web(served: tuple[Path, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[1], timeout=20) as client:
        yield client


def test_an_unchanged_page_answers_304_to_its_entity_tag(web: httpx.Client) -> None:
    page = web.get("/", headers=IDENTITY)
    tag = page.headers["etag"]
    assert page.status_code == 200 and tag.startswith('"')
    # the newest run: kept, but asked for each time; private, as this site restricts some items
    assert page.headers["cache-control"] == "private, no-cache"
    again = web.get("/", headers={**IDENTITY, "If-None-Match": f'"other", W/{tag}'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and again.headers["cache-control"] == "private, no-cache"
    assert "content-type" not in again.headers
    other = web.get("/", headers={**IDENTITY, "If-None-Match": '"not-this-page"'})
    assert other.status_code == 200 and other.content == page.content


def test_gzip_is_sent_to_those_who_accept_it(web: httpx.Client) -> None:
    plain = web.get("/category/host", headers=IDENTITY)
    packed = web.get("/category/host", headers={"Accept-Encoding": "gzip"})
    refused = web.get("/category/host", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.text == plain.text  # httpx undid the gzip
    assert "content-encoding" not in refused.headers
    for answer in (plain, packed, refused):
        assert answer.headers["vary"] == "Accept-Encoding"
    assert packed.headers["etag"] != plain.headers["etag"]  # two representations, two tags
    revalidated = web.get(
        "/category/host",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]},
    )
    assert revalidated.status_code == 304


def test_small_and_binary_answers_are_not_compressed(web: httpx.Client) -> None:
    live = web.get("/live", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in live.headers and "vary" not in live.headers
    png = web.get("/plot.png?m=open_health:status&from=-1d&to=now", headers=IDENTITY)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert "content-encoding" not in png.headers and "etag" in png.headers


def test_plot_json_says_how_to_cache_it(web: httpx.Client) -> None:
    plot = web.get("/plot.json?m=open_health:status&from=-1d&to=now")
    assert plot.status_code == 200 and plot.json()["curves"]
    assert plot.headers["cache-control"] == "private, no-cache"
    again = web.get(
        "/plot.json?m=open_health:status&from=-1d&to=now",
        headers={"If-None-Match": plot.headers["etag"]},
    )
    assert again.status_code == 304


def test_a_cached_page_never_crosses_viewers_of_different_sight(
    served: tuple[Path, str], web: httpx.Client
) -> None:
    """Alternating quickly, within the second answers are sent again, in both orders."""
    admin = httpx.Client(base_url=served[1], timeout=20, headers=proxy_headers(ADMIN))
    with admin:
        for _ in range(3):
            for path in ("/module/admin_health", "/", "/api/v1/status"):
                seen = admin.get(path, headers=BROWSER)
                anonymous = web.get(path, headers=BROWSER)
                assert RESTRICTED in seen.text or SECRET_TITLE in seen.text, path
                assert RESTRICTED not in anonymous.text and SECRET_TITLE not in anonymous.text
                # the admin's tag names a body the anonymous viewer may not have
                tagged = web.get(path, headers={**BROWSER, "If-None-Match": seen.headers["etag"]})
                assert tagged.status_code == 200 and RESTRICTED not in tagged.text
                assert admin.get(path, headers=BROWSER).text == seen.text


def test_answers_sent_again_keep_their_headers_and_cookies(web: httpx.Client) -> None:
    first, second = (web.get("/", headers=BROWSER) for _ in range(2))
    assert second.content == first.content
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert second.headers[header] == first.headers[header]
    assert "set-cookie" not in second.headers
    newcomer = web.get("/", headers=IDENTITY)  # a browser without its cookie gets one
    assert newcomer.headers["set-cookie"].startswith("hf_csrf=")


def test_metrics_come_gzipped_whole_and_their_ages_count_on(web: httpx.Client) -> None:
    """Sent again within the second, /metrics still says how old the run is at each scrape."""
    plain, packed = (
        web.get("/metrics", headers={"Accept-Encoding": coding}) for coding in ("identity", "gzip")
    )
    assert "content-encoding" not in plain.headers
    assert (
        packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    )
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["cache-control"] == "no-store"
    ages = [_run_age(answer.text) for answer in (plain, packed)]  # httpx undid the gzip
    ages += [_run_age(web.get("/metrics", headers={"Accept-Encoding": "gzip"}).text)]
    assert ages[0] < ages[1] < ages[2]  # the clock runs on between requests
    assert packed.text.count("# TYPE") == plain.text.count("# TYPE")


def _run_age(text: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return families["happyface_latest_run_age_seconds"].samples[0].value


def test_a_real_prometheus_scrapes_the_metrics_gzipped(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    """Prometheus asks for gzip: its own reader must take the tail appended to it."""
    with scraping(tmp_path, served[1].removeprefix("http://")) as prometheus:
        query = {"query": 'happyface_module_status{module="open_health"}'}
        answer = httpx.get(f"{prometheus.base_url}/api/v1/query", params=query, timeout=10)
        result = answer.json()["data"]["result"]
        assert [float(r["value"][1]) for r in result] == [Status.HAPPY.score]
        query = {"query": "happyface_latest_run_age_seconds"}
        answer = httpx.get(f"{prometheus.base_url}/api/v1/query", params=query, timeout=10)
        assert float(answer.json()["data"]["result"][0]["value"][1]) > 0


def test_a_new_run_shows_within_two_seconds(served: tuple[Path, str], web: httpx.Client) -> None:
    assert "NEWER-MESSAGE" not in web.get("/category/host", headers=BROWSER).text
    _store_run(served[0], "NEWER-MESSAGE")
    deadline = time.monotonic() + 2.5
    while "NEWER-MESSAGE" not in web.get("/category/host", headers=BROWSER).text:
        assert time.monotonic() < deadline, "the new run did not show"
        time.sleep(0.1)


def _store_run(folder: Path, message: str) -> None:
    site = load_site(folder)
    store = open_store(site.database_url)
    try:
        started = datetime.now(UTC) - timedelta(seconds=30)
        run = store.begin_run(started, "test", site.snapshot)
        assert run is not None
        record = ModuleRecord("open_health", "host", Status.HAPPY, message, Result(message=message))
        store.finish_run(run, [record], {"host": Status.HAPPY}, started + timedelta(seconds=1))
    finally:
        store.close()


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br", True),
        ("GZIP;Q=0.5", True),
        ("*", True),
        ("br", False),
        ("", False),
        ("gzip;q=0, *", False),
        ("*;q=0.5, gzip;q=0", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_if_none_match_compares_weakly_and_knows_the_star() -> None:
    assert matches('"a", W/"b"', '"b"')
    assert matches("*", '"x"')
    assert not matches('"a"', '"b"')
    assert not matches("", '"b"')


def test_gzip_bodies_are_the_same_bytes_each_time() -> None:
    from happyface.web.cache import Rendered

    body = b"<p>status</p>" * 200
    one, two = Rendered(body, "text/html"), Rendered(body, "text/html")
    assert one.gzipped == two.gzipped and one.gzipped is not None
    assert gzip.decompress(one.gzipped) == body and one.etag == two.etag
    assert Rendered(body, "image/png").gzipped is None
    assert Rendered(b"tiny", "text/html").gzipped is None


def test_a_gzip_with_a_tail_is_one_gzip_member_of_the_whole_body() -> None:
    run_part, recent_part = b"happyface_module_status 1.0\n" * 300, b"happyface_up 1.0\n" * 50
    stem = stem_of(run_part).then(recent_part)
    for tail in (b"", b"happyface_stale 0.0\n", bytes(range(256)) * 20):
        packed = gzip_with_tail(stem, tail)
        reader = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one gzip member, then nothing
        assert reader.decompress(packed) == run_part + recent_part + tail
        assert reader.eof and not reader.unused_data
    assert len(gzip_with_tail(stem, b"")) < len(run_part) / 10  # the stem is compressed
    assert gzip.decompress(gzip_with_tail(Stem(), b"tail")) == b"tail"


def test_a_page_with_an_account_link_is_made_once_per_link() -> None:
    from happyface.web.access.account import ACCOUNT_MARK, _filled
    from happyface.web.cache import Rendered

    item = Rendered(b"<nav>" + ACCOUNT_MARK.encode() + b"</nav>" * 300, "text/html")
    ada, bob = (_filled(item, f"<a>{name}</a>") for name in ("Ada", "Bob"))
    assert b"<a>Ada</a>" in ada.body and b"Bob" not in ada.body and b"<a>Bob</a>" in bob.body
    assert _filled(item, "<a>Ada</a>") is ada  # not made again, nor its tag and gzip body
    assert ada.gzipped is not None and gzip.decompress(ada.gzipped) == ada.body
    assert ada.etag != bob.etag

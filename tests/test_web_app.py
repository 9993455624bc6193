"""The app around the pages: bad parameters, storage failures, caching, background tasks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from happyface.errors import StorageError
from happyface.web import create_app
from happyface.web.cache import PageCache, Rendered
from tests.fixtures.web import INTERVAL, NOW, Client, WebSite, write_run

GARBAGE = [
    "/?at=not-a-time",
    "/?date=2026-02-30",
    "/?time=25:99",
    "/?date=2026-11-25&s=banana",
    "/?at=2026-11-25T10:00Z&date=2026-11-25",
    "/category/batch?s=99999:00",
    "/module/jobs?from=-1d&to=-2d",
    "/module/jobs?from=-20000d",
    "/module/jobs?page=-1",
    "/plot?m=jobs:running&from=yesterday",
    "/?at=" + "9" * 5000,
    "/?at=0001-01-01T00:00Z",
    "/?date=%00%ff",
    "/category/batch?at=2026-11-25T10:00Z%27%3B--",
]


@pytest.mark.parametrize("url", GARBAGE)
def test_garbage_parameters_give_a_friendly_400(web_client: Client, url: str) -> None:
    answer = web_client.get(url)
    assert answer.status_code == 400, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "This address has a mistake" in answer.text and "Traceback" not in answer.text


def test_json_endpoints_answer_errors_in_json(web_client: Client) -> None:
    answer = web_client.get("/category/batch.json?at=garbage")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("The parameter at='garbage'")
    assert web_client.get("/category/nope.json").json()["error"]["status"] == 404


class FailingStore:
    """A store whose reads of results fail, as when the database goes away mid-request."""

    def __init__(self, store: Any, failing: set[str]) -> None:
        self._store = store
        self._failing = failing
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):  # the engine, which the alarm marks read through
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name in self._failing:
                raise StorageError("database is locked")
            return method(*args, **kwargs)

        return call


def test_storage_error_gives_a_friendly_503(web_site: WebSite) -> None:
    store = FailingStore(web_site.store, {"results", "latest_run", "metric_names"})
    client = Client(create_app(web_site.site, store))  # type: ignore[arg-type]
    for url in ("/", "/category/batch", "/plot.json?m=jobs:running", "/live"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert "database" in answer.text and "Traceback" not in answer.text


def test_pages_are_cached_per_run(web_fresh: WebSite) -> None:
    store = FailingStore(web_fresh.store, set())
    app = create_app(web_fresh.site, store)  # type: ignore[arg-type]
    app.state.dashboard.now = lambda: NOW
    client = Client(app)
    first = client.get("/category/batch?at=2026-11-25T10:30Z").text
    again = client.get("/category/batch?at=2026-11-25T10:30Z").text
    assert first == again and store.calls["results"] == 1
    client.get("/category/batch")
    client.get("/category/batch")
    assert store.calls["results"] == 2
    # a new run changes the live page; the memory of the newest run lasts a second at most
    write_run(web_fresh.store, web_fresh.site, web_fresh.times[-1] + INTERVAL, 8)
    app.state.dashboard.latest.reset()
    assert "108 jobs running" in client.get("/category/batch").text
    assert store.calls["results"] == 3


def test_page_cache_is_bounded() -> None:
    cache = PageCache(max_entries=3, max_bytes=1000)
    for i in range(5):
        cache.put(i, Rendered(b"x" * 10, "text/plain"))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) is not None
    cache.put("big", Rendered(b"x" * 600, "text/plain"))  # more than a quarter: not kept
    assert cache.get("big") is None


async def test_background_tasks_run_for_the_lifespan(web_site: WebSite) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def scheduler() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = create_app(web_site.site, web_site.store, background=[scheduler])
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(started.wait(), 2)
        assert not cancelled.is_set()
    assert cancelled.is_set()


def test_security_headers_of_the_archive_and_no_internet(web_client: Client) -> None:
    html = web_client.get("/module/jobs").text
    assert "http://" not in html.replace("https://wiki.example.org", "")
    assert '<script src="/static/' in html
    for name in ("style.css", "live.js", "chart.js", "tables.js", "favicon.svg"):
        assert web_client.get(f"/static/{name}").status_code == 200

"""Every URL of the dashboard, built in one place so pages, tests and exports agree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote as _quote
from urllib.parse import urlencode, urlsplit

from ..instants import format_at

Query = Sequence[tuple[str, str]]


@lru_cache(maxsize=8192)
def quote(text: str) -> str:
    """A path segment or anchor, percent-encoded; remembered, as a page quotes every module id."""
    return _quote(text)


def format_step(seconds: float) -> str:
    """The `s=` form of a step: HH:MM as the old dashboard wrote it."""
    minutes = round(seconds / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Urls:
    """Builds the dashboard's URLs under an optional path prefix (a reverse proxy's mount)."""

    def __init__(self, base_url: str = "") -> None:
        self.prefix = urlsplit(base_url).path.rstrip("/") if base_url else ""

    def _build(self, path: str, query: Iterable[tuple[str, str]] = (), anchor: str = "") -> str:
        pairs = [(k, v) for k, v in query if v != ""]
        url = self.prefix + path
        if pairs:
            url += "?" + urlencode(pairs)
        return url + (f"#{quote(anchor)}" if anchor else "")

    @staticmethod
    def _time(at: datetime | None, step: float | None) -> list[tuple[str, str]]:
        query = [("at", format_at(at))] if at is not None else []
        if step is not None:
            query.append(("s", format_step(step)))
        return query

    def overview(self, at: datetime | None = None, step: float | None = None) -> str:
        return self._build("/", self._time(at, step))

    def category(
        self,
        category_id: str,
        at: datetime | None = None,
        step: float | None = None,
        anchor: str = "",
    ) -> str:
        return self._build(f"/category/{quote(category_id)}", self._time(at, step), anchor)

    def module(
        self,
        module_id: str,
        at: datetime | None = None,
        step: float | None = None,
        extra: Query = (),
    ) -> str:
        query = self._time(at, step) + list(extra)
        return self._build(f"/module/{quote(module_id)}", query)

    def source(self, key: str, at: datetime | None = None) -> str:
        """The page of one source: its quality history and the modules reading it."""
        return self._build(f"/source/{quote(key)}", self._time(at, None))

    def page(self, kind: str, ident: str, at: datetime | None, step: float | None) -> str:
        """The URL of a page by kind ("overview", "category", "module"), for time links."""
        if kind == "category":
            return self.category(ident, at, step)
        if kind == "module":
            return self.module(ident, at, step)
        if kind == "matrix":
            return self.matrix(at, step)
        if kind == "source":
            return self.source(ident, at)
        return self.overview(at, step)

    def json_of(self, kind: str, ident: str, at: datetime | None = None) -> str:
        """The JSON rendering of a page: the same view data as the HTML."""
        paths = {
            "overview": "/overview.json",
            "category": f"/category/{quote(ident)}.json",
            "module": f"/module/{quote(ident)}.json",
            "matrix": "/matrix.json",
            "source": f"/source/{quote(ident)}.json",
        }
        return self._build(paths[kind], self._time(at, None))

    def _plot(self, suffix: str, curves: Sequence[str], start: str, end: str) -> str:
        query = [("m", c) for c in curves] + [("from", start), ("to", end)]
        return self._build(f"/plot{suffix}", query)

    def plot(self, curves: Sequence[str], start: str = "", end: str = "") -> str:
        return self._plot("", curves, start, end)

    def plot_json(self, curves: Sequence[str], start: str = "", end: str = "") -> str:
        return self._plot(".json", curves, start, end)

    def plot_png(self, curves: Sequence[str], start: str = "", end: str = "") -> str:
        return self._plot(".png", curves, start, end)

    def plot_svg(self, curves: Sequence[str], start: str = "", end: str = "") -> str:
        return self._plot(".svg", curves, start, end)

    def archive(self, run_id: int, module_id: str, name: str) -> str:
        return self._build(f"/archive/{run_id}/{quote(module_id)}/{quote(name)}")

    def live(self, run_id: int | None) -> str:
        return self._build("/live", [("run", str(run_id))] if run_id is not None else [])

    def static(self, name: str) -> str:
        return self._build(f"/static/{name}")

    def status_xml(self, at: datetime | None = None) -> str:
        """The classic XML export, at a time or live."""
        return self._build("/category", [("action", "getxml"), *self._time(at, None)])

    def api(self, path: str, query: Query = ()) -> str:
        """A URL of the JSON API; `path` is relative to /api/v1, e.g. "/status"."""
        return self._build(f"/api/v1{path}", query)

    def metrics(self) -> str:
        return self._build("/metrics")

    def matrix(self, at: datetime | None = None, step: float | None = None) -> str:
        """The site × category matrix of the instances this site watches."""
        return self._build("/matrix", self._time(at, step))

    def upload(self, name: str) -> str:
        return self._build(f"/upload/{quote(name)}")

    def alarms(self, query: Query = (), json: bool = False) -> str:
        """The alarm states and notification log, filtered by `query` (subject, state, page)."""
        return self._build("/alarms.json" if json else "/alarms", query)

    def downtimes(self, json: bool = False) -> str:
        """Current and upcoming downtimes, with the form to schedule one."""
        return self._build("/downtimes.json" if json else "/downtimes")

    def acknowledge(self) -> str:
        """Where the acknowledgement form posts."""
        return self._build("/alarms/acknowledge")

    def withdraw(self, ack_id: int) -> str:
        return self._build(f"/alarms/acknowledge/{ack_id}/withdraw")

    def cancel_downtime(self, downtime_id: int) -> str:
        return self._build(f"/downtimes/{downtime_id}/cancel")

    def handover(
        self, since: datetime | None = None, until: datetime | None = None, json: bool = False
    ) -> str:
        """The handover digest since `since` (default: the shift's start), as a page or JSON."""
        query = [
            ("since", format_at(since) if since else ""),
            ("until", format_at(until) if until else ""),
        ]
        return self._build("/handover.json" if json else "/handover", query)

    def shift_note(self) -> str:
        """Where the shift note form posts."""
        return self._build("/handover/note")

    def wall(self, json: bool = False) -> str:
        """The wall display: categories and troubled modules in large type, nothing to click."""
        return self._build("/wall.json" if json else "/wall")


def absolute(origin: str, url: str) -> str:
    """`url` (a path built here) made absolute on `origin` ("https://host:port")."""
    return origin.rstrip("/") + url

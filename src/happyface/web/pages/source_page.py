"""The view data of a source's page, `/source/<key>`: its quality over time and its readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...redact import redact_url
from ..errors import not_found
from ..viewdata import fields_of
from .source_data import Curve, SourceInfo, SourceLink, SourceReader, SourceRow, SourceView
from .timemachine import Moment
from .views import ViewContext, frame, modules_of, snapshot_of

if TYPE_CHECKING:
    from ...storage.quality.read import SourceState

#: runs of history a page shows
HISTORY_RUNS = 200
_WIDTH, _HEIGHT = 1000, 60


def source_view(
    ctx: ViewContext, moment: Moment, key: str, params: Mapping[str, str]
) -> SourceView:
    """One source at the shown run: state, last good fetch, readers, history and curves."""
    run = moment.run
    at = None if moment.live else run.started_at
    states = ctx.store.run_sources(run.id)
    state = next((s for s in states if s.key == key), None)
    if state is None:
        raise not_found("source", key, [s.key for s in states])
    snapshot = snapshot_of(ctx, run.id)
    history = ctx.store.source_history(key, run.id, HISTORY_RUNS)
    return SourceView(
        **fields_of(frame(ctx, moment, snapshot, "source", key)),
        source=SourceInfo(
            key=state.key,
            url=redact_url(state.url),
            state=state.state.value,
            word=state.state.word,
            since=state.since,
            message=state.message,
            last_good=state.last_good_at,
            source_time=state.source_time,
            appeared=list(state.appeared),
            disappeared=list(state.disappeared),
        ),
        readers=_readers(ctx, snapshot, state, at),
        history=[_row(h) for h in history],
        latency=_curve([h.latency for h in reversed(history)]),
        size=_curve([None if h.size is None else float(h.size) for h in reversed(history)]),
    )


def module_sources(
    ctx: ViewContext, run_id: int, module_id: str, at: datetime | None
) -> list[SourceLink]:
    """Links to the pages of the sources a module read in a run, with their state."""
    return [
        SourceLink(s.key, s.state.word, s.state.value, ctx.urls.source(s.key, at))
        for s in ctx.store.run_sources(run_id)
        if module_id in s.modules
    ]


def _readers(
    ctx: ViewContext, snapshot: Mapping[str, Any], state: SourceState, at: datetime | None
) -> list[SourceReader]:
    titles = {m["id"]: m.get("title") or m["id"] for m in modules_of(snapshot, None)}
    return [
        SourceReader(m, titles.get(m, m), ctx.urls.module(m, at), m in state.greyed)
        for m in state.modules
    ]


def _row(state: SourceState) -> SourceRow:
    return SourceRow(
        time=state.time,
        state=state.state.value,
        word=state.state.word,
        latency=state.latency,
        size=state.size,
        source_time=state.source_time,
        message=state.message,
    )


def _curve(values: Sequence[float | None]) -> Curve:
    """An SVG polyline of `values` (oldest first) scaled to the chart, gaps left out."""
    known = [v for v in values if v is not None]
    if not known:
        return Curve("", None)
    top = max(known) or 1.0
    step = _WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{_HEIGHT - v / top * (_HEIGHT - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    return Curve(points, max(known))

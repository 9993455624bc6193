"""The overview's source notices: one line per source in trouble, however many modules read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ...quality import Quality
from .source_data import SourceNotice

if TYPE_CHECKING:
    from ...storage.quality.read import SourceState
    from .views import ViewContext


def source_notices(ctx: ViewContext, run_id: int, at: datetime | None) -> list[SourceNotice]:
    """A notice for each source of the run that is not fresh, worst first."""
    states = [s for s in ctx.store.run_sources(run_id) if s.state is not Quality.FRESH]
    order = list(Quality)
    states.sort(key=lambda s: (-order.index(s.state), s.key))
    return [notice(s, ctx.urls.source(s.key, at), ctx.now) for s in states]


def notice(state: SourceState, url: str, now: datetime) -> SourceNotice:
    """One source's notice: "KEY unreachable since 14:05 — 6 modules have no data"."""
    greyed, readers = len(state.greyed), len(state.modules)
    if greyed:
        effect = f"{_modules(greyed)} {'has' if greyed == 1 else 'have'} no data"
    else:
        effect = f"read by {_modules(readers)}"
    since = _clock(state.since, now)
    return SourceNotice(
        key=state.key,
        state=state.state.value,
        word=state.state.word,
        since=since,
        since_iso=state.since.isoformat(),
        message=state.message,
        effect=effect,
        modules=list(state.modules),
        url=url,
        text=f"{state.key} {state.state.word} since {since} — {effect}",
    )


def _modules(count: int) -> str:
    return f"{count} module" if count == 1 else f"{count} modules"


def _clock(moment: datetime, now: datetime) -> str:
    """HH:MM in UTC, with the date when it is not today's (in UTC)."""
    moment = moment.astimezone(UTC)
    if moment.date() == now.astimezone(UTC).date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")

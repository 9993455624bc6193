"""Judging each source of a run: fresh, stale, unreachable, unparseable or format changed.

A source shared by modules is fetched once and judged once. Its modules tell what they made
of it: an extract that could not understand the input makes the source unparseable (or
"format changed" when its structure lost parts the last good document had); the time the
document carries (`Result.source_time`) makes it stale when too old or in the future.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ...errors import FetchError
from ...quality import MAX_PATHS, Quality, SourceReport
from ...sources import RawInput, Source
from ...status import Status
from ...storage import ModuleRecord
from ..fetch import shown_url
from .fingerprint import Fingerprint, appeared_paths, lost_paths


@dataclass(frozen=True)
class Limits:
    """How old (or how far ahead) a source's own time may be before it is stale."""

    max_age: float
    future_tolerance: float


@dataclass
class SourceRead:
    """One distinct source of a run: what came back and which modules read it."""

    key: str
    source: Source
    modules: list[str] = field(default_factory=list)


def judge(
    read: SourceRead,
    fetched: RawInput | FetchError,
    fingerprint: Fingerprint | None,
    last_good: Fingerprint | None,
    records: Mapping[str, ModuleRecord],
    limits: Limits,
    now: datetime,
) -> SourceReport:
    """The source's report for this run, from its fetch, its structure and its modules."""
    url = shown_url(read.source.url)
    readers = [records[m] for m in read.modules if m in records]
    if isinstance(fetched, FetchError):
        return SourceReport(
            read.key, url, Quality.UNREACHABLE, str(fetched), modules=tuple(read.modules)
        )
    same = fingerprint == last_good  # the usual case, and one comparison in C
    changed = last_good is not None and fingerprint is not None and not same
    lost = lost_paths(last_good, fingerprint) if changed and last_good and fingerprint else []
    appeared = (
        appeared_paths(last_good, fingerprint) if changed and last_good and fingerprint else []
    )
    failures = [r for r in readers if r.format_error]
    state, message = _state(failures, lost, readers, read.source, limits, now)
    return SourceReport(
        key=read.key,
        url=url,
        state=state,
        message=message,
        latency=fetched.elapsed,
        size=len(fetched.content),
        source_time=_source_time(readers),
        appeared=tuple(appeared[:MAX_PATHS]),
        disappeared=tuple(lost[:MAX_PATHS]),
        modules=tuple(read.modules),
        read=not failures and bool(readers),
        fingerprinted=fingerprint is not None,
        fingerprint=None if same else fingerprint,
    )


def _state(
    failures: Sequence[ModuleRecord],
    lost: Sequence[str],
    readers: Sequence[ModuleRecord],
    source: Source,
    limits: Limits,
    now: datetime,
) -> tuple[Quality, str]:
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        return (
            Quality.FORMAT_CHANGED,
            f"{len(lost)} part(s) of the last good document are gone: {shown}",
        )
    if failures:
        return Quality.UNPARSEABLE, f"module {failures[0].module_id}: {failures[0].format_error}"
    return _freshness(_source_time(readers), source, limits, now)


def _freshness(
    source_time: datetime | None, source: Source, limits: Limits, now: datetime
) -> tuple[Quality, str]:
    if source_time is None:
        return Quality.FRESH, ""
    max_age = source.max_age if source.max_age is not None else limits.max_age
    age = (now - source_time).total_seconds()
    if age > max_age:
        return Quality.STALE, f"its data is {_span(age)} old, more than max_age ({_span(max_age)})"
    if -age > limits.future_tolerance:
        return Quality.STALE, (
            f"its time lies {_span(-age)} in the future: a clock or time-zone fault at the source"
        )
    return Quality.FRESH, ""


def _source_time(readers: Sequence[ModuleRecord]) -> datetime | None:
    times = [r.result.source_time for r in readers if r.result.source_time is not None]
    return min(times) if times else None


def _span(seconds: float) -> str:
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def greyed(
    records: Sequence[ModuleRecord], reports: Sequence[SourceReport]
) -> tuple[list[ModuleRecord], list[SourceReport]]:
    """The records with each module that has no trustworthy data shown as no data (grey).

    A module whose source is stale, or whose shared source is unreachable, unparseable or
    changed its format (so that the module could not read it), says so with the source's
    notice instead of an error of its own; its own status is kept in the report (the classic
    XML export shows it).
    """
    by_id = {r.module_id: r for r in records}
    kept: list[SourceReport] = []
    for report in reports:
        hit = {m: by_id[m] for m in report.modules if m in by_id and _hit(report, by_id[m])}
        own: dict[str, Status] = {
            m: r.status for m, r in hit.items() if r.status is not Status.NOINFO
        }
        for module_id, record in hit.items():
            by_id[module_id] = _grey(record, report)
        kept.append(replace(report, greyed=own) if own else report)
    return [by_id[r.module_id] for r in records], kept


def _hit(report: SourceReport, record: ModuleRecord) -> bool:
    """Whether the module has no trustworthy data because of this source.

    Stale data is never shown in colour. A failure is said once for the source instead of
    as one error per module; a source read by one module keeps that module's own error.
    """
    if report.state is Quality.STALE:
        return True
    if len(report.modules) < 2:
        return False
    if report.state is Quality.UNREACHABLE:
        return True
    return report.state is not Quality.FRESH and bool(record.format_error)


def _grey(record: ModuleRecord, report: SourceReport) -> ModuleRecord:
    notice = f"No data: source {report.key} is {report.state.word}"
    if report.message:
        notice += f" ({report.message})"
    own = record.error or (record.message if record.status is Status.ERROR else "")
    return replace(record, status=Status.NOINFO, message=notice, error=own)

"""The Store: HappyFace's one door to its database, for the scheduler, the web and alarms."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from ..config.settings import RetentionSettings as Retention
from ..quality import SourceReport
from ..status import Status
from . import changes, curves, lock, periods, read, rollup, shift_notes, write
from .catalogue import Catalogue
from .changes import ChangePoint
from .engine import make_engine, parse_url, translated, upgrade
from .lock import LockHolder, LockInfo
from .periods import Period, Subject
from .points import Points
from .quality import read as quality_read
from .quality.read import SourceState
from .read import MetricsAt
from .records import ModuleRecord, ResultRow, RunInfo, utc
from .retention import cleaned_at
from .retention import cleanup as cleanup_history
from .shift_notes import ShiftNote

T = TypeVar("T")

# Far enough in both directions for "all of history" without special cases.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
END = datetime(9999, 1, 1, tzinfo=UTC)


def open_store(url: str | URL) -> Store:
    """Connect to the database at `url`, creating or upgrading its schema to the newest.

    `url` is e.g. ``sqlite:///var/happyface.db`` or ``postgresql+psycopg://user@host/db``.
    Raises StorageError when the database cannot be reached or upgraded.
    """
    parsed = parse_url(url)
    with translated(parsed, "opening the database"):
        engine = make_engine(parsed)
    try:
        with translated(parsed, "upgrading the schema"):
            upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, parsed)


class Store:
    """Runs, results and metric history of one site; every method is one short transaction."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        # writers take SQLite's write lock at BEGIN: see engine._sqlite_engine
        self._writer = engine.execution_options(happyface_write=True)
        self._url = url
        self._catalogue = Catalogue()

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The engine, for tests and benches that inspect the database itself.

        HappyFace's own parts, also those with tables of their own (alarms), open their
        transactions through `writing` and `read`: one store, one way in.
        """
        return self._engine

    @property
    def dialect(self) -> str:
        """The backend's name: 'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    @contextmanager
    def writing(self, doing: str) -> Iterator[Connection]:
        """One write transaction; a database failure becomes a StorageError saying `doing`."""
        with translated(self._url, doing), self._writer.begin() as conn:
            yield conn

    def read(self, doing: str, query: Callable[[Connection], T]) -> T:
        """`query` on a read connection; a database failure becomes a StorageError."""
        with translated(self._url, doing), self._engine.connect() as conn:
            return query(conn)

    # -- the lock ---------------------------------------------------------------------------

    def acquire_lock(
        self,
        holder: LockHolder | str,
        ttl: float,
        now: datetime,
        replacing: LockInfo | None = None,
    ) -> bool:
        """Take the site's run lock for `ttl` seconds if free, expired, or already `holder`'s.

        `replacing` names a holder proved dead: its lock is taken over at once, if still its.
        """
        with self.writing("taking the run lock") as conn:
            return lock.acquire(conn, LockHolder.named(holder), ttl, now, replacing)

    def lock_info(self) -> LockInfo | None:
        """Who holds the run lock (it may have expired), or None when nobody does."""
        return self.read("reading the run lock", lock.info)

    def renew_lock(self, holder: str, ttl: float, now: datetime) -> bool:
        """Extend `holder`'s lock by `ttl` seconds from `now`; False if it is not theirs."""
        with self.writing("renewing the run lock") as conn:
            return lock.renew(conn, holder, ttl, now)

    def release_lock(self, holder: str) -> None:
        """Give the lock up if `holder` holds it."""
        with self.writing("releasing the run lock") as conn:
            lock.release(conn, holder)

    # -- writing ----------------------------------------------------------------------------

    def begin_run(
        self,
        started_at: datetime,
        holder: str,
        config: Mapping[str, Any],
        slot: datetime | None = None,
    ) -> int | None:
        """Record a run as 'running' at once, so a killed process leaves a trace; its id.

        None when `slot` (the scheduled time the run is for) already has a record.
        """
        with self.writing("beginning a run") as conn:
            return write.begin_run(conn, started_at, holder, config, slot)

    def finish_run(
        self,
        run_id: int,
        records: Sequence[ModuleRecord],
        category_statuses: Mapping[str, Status],
        finished_at: datetime,
        sources: Sequence[SourceReport] = (),
    ) -> datetime | None:
        """Store a run's results, statuses, samples, rollups, source quality; mark it ok.

        Returns when the run started if it is the first of a new day: then the days before
        are still to be rolled up, which `write_ended_days` does (the cleanup does it too).
        """
        try:
            with self.writing(f"storing run {run_id}") as conn:
                due = write.finish_run(
                    conn, self._catalogue, run_id, records, category_statuses, finished_at, sources
                )
        except BaseException:
            self._catalogue.forget_fresh()
            raise
        self._catalogue.keep_fresh()
        return due

    def write_ended_days(self, now: datetime) -> None:
        """Roll up the days that ended before `now` and are not written yet, if any.

        Half a second at 200 modules, once a day: after the run that began the day, in a
        transaction of its own, not in the run's.
        """
        with self.writing("writing the rollups of ended days") as conn:
            rollup.complete_before(conn, utc(now))

    def fail_run(self, run_id: int, finished_at: datetime, error: str) -> None:
        """Mark a running run as failed with the reason."""
        with self.writing(f"failing run {run_id}") as conn:
            write.fail_run(conn, run_id, finished_at, error)

    def record_failed_run(
        self,
        started_at: datetime,
        finished_at: datetime,
        error: str,
        slot: datetime | None = None,
    ) -> int | None:
        """Record a run that could not even begin (the database was down); its id.

        None when `slot` already has a record: a failure is recorded once per slot.
        """
        with self.writing("recording a failed run") as conn:
            return write.record_failed_run(conn, started_at, finished_at, error, slot)

    def record_missed_slots(self, slots: Sequence[datetime], error: str) -> int:
        """Record slots nobody ran as failed with the reason; how many had no record yet."""
        with self.writing("recording missed slots") as conn:
            return write.record_missed_slots(conn, slots, error)

    def abandon_stale_runs(self, holder: str, now: datetime) -> int:
        """Fail the runs left 'running' by a dead process; how many there were.

        Only when `holder` holds the live run lock (and has not begun its run): then every
        'running' run is an orphan.
        """
        with self.writing("abandoning stale runs") as conn:
            return write.abandon_stale_runs(conn, holder, now)

    # -- reading runs and results -----------------------------------------------------------

    def latest_run(self) -> RunInfo | None:
        """The newest visible ('ok') run."""
        return self.read("reading the latest run", read.latest_run)

    def first_run(self) -> RunInfo | None:
        """The oldest visible run."""
        return self.read("reading the first run", read.first_run)

    def run_at(self, t: datetime) -> RunInfo | None:
        """The newest visible run started at or before `t`."""
        return self.read("finding a run", lambda c: read.run_at(c, utc(t)))

    def run(self, run_id: int) -> RunInfo | None:
        """Run `run_id` in whatever state it is."""
        return self.read("reading a run", lambda c: read.run(c, run_id))

    def newest_slot(self, before: datetime) -> datetime | None:
        """The newest scheduled time before `before` that has a record (a run or a failure)."""
        return self.read("reading the newest slot", lambda c: read.newest_slot(c, utc(before)))

    def neighbours(self, run_id: int) -> tuple[RunInfo | None, RunInfo | None]:
        """The visible runs just before and just after `run_id`."""
        return self.read("reading neighbouring runs", lambda c: read.neighbours(c, run_id))

    def runs(
        self,
        since: datetime = BEGINNING,
        until: datetime = END,
        limit: int = 1000,
        include_failed: bool = False,
    ) -> list[RunInfo]:
        """Runs started in [since, until], newest first; failed and running ones too if asked."""
        return self.read(
            "listing runs",
            lambda c: read.runs_between(c, utc(since), utc(until), limit, include_failed),
        )

    def results(
        self, run_id: int, module_ids: Collection[str] | None = None, payload: bool = True
    ) -> list[ResultRow]:
        """Every module's (or `module_ids`') result in a visible run, by module id.

        Without `payload`, metrics, tables, links and details are neither read nor parsed:
        for pages that show statuses and messages only.
        """
        return self.read(
            "reading results", lambda c: read.run_results(c, run_id, module_ids, payload)
        )

    def result(self, run_id: int, module_id: str) -> ResultRow | None:
        """One module's result in a visible run."""
        return self.read("reading a result", lambda c: read.one_result(c, run_id, module_id))

    def category_statuses(self, run_id: int) -> dict[str, Status]:
        """Each category's status in a visible run."""
        return self.read("reading category statuses", lambda c: read.category_statuses(c, run_id))

    def config_of(self, run_id: int) -> dict[str, Any]:
        """The configuration snapshot a run ran with (empty if it has none)."""
        return self.read("reading a configuration", lambda c: read.config_of(c, run_id))

    def config_hash(self, run_id: int) -> str | None:
        """The content hash of a run's configuration: equal hashes, equal `config_of`."""
        return self.read("reading a configuration's hash", lambda c: read.config_hash(c, run_id))

    def config_versions(self, known: Collection[int] = ()) -> dict[int, dict[str, Any]]:
        """The stored configuration snapshots by version id, but for the `known` ones."""
        return self.read("reading configurations", lambda c: read.stored_configs(c, known))

    def module_history(
        self,
        module_id: str,
        since: datetime,
        until: datetime,
        limit: int = 1000,
        excluded: Collection[int] = (),
    ) -> list[ResultRow]:
        """A module's results in visible runs started in [since, until], newest first.

        `excluded`: configuration versions whose runs are left out (here and in the curves).
        """
        return self.read(
            "reading a module's history",
            lambda c: read.module_history(c, module_id, utc(since), utc(until), limit, excluded),
        )

    def metrics_between(
        self, since: datetime, until: datetime, module_ids: Collection[str]
    ) -> list[MetricsAt]:
        """Statuses and metrics of `module_ids` in visible runs in [since, until], oldest first."""
        return self.read(
            "reading metrics", lambda c: read.metrics_between(c, utc(since), utc(until), module_ids)
        )

    # -- curves -----------------------------------------------------------------------------

    def metric_names(self, module_id: str) -> list[str]:
        """The metrics a module has recorded."""
        return self.read("reading metric names", lambda c: curves.metric_names(c, module_id))

    def metric_series(
        self,
        module_id: str,
        metric: str,
        since: datetime,
        until: datetime,
        max_points: int = 2000,
        excluded: Collection[int] = (),
    ) -> Points:
        """A metric over [since, until] at the finest resolution with at most `max_points`."""
        return self.read(
            "reading a metric",
            lambda c: curves.metric_series(
                c, module_id, metric, since, until, max_points, excluded
            ),
        )

    def status_series(
        self, module_id: str, since: datetime, until: datetime, excluded: Collection[int] = ()
    ) -> list[tuple[datetime, Status]]:
        """A module's status in each visible run started in [since, until], oldest first."""
        return self.read(
            "reading a status history",
            lambda c: curves.status_series(c, module_id, since, until, excluded),
        )

    # -- since when: state periods ------------------------------------------------------------

    def periods_at(
        self, t: datetime, module_ids: Collection[str] | None = None
    ) -> dict[Subject, Period]:
        """The status period each module (or `module_ids`) and category was in at `t`."""
        return self.read("reading since when", lambda c: periods.periods_at(c, utc(t), module_ids))

    def periods_between(self, since: datetime, until: datetime) -> list[Period]:
        """The status periods that began, ended or lasted in [since, until], oldest first."""
        return self.read(
            "reading status periods",
            lambda c: periods.periods_between(c, utc(since), utc(until)),
        )

    # -- shift notes ----------------------------------------------------------------------------

    def add_shift_note(self, note: ShiftNote) -> None:
        """Store a note for the next shift."""
        with self.writing("storing a shift note") as conn:
            shift_notes.add_note(conn, note)

    def shift_notes(self, since: datetime, until: datetime) -> list[ShiftNote]:
        """The shift notes written in [since, until], oldest first."""
        return self.read(
            "reading shift notes",
            lambda c: shift_notes.notes_between(c, utc(since), utc(until)),
        )

    # -- data quality of sources -------------------------------------------------------------

    def run_sources(self, run_id: int) -> list[SourceState]:
        """Every source read in run `run_id`, with its quality and the modules reading it."""
        return self.read("reading a run's sources", lambda c: quality_read.run_sources(c, run_id))

    def source_history(self, key: str, until_run: int, limit: int = 200) -> list[SourceState]:
        """Source `key` in the runs up to `until_run`, newest first, at most `limit`."""
        return self.read(
            f"reading the history of source {key!r}",
            lambda c: quality_read.source_history(c, key, until_run, limit),
        )

    # -- change points -----------------------------------------------------------------------

    def add_changes(self, found: Sequence[ChangePoint]) -> None:
        """Store the changes one run confirmed."""
        with self.writing("storing changes") as conn:
            changes.add_changes(conn, found)

    def changes(
        self,
        since: datetime,
        until: datetime,
        module_ids: Collection[str] | None = None,
        metric: str | None = None,
        limit: int = 1000,
    ) -> list[ChangePoint]:
        """Changes that happened in [since, until] (of `module_ids`, `metric`), newest first."""
        return self.read(
            "reading changes",
            lambda c: changes.changes_between(c, utc(since), utc(until), module_ids, metric, limit),
        )

    def latest_changes(self) -> dict[tuple[str, str], ChangePoint]:
        """The newest change of every series that has one, by (module, metric)."""
        return self.read("reading the newest changes", changes.latest_changes)

    # -- retention --------------------------------------------------------------------------

    def last_cleanup(self) -> datetime | None:
        """When a cleanup of this store last finished, by any process; None: never."""
        return self.read("reading when the store was last cleaned", cleaned_at)

    def cleanup(self, now: datetime, retention: Retention) -> dict[str, int]:
        """Delete history `retention` no longer keeps, in small batches; counts per kind."""
        with translated(self._url, "cleaning up old history"):
            return cleanup_history(self._writer, now, retention)

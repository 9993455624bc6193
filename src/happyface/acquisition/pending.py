"""Runs that failed while the database was down, kept on disk until they can be recorded.

Several processes may share one spool (two schedulers started from one config folder): every
change holds an exclusive lock on a file beside it, so a flush never loses a line another
process appends meanwhile. A slot is recorded once however many lines name it: the store's
unique slot key decides, so the same failure spooled by two schedulers is one record.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import StorageError
from ..storage import Store

log = logging.getLogger("happyface.run")


@dataclass
class PendingFailures:
    """A small JSON-lines spool: one line per run that could not reach the database."""

    path: Path

    def add(
        self,
        started_at: datetime,
        finished_at: datetime,
        error: str,
        slot: datetime | None = None,
        run_id: int | None = None,
    ) -> None:
        """Spool a failure: of the run `run_id` that began, else of one that never could."""
        line: dict[str, Any] = {
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "error": error,
        }
        if slot is not None:
            line["slot"] = slot.isoformat()
        if run_id is not None:
            line["run_id"] = run_id
        with self._locked(), self.path.open("a", encoding="utf-8") as spool:
            spool.write(json.dumps(line) + "\n")

    def flush(self, store: Store) -> int:
        """Record every spooled failure in the database; the spool keeps what is not yet stored.

        Returns how many lines were handled (a slot that already had a record counts too).
        """
        if not self.path.exists():  # the usual case: nothing to do, nothing to lock
            return 0
        with self._locked():
            entries = _merged(self._read())
            handled = 0
            try:
                for entry in entries:
                    _record(store, entry)
                    handled += 1
            except StorageError:
                self._write(entries[handled:])
                raise
            # unreadable lines (a write cut short) are dropped with the rest, not re-read forever
            self.path.unlink(missing_ok=True)
        if handled:
            log.info("recorded %d run(s) that failed while the database was down", handled)
        return handled

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(self.path.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # closing the file releases the lock, also when the process dies

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                log.warning("ignoring an unreadable line in %s", self.path)
        return entries

    def _write(self, entries: list[dict[str, Any]]) -> None:
        self.path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")


def _merged(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with one per slot: a run's own failure first, else the first spooled."""
    by_slot: dict[str, dict[str, Any]] = {}
    merged = []
    for entry in sorted(entries, key=lambda e: "run_id" not in e):  # stable: order kept
        slot = entry.get("slot")
        if slot is None:
            merged.append(entry)
        elif slot not in by_slot:
            by_slot[slot] = entry
            merged.append(entry)
    return merged


def _record(store: Store, entry: dict[str, Any]) -> None:
    started = datetime.fromisoformat(entry["started_at"])
    finished = datetime.fromisoformat(entry["finished_at"])
    if "run_id" in entry:  # the run began: its own record takes the real reason
        store.fail_run(int(entry["run_id"]), finished, entry["error"])
        return
    slot = datetime.fromisoformat(entry["slot"]) if entry.get("slot") else None
    store.record_failed_run(started, finished, entry["error"], slot)

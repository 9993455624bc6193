"""Runs that failed while the database was down, kept on disk until they can be recorded."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import StorageError
from ..storage import Store

log = logging.getLogger("happyface.run")


@dataclass
class PendingFailures:
    """A small JSON-lines spool: one line per run that could not reach the database."""

    path: Path

    def add(self, started_at: datetime, finished_at: datetime, error: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "error": error,
        }
        with self.path.open("a", encoding="utf-8") as spool:
            spool.write(json.dumps(line) + "\n")

    def flush(self, store: Store) -> int:
        """Record every spooled failure in the database; the spool keeps what is not yet stored."""
        entries = self._read()
        recorded = 0
        try:
            for entry in entries:
                store.record_failed_run(
                    datetime.fromisoformat(entry["started_at"]),
                    datetime.fromisoformat(entry["finished_at"]),
                    entry["error"],
                )
                recorded += 1
        except StorageError:
            self._write(entries[recorded:])
            raise
        # unreadable lines (a write cut short) are dropped with the rest, not re-read forever
        self.path.unlink(missing_ok=True)
        if recorded:
            log.info("recorded %d run(s) that failed while the database was down", recorded)
        return recorded

    def _read(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                log.warning("ignoring an unreadable line in %s", self.path)
        return entries

    def _write(self, entries: list[dict[str, str]]) -> None:
        self.path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")

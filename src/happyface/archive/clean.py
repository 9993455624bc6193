"""Retention of the archive: whole runs removed by age, leftovers of crashed writers removed."""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path, PurePosixPath

from .names import DAY_GLOB, DIGITS, RUN_SUFFIX, run_time
from .write import PART_SUFFIX

log = logging.getLogger("happyface.archive")

_RUN_GLOB = f"{DAY_GLOB}/{DIGITS * 6}"
# a writer locks its file right after creating it; younger files are never judged abandoned
_GRACE_SECONDS = 60.0


def remove_runs(root: Path, cutoff: datetime) -> int:
    """Remove the runs (run files and folders of the old layout) started before `cutoff`."""
    root = root.resolve()  # the paths found are resolved; the root given may be a symlink
    removed: set[str] = set()
    for run in _runs(root):
        key = PurePosixPath(run.relative_to(root).as_posix())
        started = run_time(key)
        if started is not None and started < cutoff:
            if run.is_dir():
                shutil.rmtree(run)
            else:
                run.unlink()
            removed.add(str(key).removesuffix(RUN_SUFFIX))
            _prune_parents(run)
    return len(removed)


def remove_unfinished(root: Path, days: str = DAY_GLOB) -> int:
    """Remove the hidden files of writers that ended without publishing (a crash, a kill)."""
    root = root.resolve()
    if not root.is_dir():
        return 0
    removed = 0
    for part in root.glob(f"{days}/.{DIGITS * 6}.*{PART_SUFFIX}"):
        if _abandoned(part):
            part.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %d unfinished run file(s) of writers that stopped", removed)
    return removed


def _abandoned(part: Path) -> bool:
    """True when no live writer holds `part`: it is old enough and its lock is free."""
    try:
        if part.is_symlink() or time.time() - part.stat().st_mtime < _GRACE_SECONDS:
            return False
        with part.open("rb") as held:
            try:
                fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # its writer is alive
    except FileNotFoundError:
        return False  # published or removed meanwhile
    return True


def _runs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = [*root.glob(_RUN_GLOB + RUN_SUFFIX), *root.glob(_RUN_GLOB)]
    # a symlinked run is skipped: cleanup must never delete outside the archive
    return [
        run
        for run in found
        if not run.is_symlink() and run.resolve().is_relative_to(root) and _is_run(run)
    ]


def _is_run(path: Path) -> bool:
    """A run file is a zip; a run of the old layout is a folder."""
    if path.name.endswith(RUN_SUFFIX):
        return path.is_file()
    return path.is_dir()


def _prune_parents(run: Path) -> None:
    """Remove the day, month and year folders the removal left empty."""
    for parent in run.parents[:3]:
        try:
            parent.rmdir()
        except OSError:  # not empty: a newer run still lives there
            return

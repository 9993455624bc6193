"""`happyface serve` schedulers that tests kill and restart, and the slot history they leave."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from happyface.storage import RunInfo
from tests.faults.sites import all_runs

INTERVAL = timedelta(seconds=10)


class Scheduler:
    """One `happyface serve` of a site, restartable; every incarnation logs to its own file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = datetime.now(UTC)
        self.log_files: list[Path] = []
        self.ends: list[datetime | None] = []  # when each incarnation was killed

    def start(self) -> None:
        self.started_at = datetime.now(UTC)
        log = self.config.parent / f"serve-{len(self.log_files)}.log"
        self.log_files.append(log)
        self.ends.append(None)
        command = [sys.executable, "-m", "happyface", "-c", str(self.config), "serve"]
        with log.open("wb") as output:  # the child writes to its own copy of the descriptor
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)

    def wait_up(self, seconds: float = 60) -> None:
        """Until this incarnation serves (its scheduler has started)."""
        deadline = time.monotonic() + seconds
        while "dashboard on" not in self.log_files[-1].read_text(errors="replace"):
            assert self.process is not None and self.process.poll() is None, self.logs()[-1]
            assert time.monotonic() < deadline, "happyface serve did not start"
            time.sleep(0.1)

    def kill(self) -> datetime:
        """kill -9; when it happened."""
        assert self.process is not None and self.process.poll() is None, self.logs()[-1]
        self.process.kill()
        killed = datetime.now(UTC)
        self.process.wait()
        self.ends[-1] = killed
        return killed

    def lives(self) -> list[tuple[datetime, datetime]]:
        """From when to when each incarnation served; one killed before it came up is left out."""
        now = datetime.now(UTC)
        return [
            (up, end or now)
            for log, end in zip(self.log_files, self.ends, strict=True)
            if (up := _up_at(log.read_text(errors="replace"))) is not None
        ]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logs(self) -> list[str]:
        """What every incarnation logged."""
        return [log.read_text(errors="replace") for log in self.log_files]


def _up_at(log: str) -> datetime | None:
    """When an incarnation logged that it serves (log times are local)."""
    for line in log.splitlines():
        if "dashboard on" in line:
            return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)
    return None


def missed_while_up(
    runs: list[RunInfo], lives: list[tuple[datetime, datetime]], margin: float = 1.0
) -> list[RunInfo]:
    """The slots recorded missed although a scheduler served for `margin` seconds inside them.

    Under load a restarted `serve` can take longer to come up than the test waits before the
    next kill; a slot no incarnation served in is rightly recorded missed, and not counted.
    """
    room = timedelta(seconds=margin)

    def served(slot: datetime) -> bool:
        ends = slot + INTERVAL
        return any(max(up, slot) + room <= min(end, ends) for up, end in lives)

    return [r for r in runs if r.error.startswith("missed") and r.slot and served(r.slot)]


def wait_for_a_run_after(database: str, moment: datetime, seconds: float = 60) -> None:
    """Until a run that began after `moment` has finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if [r for r in all_runs(database) if r.started_at > moment and r.state == "ok"]:
            return
        time.sleep(0.3)
    raise AssertionError(f"no run finished after {moment:%H:%M:%S}")


def assert_one_record_per_slot(runs: list[RunInfo]) -> None:
    """Every slot from the first to the last has its record, and nothing is left running."""
    slots = [r.slot for r in runs]
    assert None not in slots, "a scheduled run without its slot"
    ordered = sorted(s for s in slots if s is not None)
    gaps = [(a, b) for a, b in itertools.pairwise(ordered) if b - a != INTERVAL]
    assert not gaps, f"slots without one record between {gaps}"
    assert not [r for r in runs if r.state == "running"]

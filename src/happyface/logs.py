"""Logging: readable lines on standard error, and one log file per run when a folder is set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(level: str = "info") -> None:
    """Send HappyFace's log lines to standard error at the given level."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("happyface")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@contextmanager
def run_log(log_dir: Path | None, started: datetime) -> Iterator[Path | None]:
    """While a run lasts, also write its lines (every module's among them) to their own file."""
    if log_dir is None:
        yield None
        return
    path = log_dir / started.strftime("%Y-%m-%d") / f"run-{started.strftime('%H%M%S')}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("happyface")
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()

"""The threads extracts run in: one daemon thread each, abandoned when the deadline passes.

A thread cannot be killed. An extract that overruns `extract_timeout` is abandoned: its result
is ignored and its thread runs on until the parser returns. Two things keep that harmless:

- each extract has a daemon thread of its own, which the interpreter does not wait for at
  exit (the threads of asyncio's default executor are joined at exit, so one stuck parser
  used to keep the process alive long after its run was stored);
- a module with `per_module` abandoned extracts still running gets no new one (the caller
  asks `busy` first), so a parser that hangs for ever costs one thread, not one per run.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Call:
    """One extract, as the thread and the waiting run both see it (guarded by the lock)."""

    key: str
    finished: bool = False
    abandoned: bool = False


class ExtractThreads:
    """Runs extracts in daemon threads and counts those abandoned but still running."""

    def __init__(self, per_module: int = 1) -> None:
        self.per_module = per_module
        self._lock = threading.Lock()
        self._abandoned: Counter[str] = Counter()

    def abandoned(self, key: str | None = None) -> int:
        """Abandoned extracts still running: of one module, or of all when `key` is None."""
        with self._lock:
            return self._abandoned[key] if key is not None else self._abandoned.total()

    def busy(self, key: str) -> bool:
        """Whether `key` has as many abandoned extracts running as it may."""
        return self.abandoned(key) >= self.per_module

    async def run(self, key: str, timeout: float, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a new daemon thread; TimeoutError after `timeout` seconds.

        When the deadline passes (or the caller is cancelled) the thread is abandoned: it
        counts against `key` until `fn` returns.
        """
        call = _Call(key)
        future: Future[T] = Future()
        worker = threading.Thread(
            target=self._work, args=(call, future, fn, args), name=f"extract {key}", daemon=True
        )
        worker.start()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except BaseException:
            self._abandon(call)
            raise

    def _work(self, call: _Call, future: Future[T], fn: Callable[..., T], args: Any) -> None:
        try:
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:  # handed to the waiting run, which reports it
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            with self._lock:
                call.finished = True
                if call.abandoned:
                    self._abandoned[call.key] -= 1

    def _abandon(self, call: _Call) -> None:
        with self._lock:
            if not call.finished and not call.abandoned:
                call.abandoned = True
                self._abandoned[call.key] += 1


#: the extract threads of this process; /metrics reports how many were abandoned
EXTRACTS = ExtractThreads()

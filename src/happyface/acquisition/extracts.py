"""The threads extracts run in: daemon workers, and extracts abandoned at their deadline.

A thread cannot be killed. An extract that overruns `extract_timeout` is abandoned: its result
is ignored and its thread runs on until the parser returns. Three things keep that harmless:

- the workers are daemon threads, which the interpreter does not wait for at exit (asyncio's
  default executor joins its threads at exit, so one stuck parser used to keep the process
  alive long after its run was stored);
- a worker busy with an abandoned extract does not count against the pool's size, so stuck
  parsers do not starve the others;
- a module with `per_module` abandoned extracts still running gets no new one (the caller asks
  `busy` first), so a parser that hangs for ever costs one thread, not one per run.

The pool is bounded like asyncio's default executor, so a site of hundreds of modules does
not hold hundreds of parsed inputs in memory at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: as asyncio's default executor
WORKERS = min(32, (os.cpu_count() or 1) + 4)
#: an idle worker ends after this long; the pool grows again on demand
IDLE_SECONDS = 60.0


@dataclass
class _Job:
    """One extract, as its worker and the waiting run both see it (guarded by the lock).

    The worker settles the run's own asyncio future through its loop: a thread-safe
    concurrent future wrapped into an asyncio one cost twice the hand-over, per module.
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    finished: bool = False
    abandoned: bool = False


class ExtractThreads:
    """A pool of daemon threads for extracts, counting those abandoned but still running."""

    def __init__(self, per_module: int = 1, workers: int = WORKERS) -> None:
        self.per_module = per_module
        self.workers = workers
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads = 0
        # workers blocked waiting for a job, and jobs no worker has taken yet: a worker that
        # took a job is busy until it asks again (counting it idle from the end of its last
        # job let a job queue behind a stuck extract while the bound allowed a new worker)
        self._waiting = 0
        self._queued = 0
        self._abandoned: Counter[str] = Counter()

    def abandoned(self, key: str | None = None) -> int:
        """Abandoned extracts still running: of one module, or of all when `key` is None."""
        with self._lock:
            return self._abandoned[key] if key is not None else self._abandoned.total()

    def busy(self, key: str) -> bool:
        """Whether `key` has as many abandoned extracts running as it may."""
        return self.abandoned(key) >= self.per_module

    async def run(self, key: str, timeout: float, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` in a worker; TimeoutError after `timeout` seconds (waiting included).

        When the deadline passes (or the caller is cancelled) the extract is abandoned: it
        counts against `key` until `fn` returns.
        """
        loop = asyncio.get_running_loop()
        job = _Job(key, fn, args, loop, loop.create_future())
        self._submit(job)
        try:
            async with asyncio.timeout(timeout):
                return await job.future
        except BaseException:
            self._abandon(job)
            raise

    def _submit(self, job: _Job) -> None:
        # a waiting worker takes the job, else a new one starts up to the bound, which grows
        # by the workers stuck with abandoned extracts
        with self._lock:
            self._queued += 1
            start = self._queued > self._waiting and (
                self._threads < self.workers + self._abandoned.total()
            )
            if start:
                self._threads += 1
        self._jobs.put(job)
        if start:
            threading.Thread(target=self._work, name="extract", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._waiting += 1
            try:
                job = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    self._waiting -= 1
                    if self._queued <= self._waiting:  # nobody counts on this worker: end it
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._waiting -= 1
                self._queued -= 1
            self._run(job)

    def _run(self, job: _Job) -> None:
        with self._lock:
            given_up = job.abandoned  # before it started: it need not run at all
        outcome: tuple[Any, BaseException | None] = (None, None)
        if not given_up:
            try:
                outcome = (job.fn(*job.args), None)
            except BaseException as exc:  # handed to the waiting run, which reports it
                outcome = (None, exc)
        with self._lock:  # finished before the run hears of it: it is then not abandoned
            job.finished = True
            if job.abandoned:
                self._abandoned[job.key] -= 1
        if not given_up:
            _hand_back(job, *outcome)

    def _abandon(self, job: _Job) -> None:
        with self._lock:
            if not job.finished and not job.abandoned:
                job.abandoned = True
                self._abandoned[job.key] += 1


def _hand_back(job: _Job, result: Any, error: BaseException | None) -> None:
    """Settle the waiting run's future on its own loop (a loop that has ended waits for none)."""
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this result
        job.loop.call_soon_threadsafe(_settle, job.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the run gave up on it (its deadline, or it was cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


#: the extract threads of this process; /metrics reports how many were abandoned
EXTRACTS = ExtractThreads()

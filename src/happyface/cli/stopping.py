"""Stopping on SIGINT and SIGTERM: the work is cancelled, cleans up, and the exit code says why.

The signal is remembered when it arrives, and the exit code comes from it, not from whether a
cancellation travelled all the way up: a library that absorbs a cancellation while it closes
(or uvicorn, which handles the signals itself while it serves and raises them again once it
has shut down) cannot turn a stop into a success.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """Raised by `run_until_stopped` when SIGINT or SIGTERM ended the work."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 plus the signal, 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signum


def run_until_stopped(
    main: Coroutine[Any, Any, T],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    """`asyncio.run(main)`, cancelled by SIGINT or SIGTERM; raises Stopped after one came.

    `loop_factory` makes the event loop (asyncio's own when None).
    """
    stop = _StopSignals()
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            result = runner.run(stop.guard(main))
    except (asyncio.CancelledError, KeyboardInterrupt):
        if stop.received is None:
            raise
        raise Stopped(stop.received) from None
    if stop.received is not None:
        raise Stopped(stop.received)
    return result


class _StopSignals:
    """Handlers that remember the first stop signal and cancel the main task at each one."""

    def __init__(self) -> None:
        self.received: int | None = None

    async def guard(self, main: Coroutine[Any, Any, T]) -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int, frame: FrameType | None) -> None:
            if self.received is None:
                self.received = signum
            loop.call_soon_threadsafe(task.cancel)

        previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
        try:
            return await main
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

"""Blocking calls (the database, the spool) from async code, without stalling the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def off_loop(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a worker thread, so the loop `serve` shares with the web keeps serving."""
    return await asyncio.to_thread(func, *args)


async def settled(work: Awaitable[T]) -> T:
    """Await `work` to its end even when cancelled meanwhile; the cancellation then goes on.

    A run stopped by a signal still records itself as failed and releases its lock.
    """
    future = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(future)
            break
        except asyncio.CancelledError:
            if future.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result

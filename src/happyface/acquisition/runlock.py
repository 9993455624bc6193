"""The run lock as one run holds it: taken (at once from a dead holder), kept, released."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import RunLockedError, StorageError
from ..offloop import off_loop, settled
from ..storage import Store
from ..storage.lock import LockHolder, LockInfo
from .holder import is_dead

log = logging.getLogger("happyface.run")


@dataclass
class RunLock:
    """The site's run lock for one holder; every database call goes to a worker thread."""

    store: Store
    holder: LockHolder
    ttl: float

    async def take(self, now: datetime) -> LockInfo | None:
        """Take the lock, at once from a provably dead holder; the lock it replaced, if any.

        Raises RunLockedError, saying who holds it, when a live process does.
        """
        before = await off_loop(self.store.lock_info)
        dead = before if before is not None and is_dead(before, self.holder) else None
        if before is not None and dead is None and self._held_by_another(before, now):
            raise RunLockedError(_locked_message(before))
        if await off_loop(self.store.acquire_lock, self.holder, self.ttl, now, dead):
            if dead is not None:
                who = dead.holder
                log.warning("took the run lock over from %s (PID %d): gone", who.host, who.pid)
            return before if before is not None and before.holder.name != self.holder.name else None
        raise RunLockedError(_locked_message(await off_loop(self.store.lock_info)))

    async def keep(self) -> None:
        """Renew the lock until cancelled, so only a dead process loses it."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                renewed = await off_loop(
                    self.store.renew_lock, self.holder.name, self.ttl, datetime.now(UTC)
                )
            except StorageError as exc:
                log.warning("the run lock could not be renewed: %s", exc)
                continue
            if not renewed:
                log.warning("the run lock was lost; another process may start a run")

    async def release(self) -> None:
        """Give the lock up, even when cancelled meanwhile; a database failure is only logged."""
        try:
            await settled(off_loop(self.store.release_lock, self.holder.name))
        except StorageError as exc:
            log.warning("the run lock could not be released, it frees after lock_ttl: %s", exc)

    def _held_by_another(self, lock: LockInfo, now: datetime) -> bool:
        return lock.holder.name != self.holder.name and lock.expires_at > now


def _locked_message(lock: LockInfo | None) -> str:
    who = lock.describe() if lock is not None else "it was released just now"
    return f"another HappyFace process is running an acquisition for this site: {who}"

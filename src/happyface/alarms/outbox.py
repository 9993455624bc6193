"""The outbox: send what the detector wrote down, in order per channel, retry, give up visibly.

Each channel is a queue: its oldest undelivered notification goes first, and while it waits for
a retry the newer ones wait behind it (the log says so), so a receiver that comes back gets the
notices in the order they happened. A notification that is given up frees its channel.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import partial

from ..config.alarms import AppriseChannel, EmailChannel, WebhookChannel
from ..offloop import off_loop
from ..redact import redact
from .notify import Channel, DeliveryError, delivery_id
from .records import Notification
from .store import AlarmStore

log = logging.getLogger("happyface.alarms")


@dataclass(frozen=True)
class Backoff:
    """When to try again after a failed delivery, and when to stop trying."""

    first: float = 60.0  # seconds before the second attempt
    factor: float = 2.0
    longest: float = 3600.0
    give_up_after: float = 12 * 3600.0  # since the notification was written

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt."""
        return timedelta(seconds=min(self.longest, self.first * self.factor ** (attempts - 1)))

    def exhausted(self, notification: Notification, now: datetime) -> bool:
        return (now - notification.created_at).total_seconds() >= self.give_up_after


def retries_of(channel: EmailChannel | WebhookChannel | AppriseChannel) -> Backoff:
    """A channel's backoff from its `retry_after` and `give_up_after`."""
    first = float(channel.retry_after)
    return Backoff(first=first, longest=max(3600.0, first), give_up_after=channel.give_up_after)


@dataclass
class Delivered:
    """What one pass over the outbox did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)


class _Outcome(Enum):
    DONE = "done"  # sent, or out of the queue for good: the next one may go
    STOPPED = "stopped"  # still pending (a failed attempt, or another process has it)
    GAVE_UP = "gave up"  # failed now and for good: the next one goes in the next pass


def held_reason(head: Notification) -> str:
    """What the log says of a notification waiting behind an older one of its channel."""
    return f"waiting for notification {head.id} on this channel to be delivered or given up"


@dataclass
class Outbox:
    """Delivers due notifications through their channels, at least once and normally once.

    `backoff` applies to every channel not named in `backoffs`.
    """

    store: AlarmStore
    channels: Mapping[str, Channel]
    backoff: Backoff = field(default_factory=Backoff)
    backoffs: Mapping[str, Backoff] = field(default_factory=dict)

    async def deliver(self, now: datetime) -> Delivered:
        """One pass: each channel's queue in order, until a notification of it cannot go yet.

        A channel that failed in this pass is not tried again before the next one.
        """
        done = Delivered()
        queues: dict[str, list[Notification]] = {}
        for notification in await off_loop(self.store.pending):
            queues.setdefault(notification.channel_id, []).append(notification)
        for queue in queues.values():
            await self._drain(queue, now, done)
        return done

    async def _drain(self, queue: list[Notification], now: datetime, done: Delivered) -> None:
        for position, notification in enumerate(queue):
            due = notification.next_attempt_at is None or notification.next_attempt_at <= now
            outcome = await self._attempt(notification, now, done) if due else _Outcome.STOPPED
            if outcome is _Outcome.STOPPED:
                await self._hold(notification, queue[position + 1 :], done)
            if outcome is not _Outcome.DONE:
                return

    async def _hold(self, head: Notification, waiting: list[Notification], done: Delivered) -> None:
        """Newer notifications wait for `head`; said once in the log, kept as their reason."""
        reason = held_reason(head)
        newly = [n for n in waiting if n.reason != reason]
        for notification in newly:
            await off_loop(partial(self.store.settle, notification.id, "pending", reason=reason))
        if newly:
            log.info(
                "notification(s) %s via %s wait for notification %d, delivered in order",
                ", ".join(str(n.id) for n in newly),
                head.channel_id,
                head.id,
            )
        done.held += [n.id for n in waiting]

    async def _attempt(
        self, notification: Notification, now: datetime, done: Delivered
    ) -> _Outcome:
        channel = self.channels.get(notification.channel_id)
        if channel is None:
            await self._fail(notification, f"channel {notification.channel_id!r} is not configured")
            done.failed.append(notification.id)
            return _Outcome.DONE
        attempts = notification.attempts + 1
        retry_at = now + self._backoff(notification).delay(attempts)
        if not await off_loop(self.store.claim, notification.id, attempts, retry_at):
            return _Outcome.STOPPED  # another process is delivering it: the rest waits
        ident = delivery_id(await off_loop(self.store.site_key), notification.id)
        try:
            await channel.send(notification, ident)
        except DeliveryError as exc:
            return await self._failed_attempt(notification, now, exc.reason, exc.detail, done)
        except Exception as exc:  # a channel's bug must cost one notification, not the pass
            detail = redact("".join(traceback.format_exception(exc)))
            reason = f"unexpected error ({type(exc).__name__})"
            return await self._failed_attempt(notification, now, reason, detail, done)
        sent = partial(self.store.settle, notification.id, "sent", sent_at=now, reason="")
        await off_loop(partial(sent, next_attempt_at=None))
        done.sent.append(notification.id)
        return _Outcome.DONE

    def _backoff(self, notification: Notification) -> Backoff:
        return self.backoffs.get(notification.channel_id, self.backoff)

    async def _failed_attempt(
        self, notification: Notification, now: datetime, reason: str, detail: str, done: Delivered
    ) -> _Outcome:
        if self._backoff(notification).exhausted(notification, now):
            log.warning("notification %d: %s", notification.id, detail)
            await self._fail(
                notification, f"gave up after {notification.attempts + 1} attempts: {reason}"
            )
            done.failed.append(notification.id)
            return _Outcome.GAVE_UP
        log.warning(
            "notification %d via %s failed, will retry: %s",
            notification.id,
            notification.channel_id,
            detail,
        )
        await off_loop(partial(self.store.settle, notification.id, "pending", reason=reason))
        done.retrying.append(notification.id)
        return _Outcome.STOPPED

    async def _fail(self, notification: Notification, reason: str) -> None:
        log.error(
            "notification %d via %s failed: %s", notification.id, notification.channel_id, reason
        )
        failed = partial(self.store.settle, notification.id, "failed", reason=reason)
        await off_loop(partial(failed, next_attempt_at=None))

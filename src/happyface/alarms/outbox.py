"""The outbox: send what the detector wrote down, retry with backoff, give up visibly."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .notify import Channel, DeliveryError
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


@dataclass
class Delivered:
    """What one pass over the outbox did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass
class Outbox:
    """Delivers due notifications through their channels, at least once and normally once."""

    store: AlarmStore
    channels: Mapping[str, Channel]
    backoff: Backoff = field(default_factory=Backoff)

    async def deliver(self, now: datetime) -> Delivered:
        """One pass: every due notification gets one attempt, unless its channel just failed."""
        done = Delivered()
        down: set[str] = set()  # a channel that failed now is not hammered again in this pass
        for notification in self.store.due(now):
            if notification.channel_id in down:
                continue
            ok = await self._attempt(notification, now, done)
            if not ok:
                down.add(notification.channel_id)
        return done

    async def _attempt(self, notification: Notification, now: datetime, done: Delivered) -> bool:
        channel = self.channels.get(notification.channel_id)
        if channel is None:
            self._fail(notification, f"channel {notification.channel_id!r} is not configured")
            done.failed.append(notification.id)
            return True
        attempts = notification.attempts + 1
        if not self.store.claim(notification.id, attempts, now + self.backoff.delay(attempts)):
            return True  # another process is on it
        try:
            await channel.send(notification)
        except DeliveryError as exc:
            self._failed_attempt(notification, now, str(exc), done)
            return False
        except Exception as exc:  # a channel's bug must cost one notification, not the pass
            log.exception("channel %s failed unexpectedly", notification.channel_id)
            self._failed_attempt(notification, now, f"{type(exc).__name__}: {exc}", done)
            return False
        self.store.settle(notification.id, "sent", sent_at=now, reason="", next_attempt_at=None)
        done.sent.append(notification.id)
        return True

    def _failed_attempt(
        self, notification: Notification, now: datetime, reason: str, done: Delivered
    ) -> None:
        if self.backoff.exhausted(notification, now):
            self._fail(
                notification, f"gave up after {notification.attempts + 1} attempts: {reason}"
            )
            done.failed.append(notification.id)
            return
        log.warning(
            "notification %d via %s failed, will retry: %s",
            notification.id,
            notification.channel_id,
            reason,
        )
        self.store.settle(notification.id, "pending", reason=reason)
        done.retrying.append(notification.id)

    def _fail(self, notification: Notification, reason: str) -> None:
        log.error(
            "notification %d via %s failed: %s", notification.id, notification.channel_id, reason
        )
        self.store.settle(notification.id, "failed", reason=reason, next_attempt_at=None)

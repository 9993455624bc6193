"""Mailing the handover digest when a shift begins, through the alarm outbox and channels.

A Runner observer: after each run it plans the digest of the shift that has just ended for
every channel in `[site.shifts] mail`. The outbox's deduplication key names the shift's start,
so a restart, a second scheduler or the next run never mails a digest twice; a digest not
planned within MAIL_WITHIN of the shift change is old news and is not sent. The mail shows
what an anonymous viewer may see: its recipients are not known to the access rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ...alarms.records import Message, Planned, Subject
from ...alarms.store import add_notifications
from ...offloop import off_loop
from ..access import ANONYMOUS, AccessControl
from ..alarms.visibility import AlarmSight
from ..urls import Urls, absolute
from .handover import digest_of
from .handover_text import digest_text

if TYPE_CHECKING:
    from ...acquisition.run import RunOutcome
    from ...alarms.service import AlarmService
    from ...config.site import Site
    from ...storage import Store

MAIL_WITHIN = timedelta(hours=1)
#: what the outbox and its log call a digest (it is about no module or category)
SUBJECT = Subject("category", "")
EVENT = "handover"


@dataclass
class HandoverMailer:
    """Plans each shift's digest for the configured channels, then lets the outbox deliver."""

    site: Site
    store: Store
    service: AlarmService
    clock: Callable[[], datetime]

    async def __call__(self, outcome: RunOutcome) -> None:
        if await off_loop(self.plan):
            await self.service.tick()

    def plan(self) -> list[Planned]:
        """The digest of the shift that ended last, once per channel; [] when not due."""
        now = self.clock()
        shifts = self.site.settings.shifts
        start = shifts.current_start(now)
        if not shifts.mail or now - start > MAIL_WITHIN:
            return []
        previous = shifts.current_start(start - timedelta(microseconds=1))
        message = self.message(previous, start)
        planned = [
            Planned(EVENT, SUBJECT, EVENT, channel, 0, start, message, key_suffix=start.isoformat())
            for channel in shifts.mail
        ]
        with self.store.writing("planning the handover digest") as conn:
            add_notifications(conn, planned, now)
        return planned

    def message(self, since: datetime, until: datetime) -> Message:
        """The digest of [since, until] as a notification: title, text, link."""
        access = AccessControl(self.site)
        urls = Urls(self.site.settings.web.base_url)
        sight = AlarmSight(self.site, access.policy(ANONYMOUS))
        digest = digest_of(self.site, self.store, access, sight, ANONYMOUS, urls, (since, until))
        base = urlsplit(self.site.settings.web.base_url)
        link = urls.handover(since, until)
        link = absolute(f"{base.scheme}://{base.netloc}", link) if base.netloc else link
        when = until.strftime("%Y-%m-%d %H:%M UTC")
        title = f"{self.site.settings.title}: handover {when}, {digest.counts.text}"
        return Message(title, digest_text(digest, link), link)

"""`happyface demo`: the simulated site's sources, a config that uses them, runs and dashboard."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from ..alarms.ack import acknowledge
from ..alarms.records import Subject
from ..cli.assembly import build_service
from ..cli.serve import serve_site
from ..config.load import CONFIG_NAME, load_site
from ..config.site import Site
from ..storage import Store
from . import DemoSources, demo_module_configs
from .sources import INBOX

log = logging.getLogger("happyface.demo")

CATEGORIES: list[dict[str, Any]] = [
    {
        "id": "batch",
        "title": "Batch system",
        "order": 1,
        "algorithm": "worst",
        "description": "Jobs of the VOs at the two simulated Tier-1 sites.",
    },
    {
        "id": "storage",
        "title": "Storage",
        "order": 2,
        "algorithm": "weighted",
        "description": "dCache pools, movers and transfers.",
    },
    {
        "id": "news",
        "title": "News and services",
        "order": 3,
        "algorithm": "worst",
        "description": "Announcements and service status pages.",
    },
    {
        "id": "host",
        "title": "HappyFace host",
        "order": 4,
        "algorithm": "worst",
        "description": "The machine this HappyFace runs on.",
    },
    {
        "id": "sites",
        "title": "Other sites",
        "order": 5,
        "algorithm": "worst",
        "description": "Other HappyFace instances this site watches; the matrix lines them up.",
    },
]

HOST_MODULE: dict[str, Any] = {
    "id": "host_health",
    "type": "host_health",
    "category": "host",
    "title": "Disk and load",
    "description": "Free space where the demo writes, and the load of this machine.",
    "instruction": "Nothing to do in the demo; on a real site tell the HappyFace admin.",
}

# A day of 15-minute runs before the live ones, so the plots have history from the start;
# before it three days of hourly runs, as change detection judges a series only once it has
# three days of history (its daily cycle must repeat): the efficiency's shift in the last day
# is then found, and shown, on first start.
BACKFILL = timedelta(hours=24)
BACKFILL_STEP = timedelta(minutes=15)
EARLY = timedelta(days=3)
EARLY_STEP = timedelta(minutes=30)
#: the config the past day is acquired with: the same site, its sources on a clock set back
BACKFILL_CONFIG = "backfill.toml"
#: the module the demo's shifter has acknowledged: its producer is broken for good
ACKNOWLEDGED = "batch_accounting"


def demo_config(base_url: str, port: int, now: datetime | None = None) -> dict[str, Any]:
    """The demo site's configuration, as the TOML file holds it."""
    return {
        "site": {
            "title": "HappyFace demo — a simulated Tier-1",
            "interval": "1m",
            "stale_after": "5m",
            "fetch_timeout": 15,
            "database": "sqlite:///happyface.db",
            "archive": {"enabled": True, "dir": "archive", "keep_days": 1},
            "retention": {"results_days": 30},
            "web": {"host": "127.0.0.1", "port": port},
        },
        "category": CATEGORIES,
        "module": [*demo_module_configs(base_url), HOST_MODULE],
        **demo_alarms(base_url, now or datetime.now(UTC)),
    }


def demo_alarms(base_url: str, now: datetime) -> dict[str, Any]:
    """An alarm told to a chat-like webhook, and a maintenance window around the start."""
    start = now.replace(second=0, microsecond=0)
    return {
        "channel": [
            {
                "id": "shift_chat",
                "type": "webhook",
                "url": base_url.rstrip("/") + INBOX,
                "format": "text",
            }
        ],
        "alarm": [
            {
                "id": "batch_and_storage",
                "modules": ["jobs_*", "dcache_*", ACKNOWLEDGED],
                "notify": ["shift_chat"],
            }
        ],
        "downtime": [
            {
                "id": "tape_maintenance",
                "description": "Tape library maintenance: the tape pools' movers queue meanwhile.",
                "modules": ["dcache_movers"],
                "start": start - timedelta(hours=1),
                "end": start + timedelta(hours=3),
            }
        ],
    }


def write_demo_site(
    folder: Path, base_url: str, port: int, name: str = CONFIG_NAME, now: datetime | None = None
) -> Path:
    """Write the demo's config into folder (sources move to a new port each start)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = "# Written by `happyface demo` at each start; edit a copy, not this file.\n"
    path.write_text(text + tomli_w.dumps(demo_config(base_url, port, now)), encoding="utf-8")
    return path


def backfill_times(now: datetime) -> list[datetime]:
    """When the backfilled runs start: hourly over the early days, then every 15 minutes."""
    early_start, start = now - BACKFILL - EARLY, now - BACKFILL
    early = [early_start + i * EARLY_STEP for i in range(int(EARLY / EARLY_STEP))]
    return early + [start + i * BACKFILL_STEP for i in range(int(BACKFILL / BACKFILL_STEP))]


@dataclass
class Backfill:
    """How far filling the past days has come, for the notice on every page."""

    total: int = int(EARLY / EARLY_STEP) + int(BACKFILL / BACKFILL_STEP)
    done: int = 0

    def notices(self) -> list[str]:
        if self.done >= self.total:
            return []
        return [
            f"History is being filled: {self.done} of {self.total} runs of the past days. "
            "Until it is done the newest run shown is from the past."
        ]


async def backfill(site: Site, clock: list[datetime], progress: Backfill | None = None) -> int:
    """Acquire the past days once (see `backfill_times`), with the sources' clock set back."""
    progress = progress if progress is not None else Backfill()
    service = build_service(site)
    try:
        if service.store.latest_run() is not None:
            progress.done = progress.total
            return 0
        times = backfill_times(datetime.now(UTC))
        log.info("filling the last %s of history (%d runs) ...", EARLY + BACKFILL, len(times))
        for step, moment in enumerate(times):
            clock[0] = moment
            await service.runner.run(moment)
            progress.done = step + 1
        await asyncio.to_thread(acknowledge_broken_feed, service.store, datetime.now(UTC))
        return progress.total
    finally:
        await service.aclose()


def acknowledge_broken_feed(store: Store, now: datetime) -> None:
    """The demo shifter's acknowledgement of the feed that is always broken, with its ticket."""
    acknowledge(
        store,
        Subject("module", ACKNOWLEDGED),
        user="/DC=org/DC=happyface-demo/CN=Demo Shifter",
        comment="Accounting exporter crashes since the last update; ticket INC-4711 is open "
        "with the batch team.",
        now=now,
        expires_at=now + timedelta(days=1),
    )


def say(text: str) -> None:
    """A line for the person who started the demo, whatever the log level."""
    print(text, file=sys.stderr, flush=True)


async def run_demo(folder: Path, port: int = 8080) -> None:
    """Serve the dashboard at once, fill the past day behind it, then acquire live."""
    address = f"http://127.0.0.1:{port}/"
    now = datetime.now(UTC)
    clock = [now - BACKFILL - EARLY]
    progress = Backfill()
    with (
        DemoSources(clock=lambda: clock[0], slow_seconds=0.0, started=now) as history,
        DemoSources(started=now) as live,
    ):
        past = load_site(write_demo_site(folder, history.base_url, port, BACKFILL_CONFIG, now))
        site = load_site(write_demo_site(folder, live.base_url, port, now=now))

        async def fill_history() -> None:
            filled = await backfill(past, clock, progress)
            if filled:
                say(f"history filled ({filled} runs); live runs every minute from now on")
            say(f"HappyFace demo: {address}  (Ctrl-C stops it; files in {folder.resolve()})")

        say(f"HappyFace demo: {address}  (filling the past days of history behind it)")
        await serve_site(site, prelude=fill_history, notices=progress.notices)

"""`happyface demo`: the simulated site's sources, a config that uses them, runs and dashboard."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from ..config import CONFIG_NAME, load_site
from ..server import serve_site
from ..service import build_service
from ..site import Site
from . import DemoSources, demo_module_configs

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
]

HOST_MODULE: dict[str, Any] = {
    "id": "host_health",
    "type": "host_health",
    "category": "host",
    "title": "Disk and load",
    "description": "Free space where the demo writes, and the load of this machine.",
    "instruction": "Nothing to do in the demo; on a real site tell the HappyFace admin.",
}

# A day of 15-minute runs before the live ones, so the plots have history from the start.
BACKFILL = timedelta(hours=24)
BACKFILL_STEP = timedelta(minutes=15)


def demo_config(base_url: str, port: int) -> dict[str, Any]:
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
    }


def write_demo_site(folder: Path, base_url: str, port: int) -> Path:
    """Write the demo's happyface.toml into folder (sources move to a new port each start)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    text = "# Written by `happyface demo` at each start; edit a copy, not this file.\n"
    path.write_text(text + tomli_w.dumps(demo_config(base_url, port)), encoding="utf-8")
    return path


async def backfill(site: Site, clock: list[datetime]) -> int:
    """Acquire the past day once, at 15-minute steps, with the sources' clock set back."""
    service = build_service(site)
    try:
        if service.store.latest_run() is not None:
            return 0
        start = datetime.now(UTC) - BACKFILL
        steps = int(BACKFILL / BACKFILL_STEP)
        log.info("filling the last %s of history (%d runs) ...", BACKFILL, steps)
        for step in range(steps):
            clock[0] = start + step * BACKFILL_STEP
            await service.runner.run(clock[0])
        return steps
    finally:
        await service.aclose()


async def run_demo(folder: Path, port: int = 8080) -> None:
    """Serve the simulated sources and the demo site until interrupted."""
    clock = [datetime.now(UTC)]
    with DemoSources(clock=lambda: clock[0], slow_seconds=0.0) as history:
        await backfill(load_site(write_demo_site(folder, history.base_url, port)), clock)
    with DemoSources() as live:
        site = load_site(write_demo_site(folder, live.base_url, port))
        log.info("demo site in %s; open http://127.0.0.1:%d/", folder.resolve(), port)
        await serve_site(site)

"""A simulated day of alarms: 96 runs through the real detector, outbox and channels.

Goal: the whole day, with mail to a real SMTP server and webhooks to a real HTTP server on
loopback, takes at most 60 s on SQLite (and on PostgreSQL when HAPPYFACE_BENCH_PG_URL names an
empty database). Prints the wall time, the time per run and what was sent.

Run: .venv/bin/python bench/bench_alarms.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from tests.fixtures.alarm_day import RUNS, Day, load_day_site
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.webhook import WebhookServer

from happyface.alarms import notification_log

GOAL = 60.0


async def simulate(database_url: str, folder: Path) -> float:
    """Live through the day once; its wall time in seconds."""
    with SmtpServer() as smtp, WebhookServer() as hook:
        day = Day(load_day_site(folder, smtp.port, hook.url("")), database_url)
        started = time.perf_counter()
        for run in range(RUNS):
            await day.run(run)
        elapsed = time.perf_counter() - started
        sent = notification_log(day.store, state="sent", limit=1000)
        day.close()
    print(f"  {len(sent)} notifications sent: {len(smtp.messages)} mails, "
          f"{len(hook.posts)} webhook posts")  # fmt: skip
    return elapsed


def main() -> int:
    urls = {"sqlite": None, "postgresql": os.environ.get("HAPPYFACE_BENCH_PG_URL")}
    worst = 0.0
    for name, url in urls.items():
        if name != "sqlite" and not url:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            elapsed = asyncio.run(simulate(url or f"sqlite:///{folder / 'hf.db'}", folder))
        worst = max(worst, elapsed)
        print(f"{name}: a simulated day of {RUNS} runs took {elapsed:.2f} s "
              f"({elapsed / RUNS * 1000:.1f} ms per run; goal <= {GOAL:.0f} s)")  # fmt: skip
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())

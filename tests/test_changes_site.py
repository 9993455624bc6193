"""Changes through real acquisitions: stored once, read by the API and /metrics, and alarmed
on by mail through a real SMTP server, with the status alarms' acknowledgement machinery."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from happyface.cli.assembly import build_service
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.result import Result
from happyface.status import Status
from happyface.storage import ModuleRecord, Store, open_store
from happyface.units import humanise
from happyface.web.app import create_app
from tests.fixtures.changing import Answer, ChangingServer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import Client

T0 = datetime(2026, 11, 2, tzinfo=UTC)
STEP = timedelta(minutes=15)
HISTORY = 4 * 96  # four days at 15 minutes, stored before the real runs

SITE = """
[site]
title = "Changes"
interval = "15m"
[site.archive]
enabled = false

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "efficiency"
type = "json_value"
category = "batch"
title = "CPU efficiency"
source = "{url}"
settings.values = {{ efficiency = "$.efficiency" }}

[[channel]]
id = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "hf@example.org"
to = ["shift@example.org"]
timeout = "5s"

[[alarm]]
id = "efficiency-drop"
modules = ["efficiency"]
metrics = ["efficiency"]
change = "drop"
min_relative = 0.3
min_duration = "1h"
confirm = 1
notify = ["mail"]
"""


def make_site(folder: Path, url: str, smtp_port: int) -> Site:
    (folder / "happyface.toml").write_text(SITE.format(url=url, smtp_port=smtp_port))
    return load_site(folder)


def store_history(store: Store, site: Site, level: float) -> None:
    """Four days of runs around `level`, stored as a run stores them."""
    rng = np.random.default_rng(3)
    for i in range(HISTORY):
        t = T0 + i * STEP
        value = float(level + rng.normal(0, 2))
        record = ModuleRecord(
            "efficiency", "batch", Status.HAPPY, "", Result(metrics={"efficiency": value})
        )
        run_id = store.begin_run(t, "history", site.snapshot)
        assert run_id is not None
        store.finish_run(run_id, [record], {"batch": Status.HAPPY}, t + timedelta(seconds=2))


async def acquire(site: Site, server: ChangingServer, values: list[float], first: int) -> None:
    """Real runs, one per value, each served by the local source."""
    service = build_service(site)
    try:
        for k, value in enumerate(values):
            body = json.dumps({"efficiency": value}).encode()
            server.answers["/eff.json"] = Answer(body)
            await service.runner.run(T0 + (first + k) * STEP)
    finally:
        await service.aclose()


def test_a_drop_is_stored_once_shown_and_mailed(
    tmp_path: Path, changing_server: ChangingServer, smtp_server: SmtpServer
) -> None:
    site = make_site(tmp_path, changing_server.url("/eff.json"), smtp_server.port)
    store = open_store(site.database_url)
    store_history(store, site, 80.0)
    store.close()
    rng = np.random.default_rng(4)
    dropped = [float(40 + rng.normal(0, 2)) for _ in range(12)]
    asyncio.run(acquire(site, changing_server, dropped[:8], HISTORY))
    # a second process (a restart) warms up from the store and tells nothing again
    asyncio.run(acquire(site, changing_server, dropped[8:], HISTORY + 8))

    store = open_store(site.database_url)
    try:
        (change,) = store.changes(T0, T0 + timedelta(days=30))
        assert change.at == T0 + HISTORY * STEP
        assert change.metric == "efficiency" and change.direction == "drop"
        assert 78 < change.before < 82 and 38 < change.after < 42
        now = T0 + (HISTORY + 12) * STEP
        app = create_app(site, store)
        app.state.dashboard.now = lambda: now
        client = Client(app)
        listed = client.get("/api/v1/changes?since=2026-11-01T00:00:00Z").json()
        assert [(c["module"], c["metric"], c["kind"]) for c in listed] == [
            ("efficiency", "efficiency", "level")
        ]
        assert "m=efficiency%3Aefficiency" in listed[0]["plot"] and "from=" in listed[0]["plot"]
        per_module = client.get("/api/v1/modules/efficiency/changes?metric=efficiency").json()
        assert per_module == listed
        assert client.get("/api/v1/modules/nothere/changes").status_code == 404
        assert client.get("/api/v1/changes?since=yesterday").status_code in (400, 422)
        levels = f"{humanise(change.before)} → {humanise(change.after)}"
        for page in ("/", "/module/efficiency"):
            html = client.get(page).text
            assert "What changed" in html and levels in html, page
            assert "efficiency · efficiency" in html and "m=efficiency%3Aefficiency" in html
        metrics = client.get("/metrics").text
        assert 'happyface_changes_recent{module="efficiency"} 1.0' in metrics
    finally:
        store.close()
    (mail,) = smtp_server.messages
    body = mail.get_payload(decode=True).decode()
    said = f"efficiency: level drop from {change.before:.4g} to {change.after:.4g}"
    assert said in body and "since 2026-11-06 00:00 UTC" in body

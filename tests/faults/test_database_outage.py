"""The database goes away in the middle of a run: the run is recorded as failed with the
database's reason once it is back (never "process ended mid-run"), the slot keeps one record,
and the next run is not refused by the lock the outage left behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from happyface.acquisition.schedule import slot_of
from happyface.cli.assembly import build_service
from happyface.config.load import load_site
from tests.faults.proxy import TcpProxy
from tests.faults.sites import all_runs, write_faulty_site
from tests.fixtures.sources import MisbehavingServer


@pytest.mark.postgres
async def test_an_outage_mid_run_is_recorded_with_its_reason(
    tmp_path: Path, postgres_url: str, misbehaving_server: MisbehavingServer
) -> None:
    direct = make_url(postgres_url)
    with TcpProxy((direct.host or "127.0.0.1", direct.port or 5432)) as proxy:
        through_proxy = direct.set(port=proxy.port).render_as_string(hide_password=False)
        site = load_site(write_faulty_site(tmp_path, through_proxy, misbehaving_server))
        service = build_service(site)
        try:
            slot = slot_of(datetime.now(UTC), site.settings.interval)
            run = asyncio.create_task(service.scheduler.run_slot(slot))
            while not all_runs(postgres_url):  # the run began: its record is 'running'
                await asyncio.sleep(0.05)
            proxy.cut()
            await run  # logged, never raised
            (left,) = all_runs(postgres_url)
            assert left.state == "running"  # the database could not be told
            proxy.restore()
            following = slot + timedelta(seconds=site.settings.interval)
            await service.scheduler.run_slot(following)
        finally:
            await service.aclose()
    failed, ok = all_runs(postgres_url)
    assert (failed.slot, failed.state) == (slot, "failed")
    assert failed.error.startswith("database postgresql://")
    assert "unreachable" in failed.error
    assert (ok.slot, ok.state) == (following, "ok")  # not refused by the lock left behind

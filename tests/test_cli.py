"""The `happyface` command: init, check, modules, module-config, acquire, failures."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from happyface import Result, Status
from happyface.cli.main import main
from happyface.storage import ModuleRecord, open_store
from tests.fixtures.site import write_site

BROKEN = """
[site]
title = "broken"
interval = "soon"

[[module]]
id = "m"
type = "no_such_type"
category = "nowhere"
title = "m"
"""


def test_init_creates_a_site_that_checks_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site), "--title", "Tier-2 Göttingen"]) == 0
    assert main(["-c", str(site), "check"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "host_health" in out
    assert main(["-c", str(site), "acquire"]) == 0
    assert "stored: 1 modules" in capsys.readouterr().out
    store = open_store(f"sqlite:///{site / 'happyface.db'}")
    try:
        latest = store.latest_run()
        assert latest is not None
        (result,) = store.results(latest.id)
        assert result.module_id == "host_health"
        assert "load.5m" in result.metrics
    finally:
        store.close()


def test_acquire_from_cron_cleans_the_store_at_most_hourly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without `serve` nothing else packs ended days or applies retention: each `acquire`
    does, once no process has cleaned the store for an hour."""
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    url = f"sqlite:///{site / 'happyface.db'}"
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    store = open_store(url)
    try:  # a run of an ended day, stored as a row
        run = store.begin_run(two_days_ago, "earlier", {})
        assert run is not None
        result = Result(message="ok")
        record = ModuleRecord("host_health", "system", Status.HAPPY, "ok", result)
        store.finish_run(run, [record], {"system": Status.HAPPY}, two_days_ago)
        assert store.last_cleanup() is None
    finally:
        store.close()
    assert main(["-c", str(site), "acquire"]) == 0
    store = open_store(url)
    try:
        cleaned = store.last_cleanup()
        assert cleaned is not None and datetime.now(UTC) - cleaned < timedelta(minutes=1)
        with store.engine.connect() as conn:  # the ended day is packed, today's run is a row
            assert conn.execute(sa.text("SELECT count(*) FROM result_days")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM results")).scalar() == 1
    finally:
        store.close()
    assert main(["-c", str(site), "acquire"]) == 0  # within the hour: no cleanup again
    store = open_store(url)
    try:
        assert store.last_cleanup() == cleaned
        ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        with store.engine.begin() as conn:  # as if written by a clock a day fast
            conn.execute(
                sa.text("UPDATE meta SET value = :v WHERE key = 'cleaned_at'"), {"v": ahead}
            )
    finally:
        store.close()
    assert main(["-c", str(site), "acquire"]) == 0  # a clean-up "from the future" is no reason
    store = open_store(url)
    try:
        again = store.last_cleanup()
        assert again is not None and abs(datetime.now(UTC) - again) < timedelta(minutes=1)
    finally:
        store.close()
    capsys.readouterr()


def test_init_refuses_an_existing_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert main(["init", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_check_lists_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_site(tmp_path, BROKEN)
    assert main(["-c", str(config), "check"]) == 2
    err = capsys.readouterr().err
    assert "problem(s)" in err
    assert "'soon' is not a duration" in err
    assert "unknown module type 'no_such_type'" in err
    assert "Traceback" not in err


def test_acquire_with_a_bad_config_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_site(tmp_path, BROKEN)
    assert main(["-c", str(config), "acquire"]) == 2
    assert not (tmp_path / "happyface.db").exists()


def test_modules_lists_the_installed_types(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["modules"]) == 0
    out = capsys.readouterr().out
    assert "host_health" in out and "jobs" in out


def test_module_config_prints_a_skeleton_that_parses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["module-config", "host_health"]) == 0
    skeleton = capsys.readouterr().out
    parsed = tomllib.loads(skeleton)
    assert parsed["module"][0]["type"] == "host_health"
    assert "# file systems to watch" in skeleton


def test_module_config_of_an_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["module-config", "nope"]) == 1
    assert "unknown module type 'nope'" in capsys.readouterr().err


def test_unreachable_database_is_recorded_once_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    main(["init", str(site)])
    config = site / "happyface.toml"
    text = config.read_text().replace('"sqlite:///happyface.db"', '"sqlite:///db/hf.db"')
    config.write_text(text)
    assert main(["-c", str(site), "acquire"]) == 1
    err = capsys.readouterr().err
    assert "recorded as failed once the database is back" in err
    assert "Traceback" not in err
    (site / "db").mkdir()
    assert main(["-c", str(site), "acquire"]) == 0
    store = open_store(f"sqlite:///{site / 'db' / 'hf.db'}")
    try:
        runs = store.runs(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC), include_failed=True)
        assert [r.state for r in runs].count("failed") == 1
        assert [r.state for r in runs].count("ok") == 1
        failed = next(r for r in runs if r.state == "failed")
        assert "database unreachable" in (failed.error or "")
    finally:
        store.close()


SLOW_SITE = """
[site]
title = "slow"
fetch_timeout = 60
lock_ttl = 1

[[category]]
id = "c"
title = "c"

[[module]]
id = "fast"
type = "host_health"
category = "c"
title = "fast"

[[module]]
id = "slow"
type = "jobs"
category = "c"
title = "slow"
source = "{url}"
"""


def test_a_killed_run_leaves_nothing_visible_and_is_failed_afterwards(
    tmp_path: Path, misbehaving_server: object
) -> None:
    url = misbehaving_server.url("/slow?seconds=30")  # type: ignore[attr-defined]
    config = write_site(tmp_path, SLOW_SITE.format(url=url))
    process = subprocess.Popen(
        [sys.executable, "-m", "happyface", "-c", str(config), "acquire"], stderr=subprocess.DEVNULL
    )
    database = tmp_path / "happyface.db"
    store = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if database.exists():
            store = open_store(f"sqlite:///{database}")
            if store.runs(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC), include_failed=True):
                break
            store.close()
            store = None
        time.sleep(0.2)
    assert store is not None, "the run never began"
    process.send_signal(signal.SIGKILL)
    process.wait()
    try:
        assert store.latest_run() is None  # nothing of the killed run is visible
        time.sleep(1.5)  # the dead process's lock expires
        assert store.acquire_lock("tester", 60, datetime.now(UTC))
        assert store.abandon_stale_runs("tester", datetime.now(UTC)) == 1
        (run,) = store.runs(
            datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC), include_failed=True
        )
        assert run.state == "failed" and "interrupted" in (run.error or "")
    finally:
        store.close()

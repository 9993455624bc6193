"""The host_health type: disks, load, and the recent runs from the instance's own API."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from happyface import ExtractError, RawInput, Status
from happyface.modules.host_health import HostHealth, HostHealthSettings
from happyface.rules import rate

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
RUNS = [
    {
        "id": 12,
        "started_at": "2026-11-25T11:45:00Z",
        "finished_at": "2026-11-25T11:45:03Z",
        "state": "ok",
        "error": "",
        "duration": 3.2,
    },
    {
        "id": 11,
        "started_at": "2026-11-25T11:30:00Z",
        "finished_at": "2026-11-25T11:30:01Z",
        "state": "failed",
        "error": "database unreachable",
        "duration": 1.0,
    },
    {
        "id": 10,
        "started_at": "2026-11-25T11:15:00Z",
        "finished_at": "2026-11-25T11:15:09Z",
        "state": "ok",
        "error": "",
        "duration": 9.5,
    },
]


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed, low load: the ratings below must not depend on what else runs on this host."""
    monkeypatch.setattr("happyface.modules.host_health.os.getloadavg", lambda: (0.5, 0.4, 0.3))


def module(tmp_path: Path) -> HostHealth:
    return HostHealth(HostHealthSettings(paths=[tmp_path]), {})


def runs_input(body: bytes) -> dict[str, RawInput]:
    return {"runs": RawInput(url="http://127.0.0.1/api/v1/runs", content=body, fetched_at=NOW)}


def test_disk_and_load_without_sources(tmp_path: Path) -> None:
    result = module(tmp_path).extract({}, NOW)
    assert 0 < result.metrics["disk.min_free_fraction"] <= 1
    assert result.metrics["load.per_cpu"] == pytest.approx(0.4 / (os.cpu_count() or 1))
    assert "runs.failed" not in result.metrics
    assert rate(result, HostHealth.default_rules)[0] in (Status.HAPPY, Status.NEUTRAL)


def test_recent_runs_are_counted_and_rated(tmp_path: Path) -> None:
    result = module(tmp_path).extract(runs_input(json.dumps(RUNS).encode()), NOW)
    assert result.metrics["runs.failed"] == 1
    assert result.metrics["runs.duration.last"] == 3.2
    assert result.metrics["runs.duration.max"] == 9.5
    assert "1 of 3 runs failed" in result.message
    status, message = rate(result, HostHealth.default_rules)
    assert status in (Status.NEUTRAL, Status.UNHAPPY) and "1 of the recent runs failed" in message


@pytest.mark.parametrize("body", [b"", b"{", b'{"runs": 1}', b'[{"id": 1}]', b"\xff"])
def test_a_bad_runs_source_is_an_extract_error(tmp_path: Path, body: bytes) -> None:
    with pytest.raises(ExtractError):
        module(tmp_path).extract(runs_input(body), NOW)


def test_an_unmeasurable_path_is_an_extract_error(tmp_path: Path) -> None:
    broken = HostHealth(HostHealthSettings(paths=[tmp_path / "gone"]), {})
    with pytest.raises(ExtractError, match="cannot measure the disk"):
        broken.extract({}, NOW)

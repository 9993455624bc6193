"""The JSON API v1: answers, time machine, errors, and a schemathesis run against its OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.fixtures.web import NOW, Client, WebSite

EXAMPLES = 30


def test_openapi_lists_only_the_api(web_client: Client) -> None:
    schema = web_client.get("/api/v1/openapi.json").json()
    assert schema["info"]["version"] == "1.0.0"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert {
        "/api/v1/status",
        "/api/v1/runs",
        "/api/v1/modules/{module_id}/metrics/{metric}",
    } <= set(schema["paths"])
    snapshot = schema["components"]["schemas"]["Snapshot"]
    assert snapshot["properties"]["stale"]["description"]
    assert web_client.get("/openapi.json").status_code == 404


def test_status_now_and_in_the_past(web_client: Client) -> None:
    now = web_client.get("/api/v1/status").json()
    assert now["live"] and not now["stale"] and now["run"]["id"] == 8
    batch = now["categories"][0]
    assert (batch["id"], batch["status"], batch["score"], batch["type"]) == (
        "batch",
        "unhappy",
        0.0,
        "rated",
    )
    assert [m["id"] for m in batch["modules"]] == ["jobs", "queue"]
    past = web_client.get("/api/v1/status?at=2026-11-25T11:20:00Z").json()
    assert not past["live"] and past["run"]["started_at"] == "2026-11-25T11:15:00Z"
    storage = past["categories"][1]
    assert storage["status"] == "error" and storage["modules"][0]["score"] == -1.0
    assert storage["url"] == "http://test/category/storage?at=2026-11-25T11%3A15Z"


def test_categories_and_modules(web_client: Client) -> None:
    assert [c["id"] for c in web_client.get("/api/v1/categories").json()] == ["batch", "storage"]
    one = web_client.get("/api/v1/categories/storage?at=2026-11-25T11:16:00Z").json()
    assert one["status"] == "error"
    modules = web_client.get("/api/v1/modules").json()
    assert {m["id"]: m["kind"] for m in modules} == {
        "jobs": "rated",
        "queue": "unrated",
        "transfers": "rated",
    }
    jobs = web_client.get("/api/v1/modules/jobs").json()
    assert jobs["metrics"] == {"running": 107.0, "pending": 14.0}
    assert jobs["instruction"] == "Call the batch admin on duty"
    failed = web_client.get("/api/v1/modules/transfers?at=2026-11-25T11:15:00Z").json()
    assert failed["status"] == "error" and "not XML" in failed["error"]


def test_runs_results_and_metric_history(web_client: Client, web_site: WebSite) -> None:
    runs = web_client.get("/api/v1/runs?limit=3").json()
    assert [r["id"] for r in runs] == web_site.ids[::-1][:3]
    one = web_client.get(f"/api/v1/runs/{web_site.ids[5]}").json()
    # the unrated queue's warning counts in batch as a warning (status.counted_status)
    assert one["categories"] == {"batch": "neutral", "storage": "error"}
    history = web_client.get(
        "/api/v1/modules/jobs/results?from=2026-11-25T10:00:00Z&to=2026-11-25T10:30:00Z"
    ).json()
    assert [r["message"] for r in history["results"]] == [
        "102 jobs running",
        "101 jobs running",
        "100 jobs running",
    ]
    series = web_client.get(
        "/api/v1/modules/jobs/metrics/running?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z"
    ).json()
    assert [p["value"] for p in series["points"]] == [100.0 + i for i in range(8)]
    names = web_client.get("/api/v1/modules/queue/metrics").json()
    assert names == {"module": "queue", "metrics": ["length"]}


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/modules/nope", 404),
        ("/api/v1/modules/nope/results", 404),
        ("/api/v1/modules/jobs/metrics/nope", 404),
        ("/api/v1/runs/999999", 404),
        ("/api/v1/status?at=garbage", 422),
        ("/api/v1/runs?limit=0", 422),
        ("/api/v1/status?at=1990-01-01T00:00:00Z", 404),
    ],
)
def test_errors_are_json(web_client: Client, url: str, status: int) -> None:
    answer = web_client.get(url)
    assert answer.status_code == status and answer.headers["content-type"] == "application/json"


def test_site_links_are_absolute(web_client: Client) -> None:
    site = web_client.get("/api/v1/site").json()
    assert site["latest_run"]["id"] == 8 and site["interval"] == 900.0
    assert site["links"]["openapi"] == "http://test/api/v1/openapi.json"


def test_status_is_cached_per_run(web_site: WebSite) -> None:
    app = web_site.app(NOW)
    client = Client(app)
    first = client.get("/api/v1/status").content
    hits = app.state.dashboard.cache.hits
    assert client.get("/api/v1/status").content == first
    assert app.state.dashboard.cache.hits == hits + 1


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi(web_site: WebSite, mode: GenerationMode) -> None:
    """Every operation, with generated valid and invalid input: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", web_site.app(NOW))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 15
    skipped: list[str] = []
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_parameters(operation):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate()

        try:
            check()
        except Unsatisfiable:
            # a free-text path parameter (a module id) has no invalid value to send
            assert mode is GenerationMode.NEGATIVE, operation.label
            skipped.append(operation.label)
    assert len(skipped) <= 1, skipped


def _has_parameters(operation: Any) -> bool:
    return bool(len(operation.query) or len(operation.path_parameters))


def test_at_may_be_relative_to_now_as_on_the_pages(web_client: Client) -> None:
    """`at=-6h` works in the API as it does on pages and plots (relative to the server's clock)."""
    moment = datetime(
        2026, 11, 25, 11, 20, tzinfo=UTC
    )  # between two runs: a second's drift is nothing
    seconds = round((datetime.now(UTC) - moment).total_seconds())
    relative = web_client.get(f"/api/v1/status?at=-{seconds}s")
    absolute = web_client.get("/api/v1/status?at=2026-11-25T11:20:00Z")
    assert relative.status_code == 200
    assert relative.json()["run"] == absolute.json()["run"]
    refused = web_client.get("/api/v1/status?at=-soon")
    assert refused.status_code == 422 and "-6h" in refused.text

"""Since when: status periods stored as runs finish, shown on pages, in the API and /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from happyface import Result, Status
from happyface.storage import ModuleRecord, Retention, Store, open_store
from happyface.storage.periods import Period
from happyface.web.pages.since import duration_text
from tests.fixtures.web import NOW, Client, WebSite
from tests.test_storage_migration import migrate

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
H, U, E = Status.HAPPY, Status.UNHAPPY, Status.ERROR


def run(store: Store, at: datetime, status: Status) -> int:
    run_id = store.begin_run(at, "test", {})
    assert run_id is not None
    record = ModuleRecord("pool", "storage", status, status.value, Result(status=status))
    store.finish_run(run_id, [record], {"storage": status}, at + timedelta(seconds=5))
    return run_id


def day(store: Store, statuses: list[Status]) -> None:
    for i, status in enumerate(statuses):
        run(store, T0 + i * HOUR, status)


def modules(periods: list[Period]) -> list[tuple[Status, datetime, datetime | None]]:
    return [(p.status, p.since, p.until) for p in periods if p.kind == "module"]


def test_a_period_opens_at_each_change_and_closes_at_the_next(database_url: str) -> None:
    store = open_store(database_url)
    day(store, [H, H, U, U, U, E, H])
    assert modules(store.periods_between(T0, T0 + 10 * HOUR)) == [
        (H, T0, T0 + 2 * HOUR),
        (U, T0 + 2 * HOUR, T0 + 5 * HOUR),
        (E, T0 + 5 * HOUR, T0 + 6 * HOUR),
        (H, T0 + 6 * HOUR, None),
    ]
    # the period at a past run is that run's own; the category has its own periods
    assert store.periods_at(T0 + 3 * HOUR)[("module", "pool")].since == T0 + 2 * HOUR
    assert store.periods_at(T0 + 9 * HOUR)[("category", "storage")].since == T0 + 6 * HOUR
    # a page reads the periods of the modules it shows, and of the categories
    assert set(store.periods_at(T0, ["other"])) == {("category", "storage")}
    # only a change writes: the periods of a day are as many as its changes
    assert len(store.periods_between(T0, T0 + 10 * HOUR)) == 2 * 4
    store.close()


def test_a_run_older_than_the_open_period_changes_nothing(database_url: str) -> None:
    store = open_store(database_url)
    day(store, [H, U])
    run(store, T0 - HOUR, E)  # written late, for an earlier time
    assert modules(store.periods_between(T0 - HOUR, T0 + 5 * HOUR)) == [
        (H, T0, T0 + HOUR),
        (U, T0 + HOUR, None),
    ]
    store.close()


def test_since_stays_right_after_retention_deletes_the_runs_it_began_with(
    database_url: str,
) -> None:
    store = open_store(database_url)
    day(store, [H, U] + [E] * 60)
    now = T0 + 61 * HOUR
    counts = store.cleanup(now, Retention(results_days=1))
    assert counts["runs"] == 37 and counts["periods"] == 4  # H and U of module and category
    assert store.periods_at(now)[("module", "pool")] == Period(
        "module", "pool", E, T0 + 2 * HOUR, None
    )
    store.close()


def test_the_migration_fills_the_periods_from_the_history(database_url: str) -> None:
    store = open_store(database_url)
    day(store, [H, U, U, H, E, E])
    written = store.periods_between(T0, T0 + 10 * HOUR)
    store.close()
    migrate(database_url, "0009", down=True)
    migrate(database_url, "head")
    store = open_store(database_url)
    assert store.periods_between(T0, T0 + 10 * HOUR) == written
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM shift_notes")).scalar() == 0
    store.close()


def test_pages_and_api_say_since_when(web_client: Client, web_site: WebSite) -> None:
    # jobs is unhappy in the newest run (number 7) only; queue says the same all day
    since = web_site.times[7]
    overview = web_client.get("/overview.json").json()
    jobs = next(t for t in overview["troubled"] if t["id"] == "jobs")
    assert jobs["since"]["since"] == since.isoformat()
    assert jobs["since"]["text"] == "since 11:45 UTC (5 min)"
    cards = {c["id"]: c for c in overview["categories"]}
    assert cards["storage"]["since"]["since"] == web_site.times[6].isoformat()
    page = web_client.get("/category/batch").text
    assert "since 11:45 UTC (5 min)" in page and "since 10:00 UTC (1 h 50 min)" in page
    api = web_client.get("/api/v1/modules/jobs").json()
    assert (api["since"], api["duration"]) == ("2026-11-25T11:45:00Z", 300.0)
    status = web_client.get("/api/v1/status").json()
    queue = status["categories"][0]["modules"][1]
    assert queue["id"] == "queue" and queue["duration"] == (NOW - web_site.times[0]).seconds


def test_the_time_machine_measures_to_the_shown_run(web_client: Client) -> None:
    past = web_client.get("/api/v1/modules/transfers?at=2026-11-25T11:16:00Z").json()
    assert past["status"] == "error"
    assert (past["since"], past["duration"]) == ("2026-11-25T11:15:00Z", 0.0)


def test_metrics_export_since_when_as_timestamps(web_client: Client, web_site: WebSite) -> None:
    families = {f.name: f for f in text_string_to_metric_families(web_client.get("/metrics").text)}
    samples = families["happyface_module_state_since_timestamp_seconds"].samples
    since = {s.labels["module"]: (s.labels["status"], s.value) for s in samples}
    assert since["jobs"] == ("unhappy", web_site.times[7].timestamp())
    assert since["queue"] == ("neutral", web_site.times[0].timestamp())
    categories = families["happyface_category_state_since_timestamp_seconds"].samples
    assert {s.labels["category"] for s in categories} == {"batch", "storage"}


def test_the_history_collapses_repeated_results(web_client: Client) -> None:
    queue = web_client.get("/module/queue.json?from=-1d").json()
    assert [(h["runs"], h["message"]) for h in queue["history"]] == [(8, "queue long")]
    assert queue["history"][0]["time"] == "2026-11-25T10:00:00+00:00"
    assert queue["history"][0]["until"] == "2026-11-25T11:45:00+00:00"
    assert "8 runs" in web_client.get("/module/queue?from=-1d").text
    # jobs: happy, happy, happy, unhappy ... each change starts a row
    jobs = web_client.get("/module/jobs.json?from=-1d").json()
    assert [h["runs"] for h in jobs["history"]] == [1, 1, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "under a minute"),
        (300, "5 min"),
        (7200, "2 h"),
        (7800, "2 h 10 min"),
        (86400 * 3, "3 d"),
        (86400 * 3 + 4 * 3600 + 60, "3 d 4 h"),
    ],
)
def test_durations_read_like_people_say_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text

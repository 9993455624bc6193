"""Migration 0006: results stored whole with samples beside them become packed results.

A store at revision 0005 is filled the way that version wrote it (every result's JSON with
its metrics, one samples row per metric), upgraded by opening it, and read back: every result
gives exactly what it gave before, details are stored once per content, the curves come from
the packed samples. Downgrading gives the old rows back. Migration 0012 packs the hourly
rollups a day a row, and back; 0014 drops four of the results' foreign keys, and back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from happyface import Link, Status, Table
from happyface.storage import Point, open_store
from happyface.storage.engine import MIGRATIONS
from happyface.storage.hourly_rows import series_hours
from happyface.storage.schema import UTCDateTime, metadata

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
POOLS = {"name": "pools", "columns": ["pool", "free"], "rows": [["p1", 1.5]], "title": ""}
LINK = ["dCache", "https://dcache.example.org/info"]


def migrate(url: str, revision: str, down: bool = False) -> None:
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
        conn.commit()
    engine.dispose()


def old_payloads() -> list[dict[str, dict[str, Any]]]:
    """Per run, each module's JSON as 0005 stored it: the details of 'pools' change once."""
    first = {"tables": [POOLS], "links": [LINK], "details": {"note": "ünïcode"}}
    changed = {**first, "details": {"note": "pool p2 added"}}
    return [
        {"pools": {"metrics": {"free_tb": 12.5, "ratio": 0.4321}, **first}, "ping": {}},
        {"pools": {"metrics": {"free_tb": 13.0, "ratio": 0.1}, **first}, "ping": {}},
        {"pools": {"metrics": {"free_tb": -0.0, "ratio": 1e300}, **changed}, "ping": {}},
    ]


def table(name: str, *columns: str, **typed: Any) -> sa.TableClause:
    return sa.table(name, *map(sa.column, columns), *(sa.column(c, t) for c, t in typed.items()))


def fill_as_0005(url: str) -> None:
    """Rows as revision 0005's code wrote them."""
    payloads = old_payloads()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(table("modules", "id", "name").insert(), [
            {"id": 1, "name": "pools"}, {"id": 2, "name": "ping"}])  # fmt: skip
        conn.execute(table("categories", "id", "name").insert(), [{"id": 1, "name": "storage"}])
        conn.execute(table("series", "id", "module_id", "name").insert(), [
            {"id": 1, "module_id": 1, "name": "free_tb"},
            {"id": 2, "module_id": 1, "name": "ratio"}])  # fmt: skip
        runs = table("runs", "id", "state", "holder", "error", started_at=UTCDateTime())
        results = table("results", "run_id", "module_id", "category_id", "status", "message",
                        "data", "archive", "fetch_seconds", "extract_seconds", "error")  # fmt: skip
        samples = table("samples", "series_id", "run_id", "value")
        for i, payload in enumerate(payloads):
            run_id = i + 1
            conn.execute(runs.insert(), {"id": run_id, "state": "ok", "holder": "h", "error": "",
                                         "started_at": T0 + i * QUARTER})  # fmt: skip
            for module_id, name in ((1, "pools"), (2, "ping")):
                data = json.dumps(payload[name], separators=(",", ":"), sort_keys=True,
                                  ensure_ascii=False)  # fmt: skip
                conn.execute(results.insert(), {
                    "run_id": run_id, "module_id": module_id, "category_id": 1, "status": 2,
                    "message": f"{name} {i}", "data": data, "archive": f"runs/{i}/{name}",
                    "fetch_seconds": 0.25, "extract_seconds": 0.5, "error": ""})  # fmt: skip
            metrics = payload["pools"]["metrics"]
            conn.execute(samples.insert(), [
                {"series_id": 1, "run_id": run_id, "value": metrics["free_tb"]},
                {"series_id": 2, "run_id": run_id, "value": metrics["ratio"]}])  # fmt: skip
        meta = table("meta", "key", "value")
        conn.execute(meta.insert(), {"key": "samples_from", "value": T0.isoformat()})
    engine.dispose()


def test_0006_keeps_every_result_exactly_and_stores_details_once(database_url: str) -> None:
    migrate(database_url, "0005")
    fill_as_0005(database_url)
    store = open_store(database_url)  # upgrades to the newest revision
    try:
        for i, payload in enumerate(old_payloads()):
            rows = {r.module_id: r for r in store.results(i + 1)}
            pools, ping = rows["pools"], rows["ping"]
            expected = payload["pools"]
            assert pools.metrics == expected["metrics"]
            assert list(pools.metrics) == sorted(expected["metrics"])
            assert pools.tables == [Table("pools", ("pool", "free"), (("p1", 1.5),))]
            assert pools.links == [Link(*LINK)]
            assert pools.details == expected["details"]
            assert (pools.status, pools.message, pools.archive) == (
                Status.UNHAPPY, f"pools {i}", f"runs/{i}/pools")  # fmt: skip
            assert (pools.fetch_seconds, pools.extract_seconds) == (0.25, 0.5)
            assert (ping.metrics, ping.tables, ping.links, ping.details) == ({}, [], [], {})
        end = T0 + timedelta(hours=1)
        curve = store.metric_series("pools", "ratio", T0, end)
        assert curve == [
            Point(T0 + i * QUARTER, v, v, v) for i, v in enumerate((0.4321, 0.1, 1e300))
        ]
        engine = store.engine
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM result_details")).scalar() == 2
            assert not sa.inspect(conn).has_table("samples")
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        store.close()


def test_0006_downgrades_to_the_old_rows(database_url: str) -> None:
    migrate(database_url, "0005")
    fill_as_0005(database_url)
    migrate(database_url, "0006")
    migrate(database_url, "0005", down=True)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT run_id, module_id, data FROM results")).all()
        samples = conn.execute(sa.text("SELECT count(*) FROM samples")).scalar()
    engine.dispose()
    names = {1: "pools", 2: "ping"}
    payloads = old_payloads()
    assert len(stored) == 6 and samples == 6
    for run_id, module_id, data in stored:
        assert json.loads(data) == payloads[run_id - 1][names[module_id]]


def key_index(conn: sa.Connection) -> str:
    """PostgreSQL's definition of the results' key index."""
    return str(conn.exec_driver_sql("SELECT pg_get_indexdef('pk_results'::regclass)").scalar())


def test_0009_covers_the_results_key_on_postgresql_and_keeps_every_row(database_url: str) -> None:
    migrate(database_url, "0005")
    fill_as_0005(database_url)
    migrate(database_url, "0008")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT * FROM results ORDER BY module_id, run_id")).all()
    migrate(database_url, "0009")
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT * FROM results ORDER BY module_id, run_id")).all()
        if engine.dialect.name == "postgresql":
            assert key_index(conn).endswith("(module_id, run_id) INCLUDE (layout_id, metrics)")
    migrate(database_url, "0008", down=True)
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT * FROM results ORDER BY module_id, run_id")).all()
            == before
        )
        if engine.dialect.name == "postgresql":
            assert key_index(conn).endswith("(module_id, run_id)")
    engine.dispose()
    assert after == before and len(before) == 6


def old_hour_rows() -> list[tuple[int, int, int, float, float, float]]:
    """Hourly rollup rows as 0011 stored them: two series over a day boundary, with gaps, and
    numbers of every width (a count above 2**15, doubles)."""
    first = int(T0.timestamp()) // 3600 - 30  # 06:00 the day before T0
    rows = []
    for k, hour in enumerate((0, 1, 5, 17, 18, 20, 23, 45)):
        rows.append((1, first + hour, 4, 50.0 + k, 5.0, 20.0 - k))
        rows.append((2, first + hour, 40000 + k, 1e300 / (k + 1), -1.5, 0.1 * k))
    return sorted(rows)


def test_0012_packs_hourly_rollups_a_day_a_row_and_unpacks_them(database_url: str) -> None:
    migrate(database_url, "0005")
    fill_as_0005(database_url)
    migrate(database_url, "0011")
    rows = old_hour_rows()
    columns = ("series_id", "bucket", "n", "sum", "min", "max")
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            table("rollups_hourly", *columns).insert(),
            [dict(zip(columns, r, strict=True)) for r in rows],
        )
    migrate(database_url, "0012")
    with engine.connect() as conn:
        days = conn.execute(sa.text("SELECT series_id, day FROM rollups_hourly")).all()
        assert sorted(days) == sorted({(s, b // 24) for s, b, *_ in rows})  # 2 series x 3 days
        assert len(days) == 6
        for series_id in (1, 2):
            stored = series_hours(conn, series_id, 0, 10**7)
            expected = {
                b: [n, total, low, high] for s, b, n, total, low, high in rows if s == series_id
            }
            assert stored == expected
    migrate(database_url, "0011", down=True)
    with engine.connect() as conn:
        query = "SELECT series_id, bucket, n, sum, min, max FROM rollups_hourly ORDER BY 1, 2"
        assert [tuple(r) for r in conn.execute(sa.text(query))] == rows
    migrate(database_url, "head")  # and up again, from the rows the downgrade gave back
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rollups_hourly")).scalar() == 6
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def results_keys(engine: sa.Engine) -> list[str]:
    """The tables the results' foreign keys reference."""
    return sorted(fk["referred_table"] for fk in sa.inspect(engine).get_foreign_keys("results"))


def test_0014_drops_the_keys_of_results_but_the_details_one_and_keeps_every_row(
    database_url: str,
) -> None:
    migrate(database_url, "0005")
    fill_as_0005(database_url)
    migrate(database_url, "0013")
    engine = sa.create_engine(database_url)
    query = sa.text("SELECT * FROM results ORDER BY module_id, run_id")
    with engine.connect() as conn:
        before = conn.execute(query).all()
    assert results_keys(engine) == [
        "categories", "metric_layouts", "modules", "result_details", "runs"]  # fmt: skip
    migrate(database_url, "0014")
    with engine.connect() as conn:
        assert conn.execute(query).all() == before and len(before) == 6
        if engine.dialect.name == "sqlite":  # the copy is WITHOUT ROWID like the original
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'results'"))
            assert sql.scalar_one().rstrip().endswith("WITHOUT ROWID")
    assert results_keys(engine) == ["result_details"]
    migrate(database_url, "0013", down=True)
    with engine.connect() as conn:
        assert conn.execute(query).all() == before
    assert len(results_keys(engine)) == 5
    engine.dispose()

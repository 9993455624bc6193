"""Downtimes: one-off and weekly windows, a GOCDB feed mapped by host names, entered by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from happyface.acquisition.fetch import Fetcher
from happyface.alarms import (
    cancel_downtime,
    downtimes,
    downtimes_at,
    in_downtime,
    schedule_downtime,
)
from happyface.alarms.downtime import config_windows
from happyface.alarms.gocdb import FeedError, FeedReader, import_feed, mapped, parse_feed
from happyface.alarms.store import AlarmStore
from happyface.config.alarms import DowntimeConfig
from happyface.config.site import Site
from happyface.storage import Store, open_store
from tests.fixtures.alarm_day import T0, load_day_site

FEED = Path(__file__).parent / "data" / "gocdb_downtimes.xml"
HOSTS = {"dcache-*.gridka.de": ["dcache_*"], "ce-*.gridka.de": ["batch"]}


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return load_day_site(tmp_path, 25, "http://127.0.0.1:9")


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    store = open_store(database_url)
    yield store
    store.close()


def test_a_weekly_window_recurs_in_its_time_zone() -> None:
    config = DowntimeConfig.model_validate({
        "id": "w", "modules": ["jobs"], "every": "week", "days": ["Tue", "thu"],
        "at": "08:00:00", "duration": "2h", "timezone": "Europe/Berlin",
    })  # fmt: skip
    windows = config_windows(config, at(0, day=4), at(0, day=12))
    # Berlin is UTC+1 in March: 08:00 there is 07:00 UTC
    assert [(w.start, w.end) for w in windows] == [
        (at(7, day=5), at(9, day=5)),
        (at(7, day=7), at(9, day=7)),
    ]


def test_a_window_overlapping_the_start_of_the_range_is_found() -> None:
    config = DowntimeConfig.model_validate({
        "id": "d", "categories": ["batch"], "every": "day", "at": "23:00:00", "duration": "3h",
    })  # fmt: skip
    (window,) = config_windows(config, at(1), at(1, 30))
    assert (window.start, window.end) == (at(23, day=4), at(2))


def test_a_one_off_window_without_offset_is_in_its_time_zone() -> None:
    config = DowntimeConfig.model_validate({
        "id": "o", "modules": ["jobs"], "start": datetime(2024, 3, 5, 10),
        "end": datetime(2024, 3, 5, 12), "timezone": "Europe/Berlin",
    })  # fmt: skip
    (window,) = config_windows(config, at(0), at(23))
    assert (window.start, window.end) == (at(9), at(11))


def test_the_feed_is_parsed_merged_and_mapped_by_host_name() -> None:
    entries = {e.id: e for e in parse_feed(FEED.read_bytes())}
    assert set(entries) == {"35120", "35121", "35122", "35123"}
    assert entries["35120"].hosts == ("dcache-se-cms.gridka.de", "dcache-cms-webdav.gridka.de")
    assert entries["35122"].hosts == ("ce-2.gridka.de", "ce-3.gridka.de")  # merged, lowered
    assert (entries["35120"].start, entries["35120"].end) == (at(9), at(13))
    found = mapped(list(entries.values()), "gocdb", HOSTS, ["OUTAGE"])
    # the WARNING and the other site's host silence nothing
    assert [(d.external_id, d.subjects) for d in found] == [
        ("35120", ("dcache_*",)),
        ("35122", ("batch",)),
    ]


@pytest.mark.parametrize(
    "content",
    [b"<html>", b"<downtimes/>", b"<results><DOWNTIME ID='1'><START_DATE>soon</START_DATE>"
     b"<END_DATE>1</END_DATE></DOWNTIME></results>"],
)  # fmt: skip
def test_a_broken_feed_is_refused_with_a_reason(content: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(content)


def feed_config(url: str) -> DowntimeConfig:
    return DowntimeConfig.model_validate({"id": "gocdb", "feed": url, "hosts": HOSTS})


def test_imported_downtimes_silence_modules_and_categories(site: Site, db: Store) -> None:
    store = AlarmStore(db)
    import_feed(store, feed_config("unused"), FEED.read_bytes(), T0)
    assert in_downtime(site, db, "dcache_pools", at(10))
    assert not in_downtime(site, db, "dcache_pools", at(13))  # the end is exclusive
    assert not in_downtime(site, db, "jobs", at(10))
    assert in_downtime(site, db, "batch", at(17, 30))
    assert in_downtime(site, db, "condor", at(17, 30))  # a module of the category "batch"
    (why,) = downtimes_at(site, db, "dcache_movers", at(9))
    assert why.source == "gocdb" and "dCache upgrade" in why.description
    # the weekly batch maintenance from the config comes along too
    assert in_downtime(site, db, "jobs", at(14, 30))
    listed = downtimes(site, db, at(0), at(23, 59))
    assert [(d.source, d.start.hour) for d in listed] == [
        ("gocdb", 9),
        ("batch-maintenance", 14),
        ("gocdb", 17),
    ]


def test_a_new_answer_of_the_feed_replaces_the_old_one(site: Site, db: Store) -> None:
    store = AlarmStore(db)
    import_feed(store, feed_config("unused"), FEED.read_bytes(), T0)
    import_feed(store, feed_config("unused"), b"<results/>", T0 + timedelta(hours=1))
    assert not in_downtime(site, db, "dcache_pools", at(10))


async def test_the_reader_fetches_the_feed_and_keeps_it_when_it_breaks(
    site: Site, db: Store, tmp_path: Path
) -> None:
    feed = tmp_path / "downtimes.xml"
    feed.write_bytes(FEED.read_bytes())
    fetcher = Fetcher(base_dir=tmp_path)
    reader = FeedReader([feed_config(str(feed))], AlarmStore(db), fetcher)
    await reader.refresh(T0)
    assert in_downtime(site, db, "dcache_pools", at(10))
    feed.write_text("<html>maintenance</html>")
    await reader.refresh(T0 + timedelta(hours=2))  # due again, but broken: the old answer stays
    assert in_downtime(site, db, "dcache_pools", at(10))
    await fetcher.aclose()


def test_a_downtime_entered_by_hand_can_be_cancelled(site: Site, db: Store) -> None:
    ident = schedule_downtime(db, ["condor"], at(20), at(22), "kernel update",
                              "/DC=org/CN=Admin", T0)  # fmt: skip
    (window,) = downtimes_at(site, db, "condor", at(21))
    assert (window.id, window.created_by, window.source) == (ident, "/DC=org/CN=Admin", "manual")
    assert not in_downtime(site, db, "jobs", at(21))
    assert cancel_downtime(db, ident)
    assert not in_downtime(site, db, "condor", at(21))
    assert not cancel_downtime(db, ident)
    with pytest.raises(ValueError):
        schedule_downtime(db, ["condor"], at(22), at(20), "backwards", "admin", T0)

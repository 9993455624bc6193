"""The classic `<happyface>` XML export as another instance's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from happyface import ExtractError, Result, Status
from happyface.errors import FormatError
from happyface.modules.happyface_instance import HappyFaceInstance
from happyface.modules.happyface_remote import from_xml
from tests.fixtures.modules import NOW, data, raw


@pytest.mark.parametrize("score", ["nan", "inf", "-inf", "half"])
def test_a_status_that_is_not_a_finite_number_is_refused(score: str) -> None:
    body = f"<happyface><category><name>Batch</name><status>{score}</status></category></happyface>"
    with pytest.raises(ExtractError, match="'Batch' has status"):
        from_xml(body.encode())


def test_a_numeric_status_is_read_with_the_old_thresholds() -> None:
    body = b"<happyface><category><name>Batch</name><status> 0.5 </status></category></happyface>"
    assert from_xml(body).categories[0].status == "neutral"


# -- HappyFace 3 writes its local time --------------------------------------------------------

#: the export's run, 2024-06-01 12:30 in Berlin (CEST, UTC+2), is 10:30 UTC
RUN_UTC = datetime(2024, 6, 1, 10, 30, tzinfo=UTC)


def instance(content: bytes, now: datetime, **settings: Any) -> Result:
    module = HappyFaceInstance(HappyFaceInstance.Settings(format="xml", **settings), {})
    return module.extract({"main": raw(content, now)}, now)


def test_a_berlin_instance_read_90_minutes_after_its_run_is_stale() -> None:
    now = RUN_UTC + timedelta(minutes=90)
    result = instance(data("happyface3_export.xml"), now, timezone="Europe/Berlin")
    assert result.status is Status.ERROR
    assert result.metrics["age_seconds"] == 90 * 60
    assert "stale" in result.message


def test_a_fresh_berlin_instance_shows_its_categories() -> None:
    now = RUN_UTC + timedelta(minutes=10)
    result = instance(data("happyface3_export.xml"), now, timezone="Europe/Berlin")
    assert result.status is Status.NEUTRAL  # storage is 0.5
    assert result.details["instance"]["time"] == RUN_UTC.isoformat()


def test_local_time_read_as_utc_is_in_the_future_and_says_so() -> None:
    now = RUN_UTC + timedelta(minutes=90)  # 12:00 UTC, the export says 12:30
    result = instance(data("happyface3_export.xml"), now)
    assert result.status is Status.ERROR
    assert result.details["instance"]["future"] is True
    assert "in the future" in result.message and "`timezone`" in result.message


def test_a_clock_a_little_ahead_is_not_the_future() -> None:
    result = instance(data("happyface3_export.xml"), datetime(2024, 6, 1, 12, 28, tzinfo=UTC))
    assert result.status is Status.NEUTRAL and not result.details["instance"]["future"]


def test_winter_time_is_one_hour_ahead() -> None:
    winter = data("happyface3_export.xml").replace(b"2024-06-01 12:30", b"2024-01-15 12:30")
    remote = from_xml(winter, ZoneInfo("Europe/Berlin"))
    assert remote.time == datetime(2024, 1, 15, 11, 30, tzinfo=UTC)


def test_the_timezone_must_be_an_iana_name() -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        HappyFaceInstance.Settings(timezone="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<dCache><pools/></dCache>", "expected a <happyface> export, found a <dCache>"),
        (b"<happyface><title>x</title></happyface>", "with <category> elements"),
    ],
)
def test_xml_that_is_no_export_is_a_format_error(body: bytes, words: str) -> None:
    with pytest.raises(FormatError, match=words):
        from_xml(body)


def test_json_that_is_no_status_names_what_is_missing() -> None:
    module = HappyFaceInstance(HappyFaceInstance.Settings(), {})
    with pytest.raises(FormatError, match=r"expected a HappyFace status .* found no 'categories'"):
        module.extract({"main": raw(b'{"title": "x"}')}, NOW)

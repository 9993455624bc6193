"""The time machine: parsing date/time/at/s, stepping by run and by step, its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from happyface.web.errors import WebError
from happyface.web.pages.timemachine import parse_instant, parse_step, parse_time_query
from happyface.web.urls import format_at, format_step
from tests.fixtures.web import BASE, INTERVAL, NOW, Client, WebSite, write_run

STEP = 900.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T12:00Z", datetime(2026, 11, 25, 12, 0, tzinfo=UTC)),
        ("2026-11-25T12:00:30+01:00", datetime(2026, 11, 25, 11, 0, 30, tzinfo=UTC)),
        ("2026-11-25T12:00", datetime(2026, 11, 25, 12, 0, tzinfo=UTC)),  # naive is UTC
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "text",
    ["garbage", "2026-13-01", "1200-01-01T00:00Z", "", "T12:00", "0001-01-01T00:00+01:00"],
)
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(WebError) as caught:
        parse_instant(text)
    assert caught.value.status == 400 and "at=" in caught.value.message


def test_parse_step_old_and_duration_forms() -> None:
    assert parse_step("00:15") == 900
    assert parse_step("01:30") == 5400
    assert parse_step("2h") == 7200
    for bad in ("0:00", "xx", "10000:00", "-1h"):
        with pytest.raises(WebError):
            parse_step(bad)


def test_old_style_date_and_time() -> None:
    query = parse_time_query({"date": "2026-11-25", "time": "10:20", "s": "00:30"}, STEP, NOW)
    assert query.at == datetime(2026, 11, 25, 10, 20, tzinfo=UTC)
    assert query.step == 1800
    day_only = parse_time_query({"date": "2026-11-25"}, STEP, NOW)
    assert day_only.at == datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)  # the end of the day
    time_only = parse_time_query({"time": "08:00"}, STEP, NOW)
    assert time_only.at == NOW.replace(hour=8, minute=0, second=0, microsecond=0)
    assert parse_time_query({}, STEP, NOW).at is None


def test_old_style_time_with_an_offset_is_read_in_that_offset() -> None:
    query = parse_time_query({"date": "2026-11-25", "time": "12:00+02:00"}, STEP, NOW)
    assert query.at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_at_and_date_together_are_refused() -> None:
    with pytest.raises(WebError):
        parse_time_query({"at": "2026-11-25T10:00Z", "date": "2026-11-25"}, STEP, NOW)


def test_formats_round_trip() -> None:
    moment = datetime(2026, 11, 25, 10, 15, 7, tzinfo=UTC)
    assert parse_instant(format_at(moment)) == moment
    assert format_at(BASE) == "2026-11-25T10:00Z"
    assert format_step(5400) == "01:30"


def _time(client: Client, url: str) -> dict:
    return client.get(url).json()["time"]


def test_date_time_shows_the_newest_run_before(web_client: Client, web_site: WebSite) -> None:
    view = _time(web_client, "/category/batch.json?date=2026-11-25&time=10:20")
    assert view["run_id"] == web_site.ids[1] and view["live"] is False
    assert view["requested"] == "2026-11-25T10:20:00+00:00"


def test_step_by_run(web_client: Client, web_site: WebSite) -> None:
    links = _time(web_client, f"/category/batch.json?at={format_at(web_site.times[3])}")["links"]
    assert links["previous_run"] == "/category/batch?at=2026-11-25T10%3A30Z&s=00%3A15"
    assert links["next_run"] == "/category/batch?at=2026-11-25T11%3A00Z&s=00%3A15"
    assert links["live"] == "/category/batch"
    assert links["static"] == "/category/batch?at=2026-11-25T10%3A45Z"
    # the run after the second newest is the newest: the live view
    second = _time(web_client, f"/category/batch.json?at={format_at(web_site.times[-2])}")
    assert second["links"]["next_run"] == "/category/batch"
    # the first run has no previous one
    first = _time(web_client, f"/category/batch.json?at={format_at(web_site.times[0])}")
    assert first["links"]["previous_run"] == ""


def test_step_by_step_size(web_client: Client) -> None:
    links = _time(web_client, "/category/batch.json?date=2026-11-25&time=10:40&s=01:00")["links"]
    assert links["back"] == "/category/batch?at=2026-11-25T09%3A40Z&s=01%3A00"
    assert links["forward"] == "/category/batch?at=2026-11-25T11%3A40Z&s=01%3A00"
    late = _time(web_client, "/category/batch.json?date=2026-11-25&time=11:30&s=01:00")
    assert late["links"]["forward"] == "/category/batch"  # past the present: live


def test_live_view_links(web_client: Client, web_site: WebSite) -> None:
    view = _time(web_client, "/overview.json")
    assert view["live"] is True and view["run_id"] == web_site.ids[-1]
    assert view["links"]["next_run"] == ""
    assert view["links"]["previous_run"] == "/?at=2026-11-25T11%3A30Z&s=00%3A15"


def test_future_time_shows_the_newest_run_with_a_notice(web_client: Client) -> None:
    page = web_client.get("/?date=2030-01-01&time=12:00")
    assert page.status_code == 200
    assert "is in the future" in page.text and "Back to live" in page.text


@pytest.mark.parametrize(
    "query", ["at=9999-12-31T23:59Z", "date=9999-12-31", "at=9999-12-31T23:59:59Z&s=1d"]
)
def test_the_far_future_is_the_newest_run_not_a_crash(web_client: Client, query: str) -> None:
    view = _time(web_client, f"/overview.json?{query}")
    assert "is in the future" in view["notice"]
    assert view["links"]["forward"] == "/"


def test_before_the_first_run(web_client: Client) -> None:
    page = web_client.get("/category/batch?at=2026-11-25T09:00Z")
    assert page.status_code == 404
    assert "Before the first run" in page.text
    assert 'href="/category/batch?at=2026-11-25T10%3A00Z"' in page.text


def test_past_view_does_not_poll_and_says_so(web_client: Client) -> None:
    html = web_client.get("/?at=2026-11-25T10:30Z").text
    assert 'data-live="0"' in html and "You are looking at the past" in html
    assert 'id="updated"' not in html


def test_picker_form_shows_24_hour_utc_whatever_the_browser_locale(web_client: Client) -> None:
    html = web_client.get("/module/jobs").text
    # type=date/time would follow the browser's locale (AM/PM); text fields keep UTC and 24 h
    assert 'type="date"' not in html and 'type="time"' not in html
    assert '<input type="text" name="date" value="2026-11-25"' in html
    assert '<input type="text" name="time" value="11:45"' in html
    assert 'pattern="([01][0-9]|2[0-3]):[0-5][0-9]"' in html and "Time (UTC, 24 h)" in html


def test_same_static_link_same_content_after_new_runs(web_fresh: WebSite) -> None:
    url = f"/category/batch.json?at={format_at(web_fresh.times[2])}"
    later = NOW + INTERVAL * 2
    first = Client(web_fresh.app(later)).get(url).json()
    write_run(web_fresh.store, web_fresh.site, web_fresh.times[-1] + INTERVAL, 8)
    again = Client(web_fresh.app(later)).get(url).json()
    assert first["modules"] == again["modules"]
    assert first["time"]["run_id"] == again["time"]["run_id"] == web_fresh.ids[2]

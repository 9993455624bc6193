"""The handover digest after a scripted shift: its sections, access, the note form, the mail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface.alarms.service import AlarmService
from happyface.config.load import load_site
from happyface.config.shifts import ShiftSettings
from happyface.errors import ConfigError
from happyface.storage.changes import ChangePoint
from happyface.web import create_app
from happyface.web.pages.handover_mail import HandoverMailer
from tests.fixtures.access import ADMIN_DN, USER_DN, proxy_headers
from tests.fixtures.browser import Browser
from tests.fixtures.shift_day import CONFIG, DAY, NOTE, NOW, ShiftDay, make_day
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import web_registry

OUTSIDER = proxy_headers("/C=DE/O=GermanGrid/OU=KIT/CN=Nick Nobody")


@pytest.fixture
def day(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[ShiftDay]:
    made = make_day(tmp_path / "site", smtp_server.port)
    yield made
    made.store.close()


def app_at(day: ShiftDay, now: datetime) -> Any:
    app = create_app(day.site, day.store)
    app.state.dashboard.now = lambda: now
    return app


def digest(browser: Browser, query: str = "") -> dict[str, Any]:
    answer = browser.get(f"/handover.json{query}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["digest"]
    return found


def test_the_shift_starts_in_its_time_zone() -> None:
    berlin = ShiftSettings(starts=["22:00", "06:00", "14:00"], timezone="Europe/Berlin")
    now = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    assert berlin.current_start(now) == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert berlin.current_start(now - timedelta(hours=1)) == datetime(2026, 11, 24, 21, tzinfo=UTC)
    starts = berlin.starts_between(now - timedelta(days=1), now)
    assert [s.hour for s in starts] == [13, 21, 5]
    with pytest.raises(ValueError, match="IANA"):
        ShiftSettings(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="HH:MM"):
        ShiftSettings(starts=["6 am"])


def test_the_digest_of_the_shift_says_what_happened(day: ShiftDay) -> None:
    found = digest(Browser(app_at(day, NOW)))
    assert (found["since"], found["until"]) == (
        "2026-11-25T06:00:00+00:00",
        "2026-11-25T13:50:00+00:00",
    )
    assert found["counts"]["text"] == "0 of 2 modules have a problem, 1 cannot be read"
    started = [(s["id"], s["status"]["value"], s["since"][11:16]) for s in found["started"]]
    assert started == [("jobs", "unhappy", "08:00"), ("transfers", "error", "12:00")]
    (ended,) = found["ended"]
    assert (ended["id"], ended["until"][11:16], ended["duration"]) == ("jobs", "10:00", "2 h")
    (still,) = found["still_open"]
    assert (still["id"], still["duration"], still["message"]) == (
        "transfers", "1 h 50 min", "door unreachable")  # fmt: skip
    (ack,) = found["acknowledgements"]
    assert (ack["id"], ack["user"], ack["expires_at"]) == (
        "transfers", USER_DN, "2026-11-25T16:00:00+00:00")  # fmt: skip
    assert "vendor called" in ack["comment"]
    assert [(d["start"][11:16], d["covers"]) for d in found["downtimes_started"]] == [
        ("09:00", ["jobs"])
    ]
    assert [d["end"][11:16] for d in found["downtimes_ended"]] == ["11:00"]
    (source,) = found["sources"]
    assert (source["key"], source["state"], source["became"]) == (
        "dcache-door",
        "unreachable",
        True,
    )


def test_a_restricted_module_stays_out_of_the_digest_of_others(day: ShiftDay) -> None:
    app = app_at(day, NOW)
    anonymous = Browser(app).get("/handover.json").text + Browser(app).get("/handover").text
    assert "vault" not in anonymous and "VAULT-SECRET" not in anonymous
    admin = digest(Browser(app, proxy_headers(ADMIN_DN)))
    assert [s["id"] for s in admin["still_open"]] == ["vault", "transfers"]
    assert admin["counts"]["text"] == "1 of 3 modules have a problem, 1 cannot be read"


def test_a_shift_note_is_written_and_appears_in_the_next_shifts_digest(day: ShiftDay) -> None:
    shifter = Browser(app_at(day, NOW), proxy_headers(USER_DN))
    page = shifter.get("/handover").text
    assert 'action="/handover/note"' in page and shifter.token() in page
    answer = shifter.post("/handover/note", {"text": NOTE})
    assert answer.status_code == 303 and answer.headers["location"] == "/handover"
    assert [n["text"] for n in digest(shifter)["notes"]] == [NOTE]
    # the next shift opens its digest: the note left at the handover is there
    next_shift = Browser(app_at(day, DAY + timedelta(hours=14, minutes=20)))
    (note,) = digest(next_shift)["notes"]
    assert (note["author"], note["written_at"]) == (USER_DN, NOW.isoformat())
    assert NOTE in next_shift.get("/handover").text


@pytest.mark.parametrize(
    ("headers", "data", "token", "status"),
    [
        ({}, {"text": "x"}, True, 403),  # anonymous
        (OUTSIDER, {"text": "x"}, True, 403),  # not in acknowledge_groups
        (proxy_headers(USER_DN), {"text": "x"}, False, 403),  # no CSRF token
        (proxy_headers(USER_DN), {"text": "   "}, True, 400),
        (proxy_headers(USER_DN), {"text": "x" * 4001}, True, 400),
    ],
)
def test_bad_notes_are_refused_with_a_clear_answer(
    day: ShiftDay, headers: dict[str, str], data: dict[str, str], token: bool, status: int
) -> None:
    browser = Browser(app_at(day, NOW), headers)
    answer = browser.post("/handover/note", data, token=token)
    assert answer.status_code == status
    assert "Traceback" not in answer.text
    assert digest(browser)["notes"] == []


@pytest.mark.parametrize("since", ["yesterday", "2026-11-26T00:00Z", "40d"])
def test_a_bad_since_is_a_400(day: ShiftDay, since: str) -> None:
    answer = Browser(app_at(day, NOW)).get(f"/handover?since={since}")
    assert answer.status_code == 400 and "since" in answer.text.lower()


def _change(module: str, metric: str, hour: float, size: float) -> ChangePoint:
    at = DAY + timedelta(hours=hour)
    return ChangePoint(module, metric, at, at, "level", "value", 100, 100 * (1 - size / 100),
                       2, 2, size, -size / 100)  # fmt: skip


def test_the_digest_lists_the_largest_changes_of_the_shift_the_viewer_may_see(
    day: ShiftDay,
) -> None:
    day.store.add_changes(
        [
            _change("jobs", "running", 8, 60),
            _change("jobs", "running", 5, 90),  # before the shift began
            _change("vault", "secret_level", 9, 95),  # restricted to admins
            *(_change("transfers", f"rate{i}", 7 + i / 4, 10 + i) for i in range(22)),
        ]
    )
    app = app_at(day, NOW)
    found = digest(Browser(app))
    listed = [(c["module"], c["metric"], c["before"], c["after"]) for c in found["changes"]]
    assert len(listed) == 20 and found["changes_more"] == 3
    assert listed[0] == ("jobs", "running", "100", "40")
    assert [c[1] for c in listed[1:4]] == ["rate21", "rate20", "rate19"]  # largest first
    assert found["changes"][0]["plot"].startswith("/plot?m=jobs%3Arunning")
    page = Browser(app).get("/handover").text
    assert 'What changed <span class="count">(23)</span>' in page
    assert "jobs · running</a>: level drop" in page and "and 3 smaller changes" in page
    assert "secret_level" not in page
    admin = digest(Browser(app, proxy_headers(ADMIN_DN)))
    assert admin["changes"][0]["module"] == "vault" and admin["changes_more"] == 4


def test_since_and_print(day: ShiftDay) -> None:
    browser = Browser(app_at(day, NOW))
    assert digest(browser, "?since=2h")["started"][0]["id"] == "transfers"
    page = browser.get("/handover?since=2026-11-25T05:00Z").text
    assert 'href="/static/print.css" media="print"' in page
    assert "0 of 2 modules have a problem" in page and "dcache-door" in page


def test_the_digest_is_mailed_once_when_the_shift_changes(
    day: ShiftDay, smtp_server: SmtpServer
) -> None:
    shifter = Browser(app_at(day, NOW), proxy_headers(USER_DN))
    assert shifter.post("/handover/note", {"text": NOTE}).status_code == 303
    day.store.add_changes([_change("jobs", "running", 8, 60)])
    clock = [DAY + timedelta(hours=13, minutes=55)]
    service = AlarmService.build(day.site, day.store, clock=lambda: clock[0])
    mailer = HandoverMailer(day.site, day.store, service, lambda: clock[0])
    assert mailer.plan() == []  # the shift has not changed yet
    clock[0] = DAY + timedelta(hours=14, minutes=5)
    outcome: Any = None
    asyncio.run(mailer(outcome))
    asyncio.run(mailer(outcome))  # the next run, or a second scheduler: not twice
    (mail,) = smtp_server.messages
    assert " ".join(mail["Subject"].split()) == (
        "GridKa: handover 2026-11-25 14:00 UTC, 0 of 2 modules have a problem, 1 cannot be read"
    )
    body = mail.get_payload(decode=True).decode()
    assert "What happened from 2026-11-25 06:00 UTC to 2026-11-25 14:00 UTC." in body
    assert NOTE in body and "dCache door restarted" in body
    assert "- Error: Transfers in Storage, from 2026-11-25 12:00 UTC" in body
    assert "VAULT" not in body  # what an anonymous viewer may see
    assert "- jobs · running: level drop 100 → 40 at 2026-11-25 08:00 UTC" in body
    clock[0] = DAY + timedelta(hours=15, minutes=30)  # too late for the 14:00 digest
    assert mailer.plan() == []


def test_mailing_to_an_unknown_channel_is_a_config_error(tmp_path: Path) -> None:
    config = CONFIG.format(smtp_port=25).replace('mail = ["shift-mail"]', 'mail = ["shift-mial"]')
    (tmp_path / "happyface.toml").write_text(config)
    with pytest.raises(ConfigError) as raised:
        load_site(tmp_path, web_registry())
    line = config.splitlines().index('mail = ["shift-mial"]') + 1
    (problem,) = raised.value.problems
    assert (
        f"happyface.toml:{line}: site.shifts.mail: channel 'shift-mial' does not exist" in problem
    )
    assert "did you mean 'shift-mail'?" in problem

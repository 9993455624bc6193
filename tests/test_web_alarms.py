"""Alarms on the dashboard: acknowledging, downtimes, the notification log, their guards."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface.alarms import Message, Subject, acknowledge, active_acknowledgements
from happyface.alarms.detect import Level, State
from happyface.alarms.records import Planned
from happyface.alarms.store import AlarmStore, add_notifications, save_states
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.storage import Store, open_store
from happyface.storage.alarm_tables import alarm_notifications
from happyface.web.alarms.views import display_name
from tests.fixtures.access import ADMIN_DN, USER_DN, proxy_headers
from tests.fixtures.browser import Browser
from tests.fixtures.web import BASE, CONFIG, INTERVAL, NOW, RUNS, web_registry, write_run

SHIFTER_DN = "/C=DE/O=GermanGrid/OU=KIT/CN=Sam Shifter"
OTHER_DN = "/C=DE/O=GermanGrid/OU=KIT/CN=Olga Other"
OUTSIDER_DN = "/C=DE/O=GermanGrid/OU=KIT/CN=Nick Nobody"
assert SHIFTER_DN == USER_DN

ALARM_CONFIG = (
    CONFIG
    + """
[access]
trusted_proxies = ["127.0.0.1/32", "::1"]

[access.groups.admins]
dns = ["/C=DE/O=GermanGrid/OU=KIT/CN=Ada Admin"]

[access.groups.shifters]
dns = ["/C=DE/O=GermanGrid/OU=KIT/CN=Sam Shifter", "/C=DE/O=GermanGrid/OU=KIT/CN=Olga Other"]

[[channel]]
id = "shift-mail"
type = "email"
host = "127.0.0.1"
sender = "happyface@example.org"
to = ["shift@example.org"]

[[alarm]]
id = "all"
modules = ["*"]
notify = ["shift-mail"]

[[downtime]]
id = "kernel-update"
description = "kernel update on the batch nodes"
categories = ["batch"]
start = 2026-11-26T09:00:00Z
end = 2026-11-26T11:00:00Z

[site.web]
acknowledge_groups = ["shifters", "admins"]
"""
)

ADMIN = proxy_headers(ADMIN_DN)
SHIFTER = proxy_headers(SHIFTER_DN)
OTHER = proxy_headers(OTHER_DN)
OUTSIDER = proxy_headers(OUTSIDER_DN)


@dataclass
class AlarmSite:
    """A populated site whose shifters may acknowledge, and its app at a fixed clock."""

    site: Site
    store: Store
    app: Any


@pytest.fixture
def alarm_site(tmp_path: Path) -> Iterator[AlarmSite]:
    (tmp_path / "happyface.toml").write_text(ALARM_CONFIG)
    site = load_site(tmp_path, web_registry())
    store = open_store(site.database_url)
    for i in range(RUNS):
        write_run(store, site, BASE + INTERVAL * i, i)
    from happyface.web import create_app

    app = create_app(site, store)
    app.state.dashboard.now = lambda: NOW
    yield AlarmSite(site, store, app)
    store.close()


def ack_form(comment: str = "restarting the schedd", expires: str = "4h") -> dict[str, str]:
    return {
        "kind": "module",
        "id": "jobs",
        "comment": comment,
        "expires": expires,
        "back": "/category/batch",
    }


def test_a_shifter_acknowledges_and_the_next_shift_sees_it_everywhere(
    alarm_site: AlarmSite,
) -> None:
    shifter = Browser(alarm_site.app, SHIFTER)
    page = shifter.get("/category/batch").text
    assert "Acknowledge this problem" in page
    # the form carries this browser's token, not the placeholder of the cached page
    assert f'name="csrf_token" value="{shifter.token()}"' in page
    answer = shifter.post("/alarms/acknowledge", ack_form())
    assert answer.status_code == 303 and answer.headers["location"] == "/category/batch"
    (ack,) = active_acknowledgements(alarm_site.store, NOW)
    assert ack.user == SHIFTER_DN and ack.expires_at == NOW + timedelta(hours=4)
    next_shift = Browser(alarm_site.app, OTHER)
    for url in ("/", "/category/batch", "/module/jobs"):
        text = next_shift.get(url).text
        assert "Acknowledged" in text and "restarting the schedd" in text, url
        assert SHIFTER_DN in text and "2026-11-25 15:50 UTC" in text, url
    # anonymous viewers read the common name only
    assert "Sam Shifter" in Browser(alarm_site.app).get("/").text
    assert SHIFTER_DN not in Browser(alarm_site.app).get("/").text
    view = next_shift.get("/category/batch.json").json()
    jobs = next(b for b in view["modules"] if b["id"] == "jobs")
    assert jobs["alarm"]["acks"][0]["comment"] == "restarting the schedd"


def test_the_author_and_admins_may_withdraw_others_may_not(alarm_site: AlarmSite) -> None:
    shifter = Browser(alarm_site.app, SHIFTER)
    shifter.post("/alarms/acknowledge", ack_form())
    (ack,) = active_acknowledgements(alarm_site.store, NOW)
    url = f"/alarms/acknowledge/{ack.id}/withdraw"
    assert url in shifter.get("/module/jobs").text
    other = Browser(alarm_site.app, OTHER)
    assert url not in other.get("/module/jobs").text
    assert other.post(url, {"back": "/module/jobs"}).status_code == 403
    assert Browser(alarm_site.app, ADMIN).post(url, {}).status_code == 303
    assert active_acknowledgements(alarm_site.store, NOW) == []
    assert "restarting the schedd" not in other.get("/module/jobs").text
    assert shifter.post(url, {}).status_code == 404  # already withdrawn


@pytest.mark.parametrize("with_token", [False, True])
def test_forms_need_the_token_and_the_group(alarm_site: AlarmSite, with_token: bool) -> None:
    for who in ({}, OUTSIDER):
        viewer = Browser(alarm_site.app, who)
        assert "Acknowledge this problem" not in viewer.get("/category/batch").text
        assert viewer.post("/alarms/acknowledge", ack_form(), token=with_token).status_code == 403
    shifter = Browser(alarm_site.app, SHIFTER)
    expected = 303 if with_token else 403
    assert shifter.post("/alarms/acknowledge", ack_form(), token=with_token).status_code == expected
    schedule = {"subjects": "storage", "end": "2026-11-25T18:00", "description": "x"}
    assert shifter.post("/downtimes", schedule, token=with_token).status_code == 403
    # a forged token with the right group is refused too
    forged = shifter.request(
        "POST", "/alarms/acknowledge", data={**ack_form(), "csrf_token": "guessed"}
    )
    assert forged.status_code == 403
    assert len(active_acknowledgements(alarm_site.store, NOW)) == (1 if with_token else 0)


@pytest.mark.parametrize(
    ("change", "status", "said"),
    [
        ({"comment": "   "}, 400, "needs a comment"),
        ({"expires": "2020-01-01T00:00Z"}, 400, "not in the future"),
        ({"expires": "next tuesday"}, 400, "cannot be understood"),
        ({"expires": "99999999999d"}, 400, "too far away"),
        ({"id": "nosuchmodule"}, 404, "no module"),
        ({"kind": "run"}, 400, "only a module, a category or a source"),
        ({"back": "https://evil.example/"}, 303, ""),
    ],
)
def test_bad_input_gives_a_friendly_page(
    alarm_site: AlarmSite, change: dict[str, str], status: int, said: str
) -> None:
    answer = Browser(alarm_site.app, SHIFTER).post("/alarms/acknowledge", {**ack_form(), **change})
    assert answer.status_code == status
    if status == 303:  # a foreign "back" is ignored: we go to the subject's own page
        assert answer.headers["location"] == "/module/jobs"
        return
    assert said in answer.text and "Traceback" not in answer.text
    assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("/C=DE/O=GermanGrid/OU=KIT/CN=Sam Shifter", "Sam Shifter"),
        ("CN=Sam Shifter,OU=KIT,O=GermanGrid,C=DE", "Sam Shifter"),
        ("CN=Shifter\\, Sam,OU=KIT,O=GermanGrid,C=DE", "Shifter, Sam"),
        ("/DC=ch/DC=cern/OU=Users/CN=sshift/CN=123456/CN=Sam Shifter", "Sam Shifter"),
        ("/C=DE/O=GermanGrid/OU=KIT", "a shifter"),
        ("a script", "a shifter"),
    ],
)
def test_anonymous_viewers_see_only_the_common_name(user: str, shown: str) -> None:
    assert display_name(user, identified=False) == shown
    assert display_name(user, identified=True) == user


def test_the_page_cache_never_serves_a_stale_acknowledgement(alarm_site: AlarmSite) -> None:
    viewer = Browser(alarm_site.app, OTHER)
    assert "Acknowledged" not in viewer.get("/category/batch").text
    assert "Acknowledged" not in viewer.get("/category/batch").text  # cached now
    # another process (the CLI) acknowledges: seen within the second the version is kept
    acknowledge(alarm_site.store, Subject("module", "jobs"), ADMIN_DN, "on it", NOW)
    time.sleep(1.05)
    assert "on it" in viewer.get("/category/batch").text
    # an expiry passes with the clock, no write needed
    acknowledge(
        alarm_site.store,
        Subject("module", "queue"),
        ADMIN_DN,
        "queue known",
        NOW,
        expires_at=NOW + timedelta(minutes=10),
    )
    alarm_site.app.state.dashboard.alarms.changed()
    assert "queue known" in viewer.get("/category/batch").text
    alarm_site.app.state.dashboard.now = lambda: NOW + timedelta(minutes=11)
    alarm_site.app.state.dashboard.alarms.changed()
    text = viewer.get("/category/batch").text
    assert "queue known" not in text and "on it" in text


def test_downtimes_scheduled_by_an_admin_show_on_every_page(alarm_site: AlarmSite) -> None:
    admin = Browser(alarm_site.app, ADMIN)
    assert "Schedule a downtime" in admin.get("/downtimes").text
    assert "Schedule a downtime" not in Browser(alarm_site.app, SHIFTER).get("/downtimes").text
    form = {"subjects": "storage", "end": "2026-11-25T18:00", "description": "dCache upgrade"}
    answer = admin.post("/downtimes", form)
    assert answer.status_code == 303 and answer.headers["location"] == "/downtimes"
    viewer = Browser(alarm_site.app)
    for url in ("/", "/category/storage", "/module/transfers"):
        text = viewer.get(url).text
        assert "In downtime" in text and "dCache upgrade" in text, url
        assert "2026-11-25 18:00 UTC" in text, url
    assert "In downtime" not in viewer.get("/category/batch").text
    listing = viewer.get("/downtimes.json").json()
    assert [d["description"] for d in listing["current"]] == ["dCache upgrade"]
    assert listing["current"][0]["origin"] == "entered by hand"
    upcoming = listing["upcoming"]
    assert upcoming[0]["description"] == "kernel update on the batch nodes"
    assert upcoming[0]["origin"] == "configured" and upcoming[0]["covers"] == ["batch"]
    cancel = re.search(r'action="(/downtimes/\d+/cancel)"', admin.get("/downtimes").text)
    assert cancel is not None
    assert Browser(alarm_site.app, SHIFTER).post(cancel[1], {}).status_code == 403
    assert admin.post(cancel[1], {}).status_code == 303
    assert "In downtime" not in viewer.get("/category/storage").text
    assert admin.post(cancel[1], {}).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "said"),
    [
        ({"subjects": "nosuch"}, 404, "no module or category"),
        ({"subjects": ""}, 400, "at least one"),
        ({"end": "2026-11-25T10:00"}, 400, "end after it starts"),
        ({"start": "2026-11-25T08:00", "end": "2026-11-25T09:00"}, 400, "already be over"),
        ({"end": "soon"}, 400, "cannot be understood"),
        ({"description": ""}, 400, "Describe the downtime"),
    ],
)
def test_bad_downtimes_are_explained(
    alarm_site: AlarmSite, change: dict[str, str], status: int, said: str
) -> None:
    form = {"subjects": "storage, jobs", "end": "2026-11-25T18:00", "description": "why", **change}
    answer = Browser(alarm_site.app, ADMIN).post("/downtimes", form)
    assert answer.status_code == status and said in answer.text


def _log(store: Store, count: int) -> None:
    """`count` notifications: jobs sent or failed alternately, transfers suppressed."""
    planned = []
    for i in range(count):
        subject = Subject("module", "jobs" if i % 3 else "transfers")
        message = Message(f"title {i}", "body", "/category/batch")
        suppressed = "downtime" if subject.id == "transfers" else ""
        planned.append(
            Planned("all", subject, "unhappy", "shift-mail", i + 1, BASE, message, "", suppressed)
        )
    alarms = AlarmStore(store)
    with alarms.writing("test") as conn:
        add_notifications(conn, planned, NOW)
        table = alarm_notifications
        conn.execute(
            table.update()
            .where(table.c.subject_id == "jobs", table.c.run_id % 2 == 0)
            .values(state="failed", attempts=7, reason="SMTP 451 try later")
        )
        state = State(confirmed=Level.UNHAPPY, notified=Level.UNHAPPY, notified_at=NOW, stage=1)
        save_states(conn, {("all", Subject("module", "jobs")): state}, NOW)


def test_the_log_page_filters_and_paginates(alarm_site: AlarmSite) -> None:
    _log(alarm_site.store, 120)
    viewer = Browser(alarm_site.app)
    page = viewer.get("/alarms")
    assert page.status_code == 200 and "shift@example.org" in page.text
    view = viewer.get("/alarms.json").json()
    assert view["states"][0]["subject"]["id"] == "jobs" and view["states"][0]["stage"] == 1
    assert view["states"][0]["state"] == "unhappy"
    assert len(view["log"]) == 50 and view["pages"]["total"] == 120 and view["pages"]["next"]
    last = viewer.get("/alarms.json?page=3").json()
    assert len(last["log"]) == 20 and not last["pages"]["next"] and last["pages"]["previous"]
    failed = viewer.get("/alarms.json?subject=jobs&state=failed").json()
    assert failed["log"] and all(
        e["state"] == "failed" and e["subject"]["id"] == "jobs" for e in failed["log"]
    )
    assert failed["log"][0]["last_error"] == "SMTP 451 try later"
    assert failed["log"][0]["attempts"] == 7
    suppressed = viewer.get("/alarms?state=suppressed").text
    assert "downtime" in suppressed and "SMTP 451" not in suppressed
    assert "state=failed" in view["pages"]["next"] or "page=2" in view["pages"]["next"]


@pytest.mark.parametrize("query", ["state=lost", "page=0", "page=x", "page=999"])
def test_bad_log_filters_are_400(alarm_site: AlarmSite, query: str) -> None:
    answer = Browser(alarm_site.app).get(f"/alarms?{query}")
    assert answer.status_code == 400 and "cannot be understood" in answer.text
    assert Browser(alarm_site.app).get(f"/alarms.json?{query}").json()["error"]["status"] == 400


def test_hidden_subjects_stay_hidden_on_the_alarm_pages(tmp_path: Path) -> None:
    from tests.fixtures.access import populate_access

    populated = populate_access(tmp_path)
    try:
        store = populated.store
        acknowledge(store, Subject("module", "secretjobs"), ADMIN_DN, "SECRET-ACK", BASE)
        message = Message("SECRET-TITLE", "body", "/category/batch")
        planned = Planned("all", Subject("module", "secretjobs"), "unhappy", "c", 1, BASE, message)
        with AlarmStore(store).writing("test") as conn:
            add_notifications(conn, [planned], NOW)
        app = populated.app()
        for url in ("/", "/category/batch", "/alarms", "/alarms.json", "/downtimes"):
            assert "secret" not in Browser(app).get(url).text.lower(), url
        # the filter repeats what was asked, and nothing more
        assert "SECRET-" not in Browser(app).get("/alarms?subject=secretjobs").text
        assert "SECRET-ACK" in Browser(app, ADMIN).get("/category/batch").text
        assert "secretjobs" in Browser(app, ADMIN).get("/alarms").text
    finally:
        populated.store.close()


def test_a_source_alarm_shows_with_a_link_to_the_source_only_to_who_sees_everything(
    tmp_path: Path,
) -> None:
    restricted = 'id = "storage"\ntitle = "Storage"\naccess = "restricted"\nallow = ["admins"]\n'
    config = ALARM_CONFIG.replace('id = "storage"\ntitle = "Storage"\n', restricted) + (
        '\n[[alarm]]\nid = "collector"\nsources = ["batch_*"]\nnotify = ["shift-mail"]\n'
    )
    (tmp_path / "happyface.toml").write_text(config)
    site = load_site(tmp_path, web_registry())
    store = open_store(site.database_url)
    try:
        write_run(store, site, BASE, 0)
        subject = Subject("source", "batch_example_org_squeue")
        message = Message("source down", "body", "/source/batch_example_org_squeue")
        state = State(confirmed=Level.UNREACHABLE, notified=Level.UNREACHABLE, notified_at=NOW)
        with AlarmStore(store).writing("test") as conn:
            save_states(conn, {("collector", subject): state}, NOW)
            add_notifications(
                conn,
                [Planned("collector", subject, "unreachable", "shift-mail", 1, BASE, message)],
                NOW,
            )
        from happyface.web import create_app

        app = create_app(site, store)
        app.state.dashboard.now = lambda: NOW
        seen = Browser(app, headers=ADMIN).get("/alarms.json").json()
        (row,) = [s for s in seen["states"] if s["subject"]["kind"] == "source"]
        assert row["state"] == "unreachable" and row["url"].endswith(
            "/source/batch_example_org_squeue"
        )
        assert [e["subject"]["id"] for e in seen["log"]] == ["batch_example_org_squeue"]
        assert Browser(app, headers=ADMIN).get("/alarms").status_code == 200
        # the notification lists modules: a viewer who does not see them all is not shown it
        hidden = Browser(app).get("/alarms.json").json()
        assert all(s["subject"]["kind"] != "source" for s in hidden["states"])
        assert hidden["log"] == []
    finally:
        store.close()

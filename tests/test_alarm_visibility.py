"""Alarms and downtimes obey the access rules: what a viewer may not see does not exist for them.

The site of tests/fixtures/access.py, with alarms: the open category `batch` holds an open
module (`jobs`), a restricted one (`queue`, seen by every logged-in viewer) and a hidden one
(`secretjobs`, admins only) that is unhappy. Both of the latter have alarm states,
acknowledgements, notifications and downtimes. Three viewers walk every alarm and downtime
route: anonymous, a shifter (sees `queue`, not `secretjobs`; may acknowledge and manage
downtimes) and an admin who sees everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from happyface import Result, Status
from happyface.acquisition.run import RunOutcome
from happyface.alarms import (
    Message,
    Subject,
    acknowledge,
    active_acknowledgements,
    downtimes,
    schedule_downtime,
)
from happyface.alarms.records import Planned
from happyface.alarms.service import AlarmService
from happyface.alarms.store import AlarmStore, add_notifications
from happyface.config.alarms import matches
from happyface.storage import ModuleRecord
from tests.fixtures.access import (
    ADMIN_DN,
    CONFIG,
    DATA,
    HIDDEN,
    RUNS,
    USER_DN,
    WITHHELD_OPS,
    WITHHELD_QUEUE,
    AccessSite,
    populate_access,
    proxy_headers,
)
from tests.fixtures.access import (
    _write_run as write_run,
)
from tests.fixtures.browser import Browser
from tests.fixtures.web import BASE, INTERVAL

NOW = BASE + INTERVAL * RUNS
ALARM_CONFIG = (
    CONFIG
    + """
[access.groups.shifters]
dns = ["/C=DE/O=GermanGrid/OU=KIT/CN=Sam Shifter"]

[[channel]]
id = "shift-mail"
type = "email"
host = "127.0.0.1"
sender = "happyface@example.org"
to = ["shift@example.org"]

[[alarm]]
id = "modules"
modules = ["*"]
notify = ["shift-mail"]

[[alarm]]
id = "categories"
categories = ["*"]
notify = ["shift-mail"]

[site.web]
acknowledge_groups = ["shifters", "admins"]
downtime_groups = ["shifters", "admins"]
"""
)

ANONYMOUS: dict[str, str] = {}
SHIFTER = proxy_headers(USER_DN)
ADMIN = proxy_headers(ADMIN_DN)
#: the alarm marks of the restricted module, which the shifter may see
QUEUE_MARKS = ["QUEUE-ACK", "QUEUE-DOWNTIME", "QUEUE-NOTE"]
#: the alarm marks of the hidden module (HIDDEN's "SECRET-" covers them too)
SECRET_MARKS = ["SECRET-ACK", "SECRET-DOWNTIME", "SECRET-NOTE"]
#: a never-used id: what a hidden one must answer like
UNKNOWN_ID = "987654321"
LEVEL_OF_STATUS = {"happy": "ok", "neutral": "ok", "unhappy": "unhappy", "error": "error"}


@dataclass
class Scene:
    """The populated site with alarms, its app, and the ids of what was stored for it."""

    populated: AccessSite
    app: Any
    queue_troubled: bool
    acks: dict[str, int]
    windows: dict[str, int]


def detect_every_run(populated: AccessSite) -> None:
    """Run the real alarm detector over the stored runs, as the scheduler would."""
    store = populated.store
    service = AlarmService.build(populated.site, store, channels={})
    for run_id in populated.ids:
        run = store.run(run_id)
        assert run is not None and run.finished_at is not None
        records = tuple(
            ModuleRecord(
                r.module_id,
                r.category_id,
                r.status,
                r.message,
                Result(status=r.status, message=r.message),
            )
            for r in store.results(run_id)
        )
        categories = store.category_statuses(run_id)
        service.detect(RunOutcome(run_id, run.started_at, run.finished_at, records, categories))


def _note(populated: AccessSite, module: str, title: str, now: datetime) -> None:
    message = Message(title, f"{title} body", "/category/batch")
    run = populated.ids[-1]
    planned = Planned(
        "modules", Subject("module", module), "unhappy", "shift-mail", run, now, message
    )
    with AlarmStore(populated.store).writing("test") as conn:
        add_notifications(conn, [planned], now)


def mark_alarms(
    populated: AccessSite, now: datetime = NOW
) -> tuple[dict[str, int], dict[str, int]]:
    """Acknowledgements, notifications and downtimes of the hidden and the restricted module,
    in force at `now`."""
    store, since = populated.store, now - timedelta(minutes=5)
    acks = {
        name: acknowledge(store, Subject(kind, ident), ADMIN_DN, comment, since).id
        for name, kind, ident, comment in [
            ("secret", "module", "secretjobs", "SECRET-ACK"),
            ("queue", "module", "queue", "QUEUE-ACK"),
            ("batch", "category", "batch", "BATCH-ACK"),
        ]
    }
    _note(populated, "secretjobs", "SECRET-NOTE", now)
    _note(populated, "queue", "QUEUE-NOTE", now)
    until = now + timedelta(hours=2)
    windows = {}
    for i, (name, subjects, why) in enumerate(
        [
            ("secret", ["secretjobs"], "SECRET-DOWNTIME"),
            ("queue", ["queue"], "QUEUE-DOWNTIME"),
            ("mixed", ["jobs", "secretjobs"], "MIXED-DOWNTIME"),
            ("pattern", ["secret*"], "SECRET-DOWNTIME by pattern"),
        ]
    ):
        # each its own entry time: a manual downtime's stored key is made of it
        entered = since + timedelta(seconds=i)
        windows[name] = schedule_downtime(store, subjects, since, until, why, ADMIN_DN, entered)
    return acks, windows


@pytest.fixture(params=[False, True], ids=["only-hidden-troubled", "restricted-troubled-too"])
def scene(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Scene]:
    queue_troubled: bool = request.param
    if queue_troubled:
        _, message, metric, value = DATA["queue"]
        monkeypatch.setitem(DATA, "queue", (Status.UNHAPPY, message, metric, value))
    populated = populate_access(tmp_path, ALARM_CONFIG)
    detect_every_run(populated)
    acks, windows = mark_alarms(populated)
    yield Scene(populated, populated.app(), queue_troubled, acks, windows)
    populated.store.close()


def forbidden_for(who: dict[str, str], scene: Scene) -> list[str]:
    """What must never reach this viewer."""
    if who is ADMIN:
        return []
    secret = [*HIDDEN, *SECRET_MARKS, *WITHHELD_OPS]
    if who is SHIFTER:
        # the shifter sees batch unhappy only when the restricted module is troubled
        return secret if scene.queue_troubled else [*secret, "BATCH-ACK"]
    return [*secret, *WITHHELD_QUEUE, *QUEUE_MARKS, "BATCH-ACK"]


GETS = [
    "/alarms",
    "/alarms.json",
    "/alarms?state=pending",
    "/alarms.json?state=suppressed",
    "/alarms.json?subject=batch",
    "/alarms?subject=batch",
    "/alarms.json?subject=jobs",
    "/downtimes",
    "/downtimes.json",
    "/downtimes.json?days=366",
    "/",
    "/overview.json",
    "/category/batch",
    "/category/batch.json",
    "/module/jobs",
    "/module/jobs.json",
    "/module/queue",
]


@pytest.mark.parametrize("who", [ANONYMOUS, SHIFTER], ids=["anonymous", "shifter"])
def test_no_alarm_or_downtime_page_shows_what_the_viewer_may_not_see(
    scene: Scene, who: dict[str, str]
) -> None:
    browser = Browser(scene.app, who)
    for url in GETS:
        answer = browser.get(url)
        assert answer.status_code == 200, url
        leaked = [s for s in forbidden_for(who, scene) if s in answer.text]
        assert not leaked, (url, leaked)


def test_the_admin_sees_every_alarm_and_downtime(scene: Scene) -> None:
    admin = Browser(scene.app, ADMIN)
    alarms = admin.get("/alarms.json").json()
    subjects = {(e["subject"]["kind"], e["subject"]["id"]) for e in alarms["log"]}
    assert {("module", "secretjobs"), ("category", "batch"), ("module", "queue")} <= subjects
    listing = admin.get("/downtimes.json").json()
    shown = {d["description"]: d for d in listing["current"]}
    assert {"SECRET-DOWNTIME", "QUEUE-DOWNTIME", "MIXED-DOWNTIME"} <= set(shown)
    assert all(d["cancel_url"] for d in shown.values())
    assert "secretjobs" in listing["known"]
    assert (
        "BATCH-ACK" in admin.get("/").text and "SECRET-ACK" in admin.get("/module/secretjobs").text
    )


def _log_subjects(view: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["subject"]["kind"], e["subject"]["id"]) for e in view["log"]}


@pytest.mark.parametrize("who", [ANONYMOUS, SHIFTER], ids=["anonymous", "shifter"])
def test_the_log_holds_and_counts_only_what_the_viewer_sees(
    scene: Scene, who: dict[str, str]
) -> None:
    browser = Browser(scene.app, who)
    view = browser.get("/alarms.json").json()
    allowed = {("module", "jobs")} | ({("module", "queue")} if who is SHIFTER else set())
    # a category's notifications name its troubled members: none for a viewer missing one
    assert _log_subjects(view) <= allowed
    assert view["pages"]["total"] == len(view["log"])
    assert not view["pages"]["capped"] and not view["pages"]["next"]
    if who is SHIFTER:
        assert ("module", "queue") in _log_subjects(view)
    states = {(r["subject"]["kind"], r["subject"]["id"]) for r in view["states"]}
    assert states <= allowed | {("category", "batch")}
    assert browser.get("/alarms.json?subject=batch").json()["pages"]["total"] == 0


@pytest.mark.parametrize("who", [ANONYMOUS, SHIFTER, ADMIN], ids=["anonymous", "shifter", "admin"])
def test_a_categorys_alarm_state_is_the_state_the_overview_shows(
    scene: Scene, who: dict[str, str]
) -> None:
    browser = Browser(scene.app, who)
    overview = {
        c["id"]: c["status"]["value"] for c in browser.get("/overview.json").json()["categories"]
    }
    rows = [
        r
        for r in browser.get("/alarms.json").json()["states"]
        if r["subject"]["kind"] == "category"
    ]
    assert "batch" in {r["subject"]["id"] for r in rows}
    for row in rows:
        assert row["state"] == LEVEL_OF_STATUS[overview[row["subject"]["id"]]], row
    html = browser.get("/alarms").text
    batch = "unhappy" if who is ADMIN or (who is SHIFTER and scene.queue_troubled) else "ok"
    assert overview["batch"] == ("happy" if batch == "ok" else "unhappy")
    assert (
        f'category batch</a></td><td>categories</td><td><span class="level level-{batch}">' in html
    )


def _quoted_out(text: str, ident: str) -> str:
    """The text with every quoted mention of `ident` (as the error pages quote ids) replaced."""
    if not ident.isdigit():  # a name is unique enough to be replaced wherever it stands
        return text.replace(ident, "ID")
    for quote in ("'", "&#39;"):  # as repr() quotes it, escaped or not
        text = text.replace(f"{quote}{ident}{quote}", "ID")
    return text


def _same(a: httpx.Response, b: httpx.Response, hidden: str, unknown: str) -> None:
    """Two answers are the same but for the id they were asked about."""
    assert a.status_code == b.status_code
    assert _quoted_out(a.text, hidden) == _quoted_out(b.text, unknown)


@pytest.mark.parametrize("who", [ANONYMOUS, SHIFTER], ids=["anonymous", "shifter"])
def test_hidden_ids_answer_exactly_like_unknown_ones(scene: Scene, who: dict[str, str]) -> None:
    browser = Browser(scene.app, who)
    for url in ("/alarms?subject={}", "/alarms.json?subject={}"):
        _same(
            browser.get(url.format("secretjobs")),
            browser.get(url.format("nosuch")),
            "secretjobs",
            "nosuch",
        )
    ack = {"kind": "module", "comment": "on it", "back": "/"}
    _same(
        browser.post("/alarms/acknowledge", {**ack, "id": "secretjobs"}),
        browser.post("/alarms/acknowledge", {**ack, "id": "nosuch"}),
        "secretjobs",
        "nosuch",
    )
    category = {**ack, "kind": "category"}
    _same(
        browser.post("/alarms/acknowledge", {**category, "id": "vault"}),
        browser.post("/alarms/acknowledge", {**category, "id": "nosuch"}),
        "vault",
        "nosuch",
    )
    withdraw = "/alarms/acknowledge/{}/withdraw"
    for name in ("secret", *([] if who is SHIFTER and scene.queue_troubled else ["batch"])):
        ident = str(scene.acks[name])
        _same(
            browser.post(withdraw.format(ident), {}),
            browser.post(withdraw.format(UNKNOWN_ID), {}),
            ident,
            UNKNOWN_ID,
        )
    end = (NOW + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    schedule = {"end": end, "description": "maintenance"}
    _same(
        browser.post("/downtimes", {**schedule, "subjects": "secretjobs"}),
        browser.post("/downtimes", {**schedule, "subjects": "nosuch"}),
        "secretjobs",
        "nosuch",
    )
    cancel = "/downtimes/{}/cancel"
    for name in ("secret", "mixed", "pattern"):
        ident = str(scene.windows[name])
        _same(
            browser.post(cancel.format(ident), {}),
            browser.post(cancel.format(UNKNOWN_ID), {}),
            ident,
            UNKNOWN_ID,
        )
    # nothing of the above changed anything
    assert len(active_acknowledgements(scene.populated.store, NOW)) == 3
    stored = downtimes(scene.populated.site, scene.populated.store, NOW, NOW + timedelta(days=1))
    assert len(stored) == 4


def test_the_shifter_learns_no_hidden_id_when_scheduling(scene: Scene) -> None:
    shifter = Browser(scene.app, SHIFTER)
    end = (NOW + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    form = {"end": end, "description": "maintenance"}
    refused = shifter.post("/downtimes", {**form, "subjects": "nosuch"})
    assert refused.status_code == 404 and "secretjobs" not in refused.text
    assert "vault" not in refused.text
    # a pattern stands for what the shifter sees: it silences no hidden module
    assert shifter.post("/downtimes", {**form, "subjects": "*jobs"}).status_code == 303
    store, site = scene.populated.store, scene.populated.site
    (mine,) = [
        w for w in downtimes(site, store, NOW, NOW + timedelta(days=1)) if w.created_by == USER_DN
    ]
    assert matches(mine.subjects, "jobs") and not matches(mine.subjects, "secretjobs")
    # the shifter may cancel a downtime of what they see, and their own
    listing = shifter.get("/downtimes.json").json()
    cancels = {d["description"]: d["cancel_url"] for d in listing["current"]}
    assert cancels["QUEUE-DOWNTIME"] and cancels["maintenance"]
    assert cancels["MIXED-DOWNTIME"] == ""  # it also silences a module they cannot see
    assert shifter.post(cancels["maintenance"], {}).status_code == 303


def test_the_admin_still_manages_hidden_items(scene: Scene) -> None:
    admin = Browser(scene.app, ADMIN)
    end = (NOW + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    form = {"end": end, "description": "vault work", "subjects": "secretjobs, vault*"}
    assert admin.post("/downtimes", form).status_code == 303
    assert admin.post(f"/downtimes/{scene.windows['secret']}/cancel", {}).status_code == 303
    assert admin.post(f"/alarms/acknowledge/{scene.acks['batch']}/withdraw", {}).status_code == 303
    ack = {"kind": "module", "id": "secretjobs", "comment": "on it", "back": "/"}
    assert admin.post("/alarms/acknowledge", ack).status_code == 303


def test_a_category_acknowledgement_shows_where_the_category_is_troubled(scene: Scene) -> None:
    shifter = Browser(scene.app, SHIFTER)
    overview = shifter.get("/overview.json").json()
    batch = next(c for c in overview["categories"] if c["id"] == "batch")
    assert batch["alarm"]["acknowledged"] is scene.queue_troubled
    url = f"/alarms/acknowledge/{scene.acks['batch']}/withdraw"
    expected = 303 if scene.queue_troubled else 404
    assert shifter.post(url, {}).status_code == expected


def test_the_replayed_state_follows_each_new_run(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = Browser(scene.app)

    def batch_state() -> tuple[str, str]:
        overview = anonymous.get("/overview.json").json()["categories"]
        rows = anonymous.get("/alarms.json").json()["states"]
        row = next(r for r in rows if r["subject"] == {"kind": "category", "id": "batch"})
        return next(c["status"]["value"] for c in overview if c["id"] == "batch"), row["state"]

    assert batch_state() == ("happy", "ok")  # and remembered for this run
    _, message, metric, value = DATA["jobs"]
    monkeypatch.setitem(DATA, "jobs", (Status.UNHAPPY, message, metric, value))
    populated, dash = scene.populated, scene.app.state.dashboard
    for i in range(2):  # the alarm confirms a change after two runs
        write_run(populated.store, populated.site, populated.archive, NOW + INTERVAL * i)
    dash.now = lambda: NOW + INTERVAL * 2
    dash.latest.reset()
    assert batch_state() == ("unhappy", "unhappy")

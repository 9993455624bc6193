"""Typed view data: every page kind's template renders from its view with nothing undefined."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from jinja2 import Environment, UndefinedError

from happyface.web.alarms.forms import CSRF_MARK
from happyface.web.pages.page_data import IntervalView
from happyface.web.render import environment, json_ready, render_html, render_json
from tests.fixtures import views
from tests.fixtures.views import NOW, URLS

#: each page kind: its template, its view builder, and a text the view puts on the page
PAGE_KINDS: dict[str, tuple[str, Callable[[bool], Any], str]] = {
    "overview": ("overview.html", views.overview, "Batch system"),
    "category": ("category.html", views.category, "120 jobs held"),
    "module": ("module.html", views.module, "Status as a plot"),
    "matrix": ("matrix.html", views.matrix, "Sites"),
    "plot": ("plot.html", views.plot, "Jobs: running"),
    "alarms": ("alarms.html", views.alarms, "Notification log"),
    "downtimes": ("downtimes.html", views.downtimes, "In downtime now"),
    "error": ("error.html", views.error, "There is no module"),
    "norun": ("norun.html", views.norun, "No run yet"),
    "handover": ("handover.html", views.handover, "1 of 2 modules have a problem"),
    "wall": ("wall.html", views.wall, "Batch system"),
}


@pytest.fixture(scope="module")
def env() -> Environment:
    """The dashboard's own environment (StrictUndefined), with the alarm pages' global."""
    env = environment(URLS)
    env.globals["csrf_token"] = CSRF_MARK
    return env


@pytest.mark.parametrize("full", [True, False], ids=["full", "empty"])
@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_page_kind_renders_from_its_typed_view(
    env: Environment, kind: str, full: bool
) -> None:
    template, build, shown = PAGE_KINDS[kind]
    page = render_html(env, template, build(full)).decode()
    assert shown in page
    assert page.rstrip().endswith("</html>")


def test_a_full_view_shows_its_optional_parts(env: Environment) -> None:
    page = render_html(env, "module.html", views.module(True)).decode()
    assert "Acknowledged" in page and "kernel update" in page  # the alarm mark
    assert 'href="/archive/7/jobs/main.xml"' in page  # archived inputs
    assert "fetch 0.25 s, extract 0.50 s" in page  # timing
    assert "You are looking at the past" in page and "a note on the time shown" in page
    assert "since 12:00 UTC (2 h 10 min)" in page  # since when, in the box's header
    assert "9 runs" in page  # a collapsed row of the history
    overview = render_html(env, "overview.html", views.overview(True)).decode()
    assert "in Batch system" in overview  # the troubled list names the category
    assert overview.count("since 12:00 UTC") == 2  # the card and the troubled list


def test_the_module_box_macro_renders_a_box_alone(env: Environment) -> None:
    macros: Any = env.get_template("_macros.html").module  # its names are the macros
    for full in (True, False):
        html = str(macros.module_box(views.box(full), full=full))
        assert 'id="h-jobs"' in html and "120 jobs held" in html


def test_a_view_of_another_page_kind_fails_loudly(env: Environment) -> None:
    # the check the other tests rely on: a template asking for a name its view lacks fails
    with pytest.raises(UndefinedError, match="category"):
        render_html(env, "category.html", views.overview(True))


def test_json_uses_the_names_the_json_always_had() -> None:
    later = datetime(2026, 11, 26, tzinfo=NOW.tzinfo)
    body = json.loads(render_json(IntervalView(NOW, later, "-1d", "now")))
    assert body == {
        "from": NOW.isoformat(),
        "to": later.isoformat(),
        "from_text": "-1d",
        "to_text": "now",
    }


def test_json_leaves_the_keys_of_stored_details_alone() -> None:
    @dataclass(frozen=True)
    class Holder:
        details: dict[str, object]

    assert json.loads(render_json(Holder({"from_": 1}))) == {"details": {"from_": 1}}


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_view_renders_as_json_as_its_plain_form(kind: str) -> None:
    # render_json walks the view itself; json_ready (for JSONResponse) copies it: both agree
    _, build, _ = PAGE_KINDS[kind]
    view = build(True)
    body = json.loads(render_json(view))
    plain = json.dumps(json_ready(view), default=datetime.isoformat)
    assert body == json.loads(plain)
    assert body and all(not key.endswith("_") for key in body)

"""Plots: curves and intervals from the URL, point caps, JSON, PNG and SVG renderings."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from happyface.status import Status
from happyface.storage.changes import ChangePoint
from happyface.web.errors import WebError
from happyface.web.plots import figures
from happyface.web.plots.axis_text import UnitFormatter, place_time_label
from happyface.web.plots.change_marks import mark_of
from happyface.web.plots.curves import MAX_POINTS, parse_interval, status_segments
from happyface.web.plots.image import render_image
from happyface.web.plots.plot_data import (
    ChangeMark,
    MetricCurve,
    PlotLinks,
    PlotView,
    StatusCurve,
)
from happyface.web.plots.png import png_of
from tests.fixtures.web import BASE, NOW, Client, WebSite, populate

RANGE = "from=2026-11-25T09:00Z&to=2026-11-25T12:00Z"


def test_relative_and_absolute_intervals() -> None:
    week = parse_interval("-7d", "now", NOW)
    assert (week.start, week.end) == (NOW - timedelta(days=7), NOW)
    assert week.relative
    fixed = parse_interval("2026-11-25T09:00Z", "2026-11-25T12:00Z", NOW)
    assert fixed.start == datetime(2026, 11, 25, 9, tzinfo=UTC) and not fixed.relative


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("-1d", "-2d"),
        ("2026-11-25T12:00Z", "2026-11-25T09:00Z"),
        ("-3000d", "now"),
        ("garbage", "now"),
        ("-1d", "tomorrow"),
        ("-99999999999d", "now"),
        ("-10s", "now"),
    ],
)
def test_bad_intervals_are_refused(start: str, end: str) -> None:
    with pytest.raises(WebError) as caught:
        parse_interval(start, end, NOW)
    assert caught.value.status == 400


def test_plot_json_carries_several_curves_of_several_modules(web_client: Client) -> None:
    data = web_client.get(
        f"/plot.json?m=jobs:running&m=transfers:rate_mb&m=transfers:status&{RANGE}"
    ).json()
    kinds = [(c["key"], c["kind"]) for c in data["curves"]]
    assert kinds == [
        ("jobs:running", "metric"),
        ("transfers:rate_mb", "metric"),
        ("transfers:status", "status"),
    ]
    running = data["curves"][0]["points"]
    assert len(running) == 8 and running[0][1] == 100.0
    segments = data["curves"][2]["segments"]
    assert [s[2] for s in segments] == ["happy", "error", "happy"]
    assert data["links"]["png"].startswith("/plot.png?m=jobs%3Arunning")
    assert data["links"]["static"].endswith(
        "from=2026-11-25T09%3A00%3A00Z&to=2026-11-25T12%3A00%3A00Z"
    )


def test_plot_page_embeds_the_interactive_chart(web_client: Client) -> None:
    html = web_client.get(f"/plot?m=jobs:running&m=queue:length&{RANGE}").text
    assert 'class="chart big" data-src="/plot.json?m=jobs%3Arunning&amp;m=queue%3Alength' in html
    assert '<option value="transfers:rate_mb"' in html and "Static link" in html


def test_png_and_svg_are_valid_images(web_client: Client) -> None:
    png = web_client.get(f"/plot.png?m=jobs:running&m=jobs:status&{RANGE}")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and len(png.content) > 5000
    svg = web_client.get(f"/plot.svg?m=jobs:running&{RANGE}")
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(svg.content)
    assert root.tag.endswith("svg")


def test_unknown_curves_are_friendly_errors(web_client: Client) -> None:
    for query, code in (
        ("m=nope:running", 404),
        ("m=jobs:nope", 404),
        ("m=jobs", 400),
        ("", 400),
        ("m=" + "&m=".join(["jobs:running"] * 13), 400),
    ):
        answer = web_client.get(f"/plot.json?{query}")
        assert answer.status_code == code, query
        assert answer.json()["error"]["message"]
        page = web_client.get(f"/plot.png?{query}")
        assert page.status_code == code and "Traceback" not in page.text


def test_status_segments_merge_and_are_capped() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    series = [
        (t0 + timedelta(minutes=i), Status.HAPPY if i < 5 else Status.UNHAPPY) for i in range(10)
    ]
    segments = status_segments(series, t0 + timedelta(hours=1), 60)
    assert [(s[0].minute, s[1].minute, s[2]) for s in segments] == [
        (0, 5, Status.HAPPY),
        (5, 10, Status.UNHAPPY),
    ]
    flapping = [
        (t0 + timedelta(minutes=i), Status.HAPPY if i % 2 else Status.ERROR) for i in range(5000)
    ]
    capped = status_segments(flapping, t0 + timedelta(days=9), 60)
    assert len(capped) <= MAX_POINTS and all(s[2] is Status.ERROR for s in capped)


def test_a_long_range_never_carries_more_than_the_cap(tmp_path: Path) -> None:
    site = populate(tmp_path, base=datetime(2026, 1, 1, tzinfo=UTC), count=0)
    _many_runs(site, count=2600, step=timedelta(hours=1))
    client = Client(site.app(datetime(2026, 5, 1, tzinfo=UTC)))
    data = client.get(
        "/plot.json?m=jobs:running&m=jobs:status&from=2025-12-31T00:00Z&to=2026-05-01T00:00Z"
    ).json()
    points = data["curves"][0]["points"]
    assert 0 < len(points) <= MAX_POINTS
    assert len(data["curves"][1]["segments"]) <= MAX_POINTS


def _many_runs(site: WebSite, count: int, step: timedelta) -> None:
    from tests.fixtures.web import write_run

    t = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        write_run(site.store, site.site, t + step * i, i)


def _view(curves: list[MetricCurve | StatusCurve]) -> PlotView:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    links = PlotLinks(page="", json="", png="", svg="", static="")
    return PlotView(
        from_="", to="", from_ms=start, to_ms=start + 365 * DAY_MS, from_text="a", to_text="b",
        curves=curves, links=links,
    )  # fmt: skip


DAY_MS = 86_400_000


def _metric(points: int, level: float, unit: str = "") -> MetricCurve:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    values = [(start + i * DAY_MS, level + i % 7, level - 5, level + 9) for i in range(points)]
    return MetricCurve("m:v", "m", "v", "metric", values, "m: v", unit=unit, axis=unit)


def _status(label: str) -> StatusCurve:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    return StatusCurve(
        "m:status", "m", "status", "status", [(start, start + DAY_MS, "happy")], label
    )


def test_a_reused_figure_draws_as_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures are kept and emptied between images: nothing of an earlier plot may remain,
    neither its curves, its legend, its value range nor its labels."""
    views = [
        _view([_metric(366, 50.0), _status("m: status")]),
        # the same layout: other curves, limits and labels, then no data at all
        _view([_metric(30, 5000.0), _status("other: status")]),
        _view([_metric(0, 0.0), _status("empty: status")]),
        _view([_metric(60, 7.0, unit="bytes"), _status("bytes: status")]),
        _view([_metric(20, 9e9, unit="count"), _status("count: status")]),
    ]
    fresh = []
    for view in views:
        monkeypatch.setattr(figures, "_idle", [])  # no figure kept: a new one is built
        fresh.append(render_image(view, "png", "T")[0])
    monkeypatch.setattr(figures, "_idle", [])
    again = [render_image(view, "png", "T")[0] for view in views * 2]
    assert again == fresh * 2


def test_images_drawn_at_once_in_threads_are_each_right() -> None:
    views = [_view([_metric(50 + 40 * i, 10.0 * i)]) for i in range(4)]
    alone = [render_image(v, "png", "T")[0] for v in views]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda v: render_image(v, "png", "T")[0], views * 3))
    assert together == alone * 3


def _change(module: str, metric: str, at: datetime, before: float, after: float) -> ChangePoint:
    relative = (after - before) / before
    return ChangePoint(module, metric, at, at, "level", "value", before, after, 1, 1, 9.0, relative)


def test_plot_json_carries_the_changes_of_each_metric_curve_in_its_interval(
    web_fresh: WebSite,
) -> None:
    inside = BASE + timedelta(minutes=45)
    web_fresh.store.add_changes(
        [
            _change("jobs", "running", inside, 100.0, 104.0),
            _change("jobs", "running", BASE - timedelta(days=2), 90.0, 100.0),  # before
            _change("jobs", "pending", inside, 2.0, 10.0),  # a curve not shown
            _change("transfers", "rate_mb", inside + timedelta(minutes=15), 60.0, 50.0),
        ]
    )
    client = Client(web_fresh.app(NOW))
    data = client.get(f"/plot.json?m=jobs:running&m=transfers:rate_mb&m=jobs:status&{RANGE}").json()
    running, rate, status = data["curves"]
    (mark,) = running["changes"]
    assert mark["at_ms"] == int(inside.timestamp() * 1000)
    assert mark["text"] == "level rise 100 → 104, since 10:45"
    assert [m["text"] for m in rate["changes"]] == ["level drop 60 → 50, since 11:00"]
    assert "changes" not in status


def test_a_change_mark_says_its_levels_in_the_metric_unit() -> None:
    at = datetime(2026, 11, 25, 12, 15, tzinfo=UTC)
    mark = mark_of(_change("eff", "efficiency", at, 0.8, 0.4), "fraction", at + timedelta(hours=2))
    assert (mark.before, mark.after, mark.direction) == ("80 %", "40 %", "drop")
    assert mark.text == "level drop 80 % → 40 %, since 12:15"
    counter = ChangePoint("j", "done", at, at, "level", "rate", 120, 30, 5, 5, 9.0, -0.75)
    assert mark_of(counter, "count", at + timedelta(days=2)).text == (
        "level drop 120/h → 30/h, since 2026-11-25 12:15"
    )


def test_images_draw_a_line_at_each_change() -> None:
    plain = _metric(60, 50.0)
    at_ms = plain.points[30][0]
    marked = MetricCurve(
        plain.key, plain.module, plain.metric, "metric", plain.points, plain.label,
        changes=[ChangeMark(at_ms, "level", "drop", "80", "40", "level drop 80 → 40")],
    )  # fmt: skip
    lines = [_svg_paths(render_image(_view([c]), "svg", "T")[0]) for c in (plain, marked)]
    assert lines[1] - lines[0] == 1


def _svg_paths(svg: bytes) -> int:
    """How many drawn lines an SVG image holds."""
    root = ElementTree.fromstring(svg)
    return sum(1 for e in root.iter() if e.tag.endswith("path"))


def _figure() -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 2), dpi=100)
    ax = figure.subplots()
    ax.fill_between([0, 1, 2], [0, 1, 0], [1, 2, 3], color="#2f6fdf", alpha=0.15)
    ax.plot([0, 1, 2], [1, 3, 2], color="#d9480f")
    ax.set_title("pixels")
    return figure


def _pixels(png: bytes) -> Any:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_png_images_hold_the_pixels_matplotlib_draws() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    ours = png_of(FigureCanvasAgg(_figure()))
    assert ours.startswith(b"\x89PNG\r\n\x1a\n")
    theirs = io.BytesIO()
    _figure().savefig(theirs, format="png")
    assert (_pixels(ours) == _pixels(theirs.getvalue())).all()


def test_the_time_label_sits_where_matplotlib_places_it() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    placed, measured = _figure(), _figure()
    place_time_label(placed.axes[0], "UTC")
    measured.axes[0].set_xlabel("UTC")
    boxes = []
    for figure in (placed, measured):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        boxes.append(figure.axes[0].xaxis.label.get_window_extent(canvas.get_renderer()))
    assert boxes[0].bounds == pytest.approx(boxes[1].bounds)


def test_value_ticks_in_a_unit_tell_the_visible_ones_apart() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = _figure()
    ax = figure.axes[0]
    ax.set_ylim(0.3, 0.3004)
    ax.yaxis.set_major_formatter(UnitFormatter("fraction"))
    FigureCanvasAgg(figure).draw()
    shown = [t.get_text() for t in ax.get_yticklabels() if 0.3 <= t.get_position()[1] <= 0.3004]
    assert len(shown) > 2 and len(set(shown)) == len(shown)
    assert all(text.endswith(" %") for text in shown)

"""Plots: curves and intervals from the URL, point caps, JSON, PNG and SVG renderings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from happyface.status import Status
from happyface.web.errors import WebError
from happyface.web.plots.curves import MAX_POINTS, parse_interval, status_segments
from happyface.web.plots.image import render_image
from happyface.web.plots.plot_data import MetricCurve, PlotLinks, PlotView, StatusCurve
from tests.fixtures.web import NOW, Client, WebSite, populate

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


def _metric(points: int, level: float) -> MetricCurve:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    values = [(start + i * DAY_MS, level + i % 7, level - 5, level + 9) for i in range(points)]
    return MetricCurve("m:v", "m", "v", "metric", values, "m: v")


def _status(label: str) -> StatusCurve:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    return StatusCurve(
        "m:status", "m", "status", "status", [(start, start + DAY_MS, "happy")], label
    )


def test_a_reused_figure_draws_as_a_new_one() -> None:
    """Figures are kept and emptied between images: nothing of an earlier plot may remain,
    neither its curves, its legend, its value range nor its labels."""
    year = _view([_metric(366, 50.0), _status("m: status")])
    first = render_image(year, "png", "T")[0]
    # the same layout, other curves and limits, then one with no data at all
    render_image(_view([_metric(30, 5000.0), _status("other: status")]), "png", "T")
    render_image(_view([_metric(0, 0.0), _status("empty: status")]), "png", "T")
    assert render_image(year, "png", "T")[0] == first


def test_images_drawn_at_once_in_threads_are_each_right() -> None:
    views = [_view([_metric(50 + 40 * i, 10.0 * i)]) for i in range(4)]
    alone = [render_image(v, "png", "T")[0] for v in views]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda v: render_image(v, "png", "T")[0], views * 3))
    assert together == alone * 3

"""Plots: which curves and interval a URL asks for, and the series gathered for them.

`m=<module>:<metric>` names a metric curve and `m=<module>:status` a module's status; the
interval is `from`/`to`, ISO times or relative to now (`to=now&from=-7d`). A curve never
carries more than MAX_POINTS points: long ranges are read from the hourly or daily rollups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ...config.site import Site
from ...durations import parse_duration
from ...instants import Interval
from ...status import Status
from ...units import axis_of
from ..errors import WebError, bad_parameter, not_found
from ..pages.timemachine import parse_instant
from ..urls import Urls
from .change_marks import change_marks
from .plot_data import Choice, ChoiceGroup, MetricCurve, PlotLinks, PlotView, StatusCurve
from .thresholds import metric_unit, thresholds

if TYPE_CHECKING:
    from ..access import ScopedStore

MAX_POINTS = 2000
MAX_CURVES = 12
MAX_SPAN = timedelta(days=5 * 366)
MIN_SPAN = timedelta(minutes=1)
DEFAULT_FROM = "-7d"
DEFAULT_TO = "now"


@dataclass(frozen=True)
class Curve:
    """One curve asked for: a module's metric, or its status when `metric` is "status"."""

    module: str
    metric: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.metric}"

    @property
    def is_status(self) -> bool:
        return self.metric == "status"


@dataclass(frozen=True)
class AskedInterval(Interval):
    """A resolved time range and the text it was asked with (kept for static links)."""

    start_text: str = ""
    end_text: str = ""

    @property
    def relative(self) -> bool:
        return not (_is_absolute(self.start_text) and _is_absolute(self.end_text))


def _is_absolute(text: str) -> bool:
    return bool(text) and text[0].isdigit()


def parse_point(text: str, name: str, now: datetime) -> datetime:
    """`now`, a relative time before now (`-7d`, `-12h`, `-1h30m`) or an ISO time."""
    value = text.strip().lower()
    if value == "now":
        return now
    if value.startswith("-"):
        try:
            return now - timedelta(seconds=parse_duration(value[1:]))
        except (ValueError, OverflowError):
            raise bad_parameter(name, text, "now, -7d, -12h or an ISO time") from None
    return parse_instant(text, name)


def parse_interval(
    start_text: str, end_text: str, now: datetime, default_from: str = DEFAULT_FROM
) -> AskedInterval:
    """The interval of a plot; a WebError for garbage, an inverted or a too long range."""
    start_text = start_text.strip() or default_from
    end_text = end_text.strip() or DEFAULT_TO
    end = parse_point(end_text, "to", now)
    try:
        start = parse_point(start_text, "from", now)
    except OverflowError:
        raise bad_parameter("from", start_text, "a time after 1990") from None
    if start >= end:
        raise WebError(
            f"The interval from {start_text} to {end_text} is empty or inverted: "
            "from= must come before to=."
        )
    if end - start > MAX_SPAN:
        raise WebError(
            f"The interval from {start_text} to {end_text} is longer than five "
            "years; choose a shorter one."
        )
    if end - start < MIN_SPAN:
        raise WebError("The interval is shorter than a minute; choose a longer one.")
    return AskedInterval(start, end, start_text, end_text)


def parse_curves(values: Sequence[str], site: Site, store: ScopedStore) -> list[Curve]:
    """The curves of `m=` parameters, each checked against the modules and metrics known."""
    if not values:
        raise WebError("Name at least one curve: m=<module>:<metric> or m=<module>:status.")
    if len(values) > MAX_CURVES:
        raise WebError(f"At most {MAX_CURVES} curves fit on one plot; you asked for {len(values)}.")
    curves: list[Curve] = []
    for value in values:
        module, sep, metric = value.partition(":")
        if not sep or not module or not metric:
            raise bad_parameter("m", value, "<module>:<metric> or <module>:status")
        curve = Curve(module, metric)
        _check_curve(curve, site, store)
        if curve not in curves:
            curves.append(curve)
    return curves


def _check_curve(curve: Curve, site: Site, store: ScopedStore) -> None:
    names = store.metric_names(curve.module)
    if site.module(curve.module) is None and not names:
        raise not_found("module", curve.module, [m.id for m in site.modules])
    if not curve.is_status and curve.metric not in names:
        raise not_found(
            f"metric of module {curve.module!r} named", curve.metric, ["status", *names]
        )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def metric_curve(
    store: ScopedStore, curve: Curve, interval: Interval, label: str, site: Site | None = None
) -> MetricCurve:
    """A metric's points as [t_ms, value, min, max], never more than MAX_POINTS; with the
    site, its unit and the limits the module's rules set on it."""
    points = store.metric_series(
        curve.module, curve.metric, interval.start, interval.end, max_points=MAX_POINTS
    )
    if len(points) > MAX_POINTS:  # a store that ignores the cap must not flood the browser
        points = points[:: -(-len(points) // MAX_POINTS)]
    unit = metric_unit(site, curve.module, curve.metric) if site is not None else ""
    return MetricCurve(
        key=curve.key,
        module=curve.module,
        metric=curve.metric,
        kind="metric",
        # straight from the columns: a datetime per point would cost more than reading them
        points=list(zip(points.millis(), points.values, points.mins, points.maxs, strict=True)),
        label=label,
        unit=unit,
        axis=axis_of(unit),
        thresholds=thresholds(site, curve.module, curve.metric) if site is not None else [],
        changes=change_marks(store, curve.module, curve.metric, interval, unit),
    )


def status_segments(
    series: Sequence[tuple[datetime, Status]], end: datetime, hold: float
) -> list[tuple[datetime, datetime, Status]]:
    """Equal consecutive statuses merged into segments; each holds until the next, or `hold` s."""
    segments: list[tuple[datetime, datetime, Status]] = []
    for i, (t, status) in enumerate(series):
        stop = series[i + 1][0] if i + 1 < len(series) else min(end, t + timedelta(seconds=hold))
        if segments and segments[-1][2] is status and segments[-1][1] >= t:
            segments[-1] = (segments[-1][0], stop, status)
        else:
            segments.append((t, stop, status))
    return _bucketed(segments) if len(segments) > MAX_POINTS else segments


def _bucketed(
    segments: list[tuple[datetime, datetime, Status]],
) -> list[tuple[datetime, datetime, Status]]:
    """Too many changes to draw: the worst status of each of MAX_POINTS equal slices."""
    size = -(-len(segments) // MAX_POINTS)
    merged = []
    for i in range(0, len(segments), size):
        chunk = segments[i : i + size]
        worst = max((s[2] for s in chunk), key=lambda s: s.severity)
        merged.append((chunk[0][0], chunk[-1][1], worst))
    return merged


def status_curve(
    store: ScopedStore, curve: Curve, interval: Interval, hold: float, label: str
) -> StatusCurve:
    """A module's status over the interval as segments [start_ms, end_ms, status]."""
    series = store.status_series(curve.module, interval.start, interval.end)
    segments = status_segments(series, interval.end, hold)
    return StatusCurve(
        key=curve.key,
        module=curve.module,
        metric="status",
        kind="status",
        segments=[(_ms(a), _ms(b), s.value) for a, b, s in segments],
        label=label,
    )


def plot_view(
    store: ScopedStore, site: Site, urls: Urls, curves: list[Curve], interval: AskedInterval
) -> PlotView:
    """The data of a plot, the same for the page, the JSON, the PNG and the SVG."""
    hold = site.settings.interval
    keys = [c.key for c in curves]
    start, end = interval.start_text, interval.end_text
    return PlotView(
        from_=interval.start.isoformat(),
        to=interval.end.isoformat(),
        from_ms=_ms(interval.start),
        to_ms=_ms(interval.end),
        from_text=start,
        to_text=end,
        curves=[
            status_curve(store, c, interval, hold, _label(site, c))
            if c.is_status
            else metric_curve(store, c, interval, _label(site, c), site)
            for c in curves
        ],
        links=PlotLinks(
            page=urls.plot(keys, start, end),
            json=urls.plot_json(keys, start, end),
            png=urls.plot_png(keys, start, end),
            svg=urls.plot_svg(keys, start, end),
            static=urls.plot(keys, iso_second(interval.start), iso_second(interval.end)),
        ),
    )


def iso_second(moment: datetime) -> str:
    """A time as a plot link writes it: UTC, to the second, with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _label(site: Site, curve: Curve) -> str:
    instance = site.module(curve.module)
    title = instance.config.title if instance is not None else curve.module
    return f"{title}: {curve.metric}"


def choices(site: Site, store: ScopedStore) -> list[ChoiceGroup]:
    """Every curve one can add on the plot page, grouped by module."""
    groups = []
    for instance in site.modules:
        title = instance.config.title
        options = [
            Choice(f"{instance.id}:{metric}", f"{title}: {metric}", metric)
            for metric in ["status", *store.metric_names(instance.id)]
        ]
        groups.append(ChoiceGroup(instance.id, title, options))
    return groups

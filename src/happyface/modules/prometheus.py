"""The `prometheus` module type: a PromQL instant query, optionally split by a label."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field, field_validator

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput, Source
from .common import load_json, metric_name, read_input, to_float

#: series beyond this many are shown but not kept as metrics (each is a series of history)
MAX_METRIC_SERIES = 300
MAX_TABLE_ROWS = 1000
# Prometheus answers a bad query with 400 (or 422, 503) and a JSON body saying why: pass it on
_ERROR_STATUSES = [400, 422, 503]

_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "min": min,
    "max": max,
    "avg": lambda xs: sum(xs) / len(xs),
    "count": lambda xs: float(len(xs)),
    "first": lambda xs: xs[0],
}

Sample = tuple[dict[str, str], float | None, datetime | None]


class PrometheusSettings(ModuleSettings):
    """Settings of the `prometheus` module type."""

    query: str = Field(description='the PromQL instant query, e.g. "sum by (job) (up == 0)"')
    metric: str = Field("value", description="name of the metric the result becomes")
    label: str | None = Field(
        None, description="split the series by this label into metrics `<metric>.<label value>`"
    )
    aggregate: Literal["sum", "min", "max", "avg", "count", "first"] = Field(
        "sum", description="how several series (per label value) become one number"
    )

    @field_validator("query")
    @classmethod
    def _not_empty(cls, query: str) -> str:
        if not query.strip():
            raise ValueError("the query is empty")
        return query

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, name: str) -> str:
        if metric_name(name) != name:
            raise ValueError(f"{name!r} is not a metric name (letters, digits, _.:/-)")
        return name


class Prometheus(Module[PrometheusSettings]):
    """A PromQL instant query against the Prometheus HTTP API; the source is Prometheus's URL."""

    Settings = PrometheusSettings

    def sources(self) -> Mapping[str, Source]:
        """The query URL on the configured Prometheus, with the source's credentials kept."""
        base = self.configured_sources.get("main")
        if base is None:
            return {}
        url = f"{base.url.rstrip('/')}/api/v1/query?query={quote(self.settings.query, safe='')}"
        return {"main": base.model_copy(update={"url": url, "accept_status": _ERROR_STATUSES})}

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        raw = read_input(inputs)
        samples = _samples(_data(raw))
        s = self.settings
        metrics = _metrics(samples, s.metric, s.label, _AGGREGATES[s.aggregate])
        shown = ", ".join(f"{k} = {v:g}" for k, v in list(metrics.items())[:5])
        message = shown or f"the query returned no value ({len(samples)} series)"
        return Result(
            message=message,
            metrics=metrics,
            tables=(_table(samples),),
            details={"query": s.query, "series": len(samples)},
            # the query's evaluation time: far from ours, the server's clock is off
            source_time=max((t for _, _, t in samples if t is not None), default=None),
        )


def _data(raw: RawInput) -> dict[str, Any]:
    """The `data` of a successful answer; Prometheus's own message when it refused the query."""
    if raw.status_code >= 400 and raw.content.lstrip()[:1] != b"{":
        raise ExtractError(f"Prometheus answered HTTP {raw.status_code}: {raw.text[:200]}")
    answer = load_json(raw)
    if not isinstance(answer, dict) or "status" not in answer:
        raise ExtractError('not a Prometheus API answer (expected {"status": ..., "data": ...})')
    if answer["status"] != "success":
        kind, error = answer.get("errorType", "error"), answer.get("error", "no reason given")
        raise ExtractError(f"Prometheus refused the query: {kind}: {str(error)[:500]}")
    data = answer.get("data")
    if not isinstance(data, dict):
        raise ExtractError("the Prometheus answer has no `data` object")
    return data


def _samples(data: dict[str, Any]) -> list[Sample]:
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return [({}, *_point(result))]
    if kind == "matrix":
        raise ExtractError(
            "the query returns a range vector; give an instant query (e.g. wrap it in rate())"
        )
    if kind != "vector" or not isinstance(result, list):
        raise ExtractError(f"unexpected result type {str(kind)[:30]!r}; expected vector or scalar")
    samples = []
    for item in result:
        if not isinstance(item, dict) or not isinstance(item.get("metric", {}), dict):
            raise ExtractError('every series of a vector needs "metric" and "value"')
        labels = {str(k): str(v) for k, v in item.get("metric", {}).items()}
        samples.append((labels, *_point(item.get("value"))))
    return samples


def _point(value: Any) -> tuple[float | None, datetime | None]:
    """A sample [timestamp, "value"]; NaN and infinities are no value."""
    if not isinstance(value, list) or len(value) != 2:
        raise ExtractError(f"a sample is not [time, value]: {str(value)[:60]}")
    seconds = to_float(value[0])
    try:
        when = datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
    except (OverflowError, OSError, ValueError):
        when = None
    return to_float(value[1]), when


def _metrics(
    samples: list[Sample], name: str, label: str | None, combine: Callable[[list[float]], float]
) -> dict[str, float]:
    values = [v for _, v, _ in samples if v is not None]
    metrics = {name: combine(values)} if values else {}
    if label is None:
        return metrics
    groups: dict[str, list[float]] = defaultdict(list)
    for labels, value, _ in samples:
        if value is not None:
            groups[labels.get(label, "")].append(value)
    for key in sorted(groups)[:MAX_METRIC_SERIES]:
        metrics[metric_name(name, key or "none")] = combine(groups[key])
    return metrics


def _table(samples: list[Sample]) -> Table:
    rows = tuple(
        (
            ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or None,
            value,
            when.strftime("%Y-%m-%d %H:%M:%S") if when else None,
        )
        for labels, value, when in samples[:MAX_TABLE_ROWS]
    )
    title = "Series" if len(samples) <= MAX_TABLE_ROWS else f"Series (first {MAX_TABLE_ROWS})"
    return Table(name="series", columns=("labels", "value", "time"), rows=rows, title=title)

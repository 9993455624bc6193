"""The response models of the JSON API (`/api/v1`): its OpenAPI schema is generated from these.

Field names and meanings are part of the versioned API: add fields freely, never rename or
remove one within v1. The answers are filled from the pages' typed view data (api/views.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...status import Kind, Status

# the shapes the pages' view data shows too are defined once, there
from ..viewdata import ErrorBody, Link

API_VERSION = "1.0.0"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Run(_Model):
    """One acquisition run."""

    id: int = Field(description="run id, increasing")
    started_at: datetime = Field(description="when the run started (UTC); the data's time")
    finished_at: datetime | None = Field(description="when it finished; null while running")
    state: Literal["running", "ok", "failed"] = Field(
        description="ok: results visible; failed: none kept; running: not finished yet"
    )
    error: str = Field(description="why the run failed; empty otherwise")
    duration: float | None = Field(description="seconds from start to finish")


class RunDetail(Run):
    """One run with the status each category had in it."""

    categories: dict[str, Status] = Field(description="status of each category, by category id")


class Site(_Model):
    """The site this instance monitors, and its newest run."""

    title: str = Field(description="the site's title")
    api_version: str = Field(description="version of this API")
    interval: float = Field(description="seconds between two runs")
    stale_after: float = Field(description="the newest run is stale when older than this (s)")
    latest_run: Run | None = Field(description="the newest run with results; null before the first")
    stale: bool = Field(description="the newest run is older than `stale_after`")
    links: dict[str, str] = Field(description="absolute URLs: dashboard, status, xml, openapi")


class ModuleStatus(_Model):
    """One module's status at a run."""

    id: str = Field(description="module instance id")
    title: str = Field(description="title shown to the shift crew")
    category: str = Field(description="id of its category")
    kind: Kind = Field(
        description="rated (counted), unrated or plots (counted as a warning at most)"
    )
    status: Status = Field(
        description="happy, neutral, unhappy, error (monitoring failed) or noinfo"
    )
    score: float = Field(description="the classic float: 1, 0.5, 0, -1 (error), -2 (no info)")
    message: str = Field(description="one-line summary of the result")
    time: datetime = Field(description="time of the run the status is from (UTC)")
    url: str = Field(description="absolute URL of the module's page at that time")
    since: datetime | None = Field(
        None, description="since when the module is in this status (UTC); null when unknown"
    )
    duration: float | None = Field(
        None, description="seconds in this status by the time shown (now, or the run's time)"
    )


class Category(_Model):
    """One category's status at a run, with its modules."""

    id: str = Field(description="category id")
    title: str = Field(description="title shown to the shift crew")
    description: str = Field(description="what the category watches")
    status: Status = Field(description="the category's rolled-up status")
    score: float = Field(description="the classic float of `status`")
    type: Literal["rated", "plots"] = Field(description="plots when it holds plot modules only")
    url: str = Field(description="absolute URL of the category's page at that time")
    since: datetime | None = Field(
        None, description="since when the category is in this status (UTC); null when unknown"
    )
    duration: float | None = Field(
        None, description="seconds in this status by the time shown (now, or the run's time)"
    )
    modules: list[ModuleStatus] = Field(description="its modules in their configured order")


class Snapshot(_Model):
    """The whole site at one run: the answer the status views and other instances read."""

    title: str = Field(description="the site's title")
    run: Run = Field(description="the run shown")
    live: bool = Field(description="true when no time was asked: the newest run")
    stale: bool = Field(description="live and the newest run is older than `stale_after`")
    requested: datetime | None = Field(description="the time asked for; null for live")
    notice: str = Field(description="a note on the time shown, e.g. a time in the future")
    url: str = Field(description="absolute URL of the overview at that time")
    categories: list[Category] = Field(description="the categories in their configured order")


class ModuleDetail(ModuleStatus):
    """One module at a run, with the numbers and details its result holds."""

    description: str = Field(description="what the module watches")
    instruction: str = Field(description="what the shift crew should do when it is not happy")
    error: str = Field(description="the technical error when the status is error")
    metrics: dict[str, float] = Field(description="numbers recorded at this run, by name")
    units: dict[str, str] = Field(
        description="the unit of each metric (count, bytes, seconds, hours, days, fraction, "
        'percent, bytes/s or <things>/s); "" where none is declared'
    )
    values: dict[str, str] = Field(description="each metric written in its unit: 1.5 TB, 54 %")
    links: list[Link] = Field(description="links the module gives (source pages, wikis)")
    details: dict[str, Any] = Field(description="the module type's own details (JSON)")
    fetch_seconds: float = Field(description="time spent fetching its sources")
    extract_seconds: float = Field(description="time spent reading them")


class Result(_Model):
    """One module's result in one run, for a history."""

    run_id: int = Field(description="id of the run")
    time: datetime = Field(description="time of the run (UTC)")
    status: Status = Field(description="the module's status")
    score: float = Field(description="the classic float of `status`")
    message: str = Field(description="one-line summary")
    error: str = Field(description="technical error, if any")
    metrics: dict[str, float] = Field(description="numbers recorded at this run")


class Results(_Model):
    """A module's results over an interval, newest first."""

    module: str = Field(description="module instance id")
    start: datetime = Field(description="start of the interval (UTC)")
    end: datetime = Field(description="end of the interval (UTC)")
    results: list[Result] = Field(description="at most `limit` results, newest first")


class Point(_Model):
    """One point of a metric curve; for rollups the mean, minimum and maximum of a bucket."""

    t: datetime = Field(description="time of the sample or start of the bucket (UTC)")
    value: float = Field(description="the value, or the bucket's mean")
    min: float = Field(description="smallest value in the bucket")
    max: float = Field(description="largest value in the bucket")


class Series(_Model):
    """A metric over an interval, at the finest resolution that fits in 2000 points."""

    module: str = Field(description="module instance id")
    metric: str = Field(description="metric name")
    unit: str = Field(description='the unit of the values (see ModuleDetail.units); "" none')
    start: datetime = Field(description="start of the interval (UTC)")
    end: datetime = Field(description="end of the interval (UTC)")
    points: list[Point] = Field(description="oldest first; at most 2000")


class MetricNames(_Model):
    """The metrics a module has recorded."""

    module: str = Field(description="module instance id")
    metrics: list[str] = Field(description="metric names, sorted")


class Error(_Model):
    """Why a request could not be answered."""

    error: ErrorBody

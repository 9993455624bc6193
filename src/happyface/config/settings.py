"""The `[site]` table: each setting declared once with its type, default and help."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..durations import Duration
from .access import ServerTls
from .shifts import ShiftSettings

# The shortest interval the scheduler keeps: a run needs its slot, its lock and its records.
MIN_INTERVAL = 10.0


class ArchiveSettings(BaseModel):
    """Where and how long the raw inputs of each run are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        True,
        description="archive every module's raw inputs at each run "
        "(the inputs of a failed module are always kept)",
    )
    dir: Path = Field(Path("archive"), description="archive folder, relative to the config file")
    keep_days: float = Field(30, ge=0, description="days an archived run is kept; 0 keeps forever")


class RetentionSettings(BaseModel):
    """How long history is kept; applied hourly by `serve` and `acquire`, at once by `cleanup`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    results_days: float = Field(
        730, ge=0, description="days runs and results are kept; 0 = forever"
    )
    samples_days: float = Field(
        90,
        ge=0,
        description="no longer used: raw samples are packed into the results and kept as "
        "long as they are (results_days); accepted so that older configurations load",
    )
    hourly_days: float = Field(730, ge=0, description="days hourly rollups are kept; 0 = forever")
    daily_days: float = Field(0, ge=0, description="days daily rollups are kept; 0 = forever")


class WebSettings(BaseModel):
    """How `happyface serve` listens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="address the web server binds to")
    port: int = Field(8080, ge=0, le=65535, description="port the web server listens on")
    base_url: str = Field(
        "",
        description="public URL of this instance, used in links that "
        "leave the page (notifications, exports); empty: derived from requests",
    )
    tls: ServerTls = Field(
        default_factory=ServerTls,
        description="serve HTTPS directly, asking for client certificates",
    )
    acknowledge_groups: list[str] = Field(
        ["admins"],
        description="`[access]` groups whose members may acknowledge a problem "
        "(and withdraw their own acknowledgements) on the dashboard",
    )
    downtime_groups: list[str] = Field(
        ["admins"],
        description="`[access]` groups whose members may schedule and cancel downtimes "
        "and withdraw anybody's acknowledgement",
    )


class UploadSettings(BaseModel):
    """Where files pushed to HappyFace (`POST /upload/NAME`) go; each `[[upload]]` names one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path = Field(
        Path("uploads"),
        description="folder of the uploaded files, relative to "
        'the config file; modules read them with `source = "upload:NAME"`',
    )
    max_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        description="largest upload accepted; a larger one is refused (413) and nothing is kept",
    )


class ChangeSettings(BaseModel):
    """Change detection on every numeric series and each module's status (`[site.changes]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="look for changes after every run")
    window: Duration = Field(
        30 * 86400,
        gt=0,
        description="history each series is judged against; a change is measured from the "
        "last change before it, at most this far back",
    )
    min_relative: float = Field(
        0.1,
        ge=0,
        description="smallest change told, relative to the level before (0.1: 10 %); "
        "for a change of variance, of the standard deviation",
    )
    penalty: float = Field(
        20.0,
        gt=0,
        description="penalty per change of ruptures' segmentation (binary segmentation, "
        "Gaussian cost, in units of the noise before): higher finds fewer",
    )
    confirm: int = Field(
        6, ge=3, description="runs a new level must hold before the change is told"
    )


class SiteSettings(BaseModel):
    """The `[site]` table: what the site is called, how often it runs, where it stores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(description="title shown on every page and in the exports")
    interval: Duration = Field(
        900,
        description='time between two runs (e.g. "15m"); at least 10 s, the shortest '
        "the scheduler keeps (a slot also waits for the run lock and records what it missed)",
    )
    database: str = Field(
        "sqlite:///happyface.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the config file",
    )
    stale_after: Duration = Field(
        2700,
        gt=0,
        description="the newest run is stale (warned about on every page) when older than this",
    )
    run_timeout: Duration = Field(300, gt=0, description="a whole run is abandoned after this")
    lock_ttl: Duration = Field(
        30,
        gt=0,
        description="a live run renews the site's run lock; "
        "a dead process's lock frees after this, and another host takes over",
    )
    extract_timeout: Duration = Field(60, gt=0, description="deadline of one module's extract")
    fetch_timeout: Duration = Field(30, gt=0, description="default total deadline of one fetch")
    source_max_age: Duration = Field(
        3600,
        gt=0,
        description="a source is stale when the time its document carries is older than this "
        "(a source's own `max_age` overrides it)",
    )
    source_future_tolerance: Duration = Field(
        300,
        ge=0,
        description="a source whose document claims a time further ahead than this is stale "
        "(a clock or time-zone fault at the source)",
    )
    fetch_connections: int = Field(
        1000,
        ge=1,
        description="HTTP fetches open at once, over all hosts; more wait for a free slot "
        "(the wait does not count against a source's deadline)",
    )
    fetch_connections_per_host: int = Field(
        100, ge=1, description="HTTP fetches open at once to one host and port"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="log level")
    log_dir: Path | None = Field(
        None,
        description="folder for the run logs, relative to the "
        "config file; none: log to standard error only",
    )
    archive: ArchiveSettings = Field(
        default_factory=ArchiveSettings, description="archive of raw inputs"
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, description="how long history is kept"
    )
    web: WebSettings = Field(default_factory=WebSettings, description="the web server")
    upload: UploadSettings = Field(
        default_factory=UploadSettings, description="files pushed to HappyFace"
    )
    shifts: ShiftSettings = Field(
        default_factory=ShiftSettings,
        description="when shifts begin: the handover digest and its mail",
    )
    changes: ChangeSettings = Field(
        default_factory=ChangeSettings, description="change detection on the stored history"
    )

    @field_validator("interval")
    @classmethod
    def _interval(cls, seconds: float) -> float:
        if seconds < MIN_INTERVAL:
            raise ValueError(
                f"{seconds:g} s is shorter than the minimum of {MIN_INTERVAL:g} s the scheduler "
                f'can keep; write e.g. interval = "{MIN_INTERVAL:g}s" or longer'
            )
        return seconds

    @field_validator("database")
    @classmethod
    def _database_url(cls, url: str) -> str:
        try:
            make_url(url)
        except ArgumentError:
            raise ValueError(
                f"{url!r} is not a database URL; write e.g. "
                '"sqlite:///happyface.db" or "postgresql://user@host/dbname"'
            ) from None
        return url

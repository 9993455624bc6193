"""The `http_check` module type: an endpoint's status code, latency and certificate lifetime."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import Field, field_validator

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..retired import BecameRule, Retired
from ..rules import Rule
from ..sources import Inputs, RawInput, Source
from .common import checked_regex


class HttpCheckSettings(ModuleSettings):
    """Settings of the `http_check` module type."""

    expected_status: list[int] = Field(
        default_factory=lambda: [200],
        min_length=1,
        description="HTTP status codes that count as up; any other is unhappy",
    )
    content_regex: str | None = Field(
        None,
        description="a regular expression the body must contain (searched, not matched whole); "
        "null: the body is not checked",
    )

    @field_validator("expected_status")
    @classmethod
    def _codes(cls, codes: list[int]) -> list[int]:
        if any(not 100 <= c <= 599 for c in codes):
            raise ValueError(f"{codes}: HTTP status codes lie between 100 and 599")
        return codes

    _regex = field_validator("content_regex")(checked_regex)


class HttpCheck(Module[HttpCheckSettings]):
    """Availability of an HTTP(S) endpoint: status code, latency, days left on its certificate."""

    Settings = HttpCheckSettings
    metric_units: ClassVar[Mapping[str, str]] = {
        "latency": "seconds",
        "cert_days": "days",
        "up": "count",
        "content_found": "count",
    }
    default_rules = (
        Rule(metric="up", op="<", critical=1,
             message="the endpoint answered with an unexpected HTTP status: {summary}"),
        Rule(metric="content_found", op="<", critical=1, missing="ignore",
             message="the answer does not contain the expected text: {summary}"),
        Rule(metric="latency", op=">", warning=2.0, critical=10.0),
        Rule(metric="cert_days", op="<", warning=21.0, critical=7.0, missing="ignore",
             message="the TLS certificate has {value} left, the limit is {threshold}"),
    )  # fmt: skip
    retired_settings: ClassVar[Mapping[str, Retired]] = {
        "latency_warning": BecameRule((("latency", "warning"),)),
        "latency_critical": BecameRule((("latency", "critical"),)),
        "cert_days_warning": BecameRule((("cert_days", "warning"),)),
        "cert_days_critical": BecameRule((("cert_days", "critical"),)),
    }

    def sources(self) -> Mapping[str, Source]:
        """The configured source, told to pass on every HTTP status: an error page is a rating."""
        return {
            name: source.model_copy(update={"accept_status": "any"})
            for name, source in self.configured_sources.items()
        }

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        raw = inputs.get("main")
        if raw is None:
            raise ExtractError("no input named 'main' was fetched")
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        up = raw.status_code in self.settings.expected_status
        cert_days = _cert_days(raw, now)
        found = _content_found(raw, self.settings.content_regex)
        metrics = {"up": float(up), "status_code": float(raw.status_code), "latency": raw.elapsed}
        if cert_days is not None:
            metrics["cert_days"] = cert_days
        if found is not None:
            metrics["content_found"] = float(found)
        return Result(
            message=self._summary(raw, up, cert_days, found),
            metrics=metrics,
            tables=(_table(raw, cert_days, found),),
            details={
                "url": raw.url,
                "status_code": raw.status_code,
                "latency": raw.elapsed,
                "bytes": len(raw.content),
                "content_type": raw.content_type,
                "tls_not_after": raw.tls_not_after.isoformat() if raw.tls_not_after else None,
            },
        )

    def _summary(self, raw: RawInput, up: bool, cert_days: float | None, found: bool | None) -> str:
        """What the check saw: the status (with the expected ones when it is not), the time."""
        text = f"HTTP {raw.status_code}"
        if not up:
            text += f", expected {', '.join(str(c) for c in self.settings.expected_status)},"
        text += f" in {raw.elapsed:.2f} s"
        if found is False:
            text += f"; no match for {self.settings.content_regex!r}"
        if cert_days is not None and cert_days >= 0:
            text += f"; certificate valid {cert_days:.0f} more days"
        elif cert_days is not None:
            text += f"; certificate expired {-cert_days:.0f} days ago"
        return text


def _cert_days(raw: RawInput, now: datetime) -> float | None:
    if raw.tls_not_after is None:
        return None
    return (raw.tls_not_after - now).total_seconds() / 86400


def _content_found(raw: RawInput, pattern: str | None) -> bool | None:
    if pattern is None:
        return None
    return re.search(pattern, raw.text) is not None


def _table(raw: RawInput, cert_days: float | None, found: bool | None) -> Table:
    rows: list[tuple[str, str | int | float | bool | None]] = [
        ("URL", raw.url),
        ("status code", raw.status_code),
        ("latency s", round(raw.elapsed, 3)),
        ("bytes", len(raw.content)),
        ("content type", raw.content_type or None),
        ("certificate expires", raw.tls_not_after.isoformat() if raw.tls_not_after else None),
        ("certificate days left", round(cert_days, 1) if cert_days is not None else None),
        ("content found", found),
    ]
    return Table(name="check", columns=("what", "value"), rows=tuple(rows), title="Check")

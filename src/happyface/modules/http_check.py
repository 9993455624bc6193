"""The `http_check` module type: an endpoint's status code, latency and certificate lifetime."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import Field, field_validator, model_validator

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput, Source
from ..status import Status
from .common import Verdict, checked_regex, worst


class HttpCheckSettings(ModuleSettings):
    """Settings of the `http_check` module type."""

    expected_status: list[int] = Field(
        default_factory=lambda: [200],
        min_length=1,
        description="HTTP status codes that count as up; any other is unhappy",
    )
    latency_warning: float = Field(
        2.0, gt=0, description="seconds to the complete answer above which the check is neutral"
    )
    latency_critical: float = Field(
        10.0, gt=0, description="seconds to the complete answer above which the check is unhappy"
    )
    cert_days_warning: float = Field(
        21.0, ge=0, description="fewer days until the TLS certificate expires: neutral"
    )
    cert_days_critical: float = Field(
        7.0, ge=0, description="fewer days until the TLS certificate expires: unhappy"
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

    @model_validator(mode="after")
    def _ordered(self) -> HttpCheckSettings:
        if self.latency_warning > self.latency_critical:
            raise ValueError("`latency_warning` must not exceed `latency_critical`")
        if self.cert_days_warning < self.cert_days_critical:
            raise ValueError("`cert_days_warning` must not be below `cert_days_critical`")
        return self


class HttpCheck(Module[HttpCheckSettings]):
    """Availability of an HTTP(S) endpoint: status code, latency, days left on its certificate."""

    Settings = HttpCheckSettings

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
        s = self.settings
        up = raw.status_code in s.expected_status
        cert_days = _cert_days(raw, now)
        found = _content_found(raw, s.content_regex)
        verdicts = [
            *self._status_verdicts(raw.status_code, up, found),
            *_threshold(raw.elapsed, s.latency_warning, s.latency_critical, "latency", "s"),
            *_cert_verdicts(cert_days, s.cert_days_warning, s.cert_days_critical),
        ]
        metrics = {"up": float(up), "status_code": float(raw.status_code), "latency": raw.elapsed}
        if cert_days is not None:
            metrics["cert_days"] = cert_days
        if found is not None:
            metrics["content_found"] = float(found)
        status, problems = worst(verdicts)
        message = "; ".join(problems) or _summary(raw, cert_days)
        return Result(
            status=status,
            message=message,
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

    def _status_verdicts(self, code: int, up: bool, found: bool | None) -> list[Verdict]:
        verdicts: list[Verdict] = []
        if not up:
            expected = ", ".join(str(c) for c in self.settings.expected_status)
            verdicts.append((Status.UNHAPPY, f"HTTP {code}, expected {expected}"))
        if found is False:
            pattern = self.settings.content_regex
            verdicts.append((Status.UNHAPPY, f"the answer does not contain {pattern!r}"))
        return verdicts


def _cert_days(raw: RawInput, now: datetime) -> float | None:
    if raw.tls_not_after is None:
        return None
    return (raw.tls_not_after - now).total_seconds() / 86400


def _content_found(raw: RawInput, pattern: str | None) -> bool | None:
    if pattern is None:
        return None
    return re.search(pattern, raw.text) is not None


def _threshold(
    value: float, warning: float, critical: float, what: str, unit: str
) -> list[Verdict]:
    for limit, status in ((critical, Status.UNHAPPY), (warning, Status.NEUTRAL)):
        if value > limit:
            return [(status, f"{what} {value:.2f} {unit} (> {limit:g} {unit})")]
    return []


def _cert_verdicts(days: float | None, warning: float, critical: float) -> list[Verdict]:
    if days is None:
        return []
    for limit, status in ((critical, Status.UNHAPPY), (warning, Status.NEUTRAL)):
        if days < limit:
            return [(status, f"the TLS certificate expires in {days:.1f} days (< {limit:g})")]
    return []


def _summary(raw: RawInput, cert_days: float | None) -> str:
    text = f"HTTP {raw.status_code} in {raw.elapsed:.2f} s"
    return text if cert_days is None else f"{text}; certificate valid {cert_days:.0f} more days"


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

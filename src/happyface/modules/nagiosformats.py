"""Reading host and service states from Nagios `status.dat` and from the Icinga 2 API JSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ExtractError
from .common import parse_time, to_float

SERVICE_STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
HOST_STATES = ("UP", "DOWN", "UNREACHABLE")
_BLOCKS = {"hoststatus", "servicestatus"}


@dataclass(frozen=True)
class Check:
    """The state of one host (service "") or one service at the time of the status file."""

    host: str
    service: str
    state: str
    output: str
    since: datetime | None
    acknowledged: bool
    in_downtime: bool

    @property
    def is_host(self) -> bool:
        return not self.service


def read_status_dat(text: str) -> list[Check]:
    """Every host and service of a Nagios (or Icinga 1) status.dat."""
    checks = [_from_block(kind, fields) for kind, fields in _blocks(text) if kind in _BLOCKS]
    if not checks:
        raise ExtractError("the status file has no hoststatus or servicestatus block")
    return checks


def _blocks(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    kind: str | None = None
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if kind is None:
            if not line.endswith("{"):
                raise ExtractError(f"line {number}: expected `name {{`, found {line[:60]!r}")
            kind, fields = line[:-1].strip(), {}
        elif line == "}":
            yield kind, fields
            kind = None
        elif "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value
        else:
            raise ExtractError(
                f"line {number}: expected `key=value` in {kind}, found {line[:60]!r}"
            )
    if kind is not None:
        raise ExtractError(f"the status file is truncated: block {kind!r} is never closed")


def _from_block(kind: str, fields: dict[str, str]) -> Check:
    names = HOST_STATES if kind == "hoststatus" else SERVICE_STATES
    host = fields.get("host_name", "")
    if not host:
        raise ExtractError(f"a {kind} block has no host_name")
    service = fields.get("service_description", "") if kind == "servicestatus" else ""
    if kind == "servicestatus" and not service:
        raise ExtractError(f"a servicestatus block of host {host!r} has no service_description")
    return Check(
        host=host,
        service=service,
        state=_state_name(fields.get("current_state"), names, host, service),
        output=fields.get("plugin_output", ""),
        since=_since(fields.get("last_state_change")),
        acknowledged=(to_float(fields.get("problem_has_been_acknowledged")) or 0) > 0,
        in_downtime=(to_float(fields.get("scheduled_downtime_depth")) or 0) > 0,
    )


def read_icinga_json(data: Any) -> list[Check]:
    """Every host and service of an Icinga 2 API answer (`/v1/objects/hosts` or `services`)."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ExtractError('expected the Icinga 2 API\'s {"results": [...]}')
    checks = []
    for item in results:
        attrs = item.get("attrs") if isinstance(item, dict) else None
        if not isinstance(attrs, dict):
            raise ExtractError('every Icinga 2 result needs an "attrs" object')
        checks.append(_from_attrs(str(item.get("type", "")), attrs))
    return checks


def _from_attrs(kind: str, attrs: dict[str, Any]) -> Check:
    is_host = kind == "Host" or (kind != "Service" and "host_name" not in attrs)
    host = str(attrs.get("name" if is_host else "host_name") or "")
    service = "" if is_host else str(attrs.get("name") or attrs.get("display_name") or "")
    if not host or (not is_host and not service):
        raise ExtractError(f"an Icinga 2 {kind or 'object'} has no name or host_name")
    # service names in the API are "host!service"; show the service part only
    service = service.split("!", 1)[-1]
    result = attrs.get("last_check_result")
    output = result.get("output") if isinstance(result, dict) else ""
    return Check(
        host=host,
        service=service,
        state=_state_name(
            attrs.get("state"), HOST_STATES if is_host else SERVICE_STATES, host, service
        ),
        output=str(output or ""),
        since=_since(attrs.get("last_state_change")),
        acknowledged=(to_float(attrs.get("acknowledgement")) or 0) > 0,
        in_downtime=(to_float(attrs.get("downtime_depth")) or 0) > 0,
    )


def _state_name(value: Any, names: tuple[str, ...], host: str, service: str) -> str:
    number = to_float(value)
    if number is None or not number.is_integer() or not 0 <= number < len(names):
        what = f"{host}/{service}" if service else host
        raise ExtractError(f"{what}: state {str(value)[:20]!r} is not one of 0..{len(names) - 1}")
    return names[int(number)]


def _since(value: Any) -> datetime | None:
    # 0 means "never changed" in both formats
    return parse_time(value) if to_float(value) else None

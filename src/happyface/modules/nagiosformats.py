"""Reading host and service states from Nagios `status.dat` and from the Icinga 2 API JSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ExtractError, FormatError
from .common import json_shape, parse_time, to_float

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
        raise FormatError(
            "a Nagios status.dat with hoststatus or servicestatus blocks", "no such block"
        )
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
    """Every host and service of an Icinga 2 API answer (`/v1/objects/hosts` or `services`).

    The host of a service is its `host_name` attribute, else the joined `joins.host.name`,
    else the part of the object name before the `!` (the API names services `host!service`).
    """
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise FormatError('the Icinga 2 API\'s {"results": [...]}', json_shape(data))
    checks = []
    for item in results:
        attrs = item.get("attrs") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(attrs, dict):
            raise FormatError('Icinga 2 results with an "attrs" object', json_shape(item))
        kind = str(item.get("type", ""))
        if kind not in ("", "Host", "Service"):
            raise FormatError("Icinga 2 Host or Service objects", f"a {kind[:40]} object")
        checks.append(_from_object(kind, item, attrs))
    return checks


def _from_object(kind: str, item: dict[str, Any], attrs: dict[str, Any]) -> Check:
    host, service = _names(kind, item, attrs)
    result = attrs.get("last_check_result")
    output = result.get("output") if isinstance(result, dict) else ""
    return Check(
        host=host,
        service=service,
        state=_state_name(
            attrs.get("state"), SERVICE_STATES if service else HOST_STATES, host, service
        ),
        output=str(output or ""),
        since=_since(attrs.get("last_state_change")),
        acknowledged=(to_float(attrs.get("acknowledgement")) or 0) > 0,
        in_downtime=(to_float(attrs.get("downtime_depth")) or 0) > 0,
    )


def _names(kind: str, item: dict[str, Any], attrs: dict[str, Any]) -> tuple[str, str]:
    """(host, service) of an object; service "" for a host. ExtractError when neither is known."""
    full = str(item.get("name") or "")
    joins = item.get("joins")
    joined = joins.get("host") if isinstance(joins, dict) else None
    joined_name = joined.get("name") if isinstance(joined, dict) else None
    is_host = kind == "Host" or (
        kind != "Service" and "host_name" not in attrs and not joined_name and "!" not in full
    )
    if is_host:
        host = str(attrs.get("name") or full)
        if not host:
            raise ExtractError("an Icinga 2 Host has no name (attrs.name or name)")
        return host, ""
    prefix, _, suffix = full.partition("!")
    host = str(attrs.get("host_name") or joined_name or (prefix if suffix else ""))
    # service names in the API are "host!service"; show the service part only
    service = str(attrs.get("name") or suffix or attrs.get("display_name") or "")
    service = service.split("!", 1)[-1]
    if not host or not service:
        raise ExtractError(
            f"an Icinga 2 {kind or 'object'} has no host (attrs.host_name, joins.host.name or "
            "a name host!service) or no service name"
        )
    return host, service


def _state_name(value: Any, names: tuple[str, ...], host: str, service: str) -> str:
    what = f"{host}/{service}" if service else host
    if value is None:
        raise ExtractError(f"{what} has no state (an Icinga 2 query must ask for attrs=state)")
    number = to_float(value)
    if number is None or not number.is_integer() or not 0 <= number < len(names):
        raise ExtractError(f"{what}: state {str(value)[:20]!r} is not one of 0..{len(names) - 1}")
    return names[int(number)]


def _since(value: Any) -> datetime | None:
    # 0 means "never changed" in both formats
    return parse_time(value) if to_float(value) else None

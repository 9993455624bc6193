"""The `dcache_transfers` module type: active dCache transfers, the slow and the long ones."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from ..errors import ExtractError, FormatError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..retired import BecameRule, Retired
from ..rules import Rule
from ..sources import Inputs, RawInput
from .common import json_shape, load_json, read_input, to_float
from .dcacherates import RateUnit, rate_unit

# The fields read, with the names dCache's REST API (/api/v1/transfers) uses as alternatives;
# there transferTime is in milliseconds and transferRate in a unit that depends on the release
# (see dcacherates.py); `speed` of the plain format is bytes per second.
_ALIASES = {
    "door": ("door", "cellName"),
    "pool": ("pool",),
    "host": ("host", "replyHost"),
    "client": ("client", "vomsGroup", "subject"),
    "bytes": ("bytes", "bytesTransferred"),
    "speed": ("speed",),
}
_KNOWN_FIELDS = {k for names in _ALIASES.values() for k in names} | {
    "age",
    "transferTime",
    "transferRate",
}
_TEXT_COLUMNS = ("door", "pool", "host", "client", "bytes", "speed", "age")


@dataclass(frozen=True)
class Transfer:
    """One active transfer: where, for whom, how much, how fast (bytes/s), how old (s)."""

    door: str
    pool: str
    host: str
    client: str
    bytes: float
    speed: float | None
    age: float | None


class DCacheTransfersSettings(ModuleSettings):
    """Settings of the `dcache_transfers` module type."""

    slow_mb_s: float = Field(1.0, ge=0, description="a transfer below this many MB/s is slow")
    min_age_s: float = Field(
        120.0, ge=0, description="transfers younger than this are not judged slow (still starting)"
    )
    long_hours: float = Field(
        6.0, gt=0, description="a transfer older than this many hours is long"
    )
    rate_unit: RateUnit = Field(
        "auto",
        description="unit of the REST API's transferRate: auto takes it from the dCache version "
        "in the answer's Server header (KiB/s before 7.0.1, 6.2.13, 6.1.21, 6.0.32, 5.2.38; "
        "MiB/s since) and MiB/s when the server names none",
    )


class DCacheTransfers(Module[DCacheTransfersSettings]):
    """Active dCache transfers (JSON or whitespace text): warns on slow and on long transfers."""

    Settings = DCacheTransfersSettings
    metric_units: ClassVar[Mapping[str, str]] = {"speed": "bytes/s", "bytes": "bytes", "*": "count"}
    default_rules = (Rule(metric="bad", op=">", warning=5, critical=20),)
    retired_settings: ClassVar[Mapping[str, Retired]] = {
        "warning": BecameRule((("bad", "warning"),)),
        "critical": BecameRule((("bad", "critical"),)),
    }

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        raw = read_input(inputs)
        per_unit, unit_note = rate_unit(self.settings.rate_unit, raw.server)
        transfers, paged = _read(raw, per_unit)
        s = self.settings
        slow = [t for t in transfers if _is_slow(t, s)]
        long = [t for t in transfers if t.age is not None and t.age > s.long_hours * 3600]
        bad = list({id(t): t for t in slow + long}.values())
        by_pool, by_host = Counter(t.pool for t in bad), Counter(t.host for t in bad)
        message = f"{len(transfers)} transfers, {len(slow)} slow, {len(long)} long"
        if paged:
            message += " (the answer holds only the first page of transfers)"
        if bad:
            pool, host = by_pool.most_common(1)[0][0], by_host.most_common(1)[0][0]
            message += f"; most on pool {pool}, host {host}"
        metrics = {
            "transfers": len(transfers),
            "slow": len(slow),
            "long": len(long),
            "bad": len(bad),
            "speed": sum(t.speed or 0.0 for t in transfers),
            "bytes": sum(t.bytes for t in transfers),
        }
        return Result(
            message=message,
            metrics={k: float(v) for k, v in metrics.items()},
            tables=(
                _count_table("bad_by_pool", "pool", by_pool),
                _count_table("bad_by_host", "host", by_host),
                _transfer_table(bad, slow),
            ),
            details={
                "bad_by_pool": dict(by_pool),
                "bad_by_host": dict(by_host),
                "rate_unit": unit_note,
                "paged": paged,
            },
        )


def _is_slow(t: Transfer, s: DCacheTransfersSettings) -> bool:
    old_enough = t.age is None or t.age >= s.min_age_s
    return t.speed is not None and t.speed < s.slow_mb_s * 1e6 and old_enough


def _read(raw: RawInput, per_unit: float) -> tuple[list[Transfer], bool]:
    """The transfers, and whether the answer is one page of several (dCache's `nextOffset`)."""
    if raw.content.lstrip()[:1] in (b"[", b"{"):
        data = load_json(raw)
        items = data.get("transfers", data.get("items")) if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FormatError(
                'a JSON list of transfers, {"transfers": [...]} or dCache\'s {"items": [...]}',
                json_shape(data),
            )
        paged = isinstance(data, dict) and (to_float(data.get("nextOffset")) or -1) >= 0
        return [_from_json(i, per_unit) for i in items], paged
    transfers = [
        _from_text(line, n)
        for n, line in enumerate(raw.text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return transfers, False


def _pick(item: dict[str, Any], key: str) -> Any:
    return next((item[k] for k in _ALIASES[key] if item.get(k) not in (None, "")), None)


def _from_json(item: dict[str, Any], per_unit: float) -> Transfer:
    if not _KNOWN_FIELDS & set(item):
        raise FormatError(
            "transfers with fields such as pool, bytesTransferred, transferRate (dCache REST) "
            "or door, pool, host, bytes, speed",
            f"an entry with keys {', '.join(sorted(item)[:8]) or '(none)'}",
        )
    age = to_float(item.get("age"))
    if age is None and (ms := to_float(item.get("transferTime"))) is not None:
        age = ms / 1000
    return Transfer(
        door=str(_pick(item, "door") or ""),
        pool=str(_pick(item, "pool") or "(no pool)"),
        host=str(_pick(item, "host") or "(unknown)"),
        client=str(_pick(item, "client") or ""),
        bytes=to_float(_pick(item, "bytes")) or 0.0,
        speed=_speed(item, per_unit),
        age=age,
    )


def _speed(item: dict[str, Any], per_unit: float) -> float | None:
    """Bytes per second; dCache reports a rate of 0 for a transfer without a mover yet."""
    if (speed := to_float(_pick(item, "speed"))) is not None:
        return speed
    rate = to_float(item.get("transferRate"))
    measured = item.get("bytesTransferred") is not None and item.get("transferTime") is not None
    return rate * per_unit if rate is not None and measured else None


def _from_text(line: str, number: int) -> Transfer:
    fields = line.split()
    if len(fields) != len(_TEXT_COLUMNS):
        raise ExtractError(
            f"line {number}: expected {len(_TEXT_COLUMNS)} columns "
            f"({' '.join(_TEXT_COLUMNS)}), found {len(fields)}"
        )
    values = dict(zip(_TEXT_COLUMNS, fields, strict=True))
    numbers = {k: to_float(values[k]) for k in ("bytes", "speed", "age")}
    if numbers["bytes"] is None:
        raise ExtractError(f"line {number}: bytes {values['bytes']!r} is not a number")
    return Transfer(
        values["door"],
        values["pool"],
        values["host"],
        values["client"],
        numbers["bytes"],
        numbers["speed"],
        numbers["age"],
    )


def _count_table(name: str, what: str, counts: Counter[str]) -> Table:
    rows = tuple((key, n) for key, n in counts.most_common())
    return Table(
        name=name, columns=(what, "slow or long"), rows=rows, title=f"Bad transfers by {what}"
    )


def _transfer_table(bad: list[Transfer], slow: list[Transfer]) -> Table:
    slow_ids = {id(t) for t in slow}
    rows = tuple(
        (
            t.door,
            t.pool,
            t.host,
            t.client,
            round(t.bytes / 1e6, 1),
            round(t.speed / 1e6, 3) if t.speed is not None else None,
            round(t.age / 60, 1) if t.age is not None else None,
            "slow" if id(t) in slow_ids else "long",
        )
        for t in sorted(bad, key=lambda t: -(t.age or 0))[:1000]
    )
    columns = ("door", "pool", "host", "client", "MB", "MB/s", "age min", "why")
    return Table(name="bad_transfers", columns=columns, rows=rows, title="Slow or long transfers")

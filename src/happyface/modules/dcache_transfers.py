"""The `dcache_transfers` module type: active dCache transfers, the slow and the long ones."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput
from ..status import Status
from .common import load_json, read_input, to_float

# The fields read, with the names dCache's REST API (/api/v1/transfers) uses as alternatives;
# there transferTime is in milliseconds and transferRate in bytes per second.
_ALIASES = {
    "door": ("door", "cellName"),
    "pool": ("pool",),
    "host": ("host", "replyHost"),
    "client": ("client", "vomsGroup", "subject"),
    "bytes": ("bytes", "bytesTransferred"),
    "speed": ("speed", "transferRate"),
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
    warning: int = Field(5, ge=0, description="more slow or long transfers than this: neutral")
    critical: int = Field(20, ge=0, description="more slow or long transfers than this: unhappy")


class DCacheTransfers(Module[DCacheTransfersSettings]):
    """Active dCache transfers (JSON or whitespace text): warns on slow and on long transfers."""

    Settings = DCacheTransfersSettings

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        transfers = _read(read_input(inputs))
        s = self.settings
        slow = [t for t in transfers if _is_slow(t, s)]
        long = [t for t in transfers if t.age is not None and t.age > s.long_hours * 3600]
        bad = list({id(t): t for t in slow + long}.values())
        status = (
            Status.UNHAPPY
            if len(bad) > s.critical
            else Status.NEUTRAL
            if len(bad) > s.warning
            else None
        )
        by_pool, by_host = Counter(t.pool for t in bad), Counter(t.host for t in bad)
        message = f"{len(transfers)} transfers, {len(slow)} slow, {len(long)} long"
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
            status=status,
            message=message,
            metrics={k: float(v) for k, v in metrics.items()},
            tables=(
                _count_table("bad_by_pool", "pool", by_pool),
                _count_table("bad_by_host", "host", by_host),
                _transfer_table(bad, slow),
            ),
            details={"bad_by_pool": dict(by_pool), "bad_by_host": dict(by_host)},
        )


def _is_slow(t: Transfer, s: DCacheTransfersSettings) -> bool:
    old_enough = t.age is None or t.age >= s.min_age_s
    return t.speed is not None and t.speed < s.slow_mb_s * 1e6 and old_enough


def _read(raw: RawInput) -> list[Transfer]:
    if raw.content.lstrip()[:1] in (b"[", b"{"):
        data = load_json(raw)
        items = data.get("transfers", data.get("items")) if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ExtractError('expected a JSON list of transfers (or {"transfers": [...]})')
        return [_from_json(i) for i in items]
    return [
        _from_text(line, n)
        for n, line in enumerate(raw.text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _pick(item: dict[str, Any], key: str) -> Any:
    return next((item[k] for k in _ALIASES[key] if item.get(k) not in (None, "")), None)


def _from_json(item: dict[str, Any]) -> Transfer:
    age = to_float(item.get("age"))
    if age is None and (ms := to_float(item.get("transferTime"))) is not None:
        age = ms / 1000
    return Transfer(
        door=str(_pick(item, "door") or ""),
        pool=str(_pick(item, "pool") or "(no pool)"),
        host=str(_pick(item, "host") or "(unknown)"),
        client=str(_pick(item, "client") or ""),
        bytes=to_float(_pick(item, "bytes")) or 0.0,
        speed=to_float(_pick(item, "speed")),
        age=age,
    )


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

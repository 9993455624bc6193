"""The unit of `transferRate` in dCache's REST API (`/api/v1/transfers`), by dCache version.

dCache computes the rate from the bytes transferred and the transfer time. Up to early 2021 it
gave KiB/s; the change to MiB/s (dCache commit 8512696, "change transfer rate to compute what
it advertised") reached 7.1.0 and was back-ported to 5.2.38, 6.0.32, 6.1.21, 6.2.13 and 7.0.1.
Since 8.0 the value is no longer rounded down to a whole number. The frontend names its version
in every answer's `Server: dCache/<version>` header.
"""

from __future__ import annotations

import re
from typing import Literal

RateUnit = Literal["auto", "MiB/s", "KiB/s"]

_BYTES = {"MiB/s": 1024.0**2, "KiB/s": 1024.0}
#: the first release of each branch that reports MiB/s; branches after 7.0 always did
_FIRST_MIB = {(5, 2): 38, (6, 0): 32, (6, 1): 21, (6, 2): 13, (7, 0): 1}
_SERVER = re.compile(r"dCache/(\d+)\.(\d+)(?:\.(\d+))?", re.IGNORECASE)


def dcache_version(server: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from a `Server: dCache/9.2.14` header; None for anything else."""
    match = _SERVER.search(server)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def unit_for(version: tuple[int, int, int]) -> Literal["MiB/s", "KiB/s"]:
    """The unit in which a dCache of this version reports `transferRate`."""
    major, minor, patch = version
    first = _FIRST_MIB.get((major, minor))
    if first is not None:
        return "MiB/s" if patch >= first else "KiB/s"
    return "MiB/s" if (major, minor) > (7, 0) else "KiB/s"


def rate_unit(setting: RateUnit, server: str) -> tuple[float, str]:
    """Bytes per unit of `transferRate`, and a sentence saying how the unit was chosen.

    An explicit setting wins; `auto` follows the version the server names, and without one
    assumes a current dCache (MiB/s).
    """
    if setting != "auto":
        return _BYTES[setting], f"transferRate read as {setting} (setting)"
    version = dcache_version(server)
    if version is None:
        return _BYTES["MiB/s"], "transferRate read as MiB/s (the server names no dCache version)"
    unit = unit_for(version)
    shown = ".".join(str(n) for n in version)
    return _BYTES[unit], f"transferRate read as {unit} (dCache {shown})"

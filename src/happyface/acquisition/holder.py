"""Who this process is as a lock holder, and whether another holder is provably dead.

A holder on the same machine (the same running kernel and PID namespace) is dead when its PID
is gone, or now belongs to a process started at another time (a reused PID). Anything else (a
holder on another machine, a platform without /proc) is never called dead: its lock expires
after `lock_ttl` instead.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

from ..storage.lock import LockHolder, LockInfo

PROC = Path("/proc")


def this_process() -> LockHolder:
    """This process as a lock holder; the same for the whole life of the process."""
    return _holder(os.getpid())  # keyed by PID: a forked child is another holder


@cache
def _holder(pid: int) -> LockHolder:
    host = socket.gethostname()
    return LockHolder(
        name=f"{host}:{pid}",
        host=host,
        pid=pid,
        machine=machine_identity(),
        process=process_start(pid) or "",
    )


def machine_identity() -> str:
    """The running kernel (its boot id) and PID namespace, "" where they cannot be read.

    Two holders with the same identity see the same PIDs, so one can check the other's.
    """
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot); None when it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may itself hold spaces and parentheses
    fields = stat.rsplit(")", 1)[1].split()
    state, start = fields[0], fields[19]  # fields 3 and 22 of the line
    return None if state in ("Z", "X") else start


def is_dead(lock: LockInfo, me: LockHolder) -> bool:
    """True only when the lock's holder is provably gone: same machine, process no more."""
    holder = lock.holder
    if not holder.machine or holder.machine != me.machine or holder.name == me.name:
        return False
    return process_start(holder.pid) != holder.process

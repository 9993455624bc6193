"""Counting the instructions of marked parts of a Python process with valgrind's callgrind.

CPU time on a shared machine moves with the load (caches, frequency, the other hyper-thread);
the number of instructions executed does not. The process to measure marks each part with
`counted()`: callgrind zeroes its counters when the process calls libc's `sched_yield` and
writes a dump when it calls `getppid`, two calls nothing else in a run makes. Each dump then
holds the instructions of one marked part, all threads together.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_START, _STOP = "sched_yield", "getppid"
_SUMMARY = re.compile(rb"^summary:\s*(\d+)", re.MULTILINE)


@contextmanager
def counted() -> Iterator[None]:
    """Mark a part to count: its instructions go to a dump of their own under callgrind."""
    os.sched_yield()
    try:
        yield
    finally:
        os.getppid()


def count_instructions(script: Path, arguments: list[str], parts: int) -> list[int]:
    """Run `script` under callgrind and give the instructions of each part it marked, in order.

    The hash seed is fixed so that two runs of the same work take the same paths through
    dictionaries and sets.
    """
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/callgrind.out",
            f"--zero-before={_START}",
            f"--dump-before={_STOP}",
            sys.executable,
            str(script),
            *arguments,
        ]
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode:
            tail = done.stderr.decode(errors="replace").splitlines()[-15:]
            raise SystemExit("the counted process failed:\n" + "\n".join(tail))
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        counts = [_summary(p.read_bytes()) for p in dumps]
    if len(counts) != parts:
        raise SystemExit(f"expected {parts} marked parts, callgrind wrote {len(counts)} dumps")
    return counts


def _summary(dump: bytes) -> int:
    found = _SUMMARY.search(dump)
    if found is None:
        raise SystemExit("a callgrind dump has no summary line")
    return int(found.group(1))

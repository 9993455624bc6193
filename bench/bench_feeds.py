"""Feed figures: how long the `rss` type takes to extract hostile and large feeds.

Builds each feed in memory, runs `Rss.extract` on it (best of three) and checks the result:
the feed is read (with the cut reported) or refused for the stated reason. Exits 1 when a check
fails or a feed takes a second or more.

    .venv/bin/python bench/bench_feeds.py            # feeds up to the size limit
    .venv/bin/python bench/bench_feeds.py 1200000    # feeds of about this many bytes
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from happyface.errors import ExtractError
from happyface.modules.common import MAX_INPUT_BYTES
from happyface.modules.rss import Rss
from happyface.result import Result
from happyface.sources import RawInput

NOW = datetime(2024, 6, 1, 13, 0, tzinfo=UTC)
HEAD = '<rss version="2.0"><channel><title>t</title>'
TAIL = "</channel></rss>"
LIMIT_SECONDS = 1.0

Check = Callable[[Result | str], bool]


def one_summary(size: int, unit: str) -> bytes:
    """A feed of `size` bytes whose one summary repeats `unit`."""
    open_, close = "<item><title>x</title><description>", "</description></item>"
    count = (size - len(HEAD + TAIL + open_ + close)) // len(unit)
    return (HEAD + open_ + unit * count + close + TAIL).encode()


def many_entries(size: int) -> bytes:
    """A legitimate feed of `size` bytes: dated entries with a short summary each."""
    item = (
        "<item><title>Notice {n}</title><link>https://news.example/{n}</link>"
        "<pubDate>Fri, 31 May 2024 09:00:00 +0000</pubDate>"
        "<description>&lt;p&gt;Routine maintenance of the batch system.&lt;/p&gt;</description>"
        "</item>"
    )
    count = (size - len(HEAD + TAIL)) // len(item.format(n=10**6))
    return (HEAD + "".join(item.format(n=n) for n in range(count)) + TAIL).encode()


def attributes(size: int) -> bytes:
    """A feed of `size` bytes whose entry title and link carry as many attributes as fit."""
    count = (size - 200) // 2 // 12
    names = "".join(f" a{n:06x}=''" for n in range(count))
    return (HEAD + f"<item><title{names}>x</title><link{names}/></item>" + TAIL).encode()


def bypass(size: int) -> bytes:
    """The guard's old blind spot: a declaration after a comment naming the root, in UTF-16."""
    prolog = '<!-- <rss version="2.0"> --><!DOCTYPE rss [<!ENTITY e "E">]>'
    body = one_summary(size // 2 - len(prolog), "&e;").decode()
    return b"\xff\xfe" + (prolog + body).encode("utf-16-le")


def read(result: Result | str) -> bool:
    return isinstance(result, Result) and bool(result.details["cut"])


def refused(result: Result | str) -> bool:
    return result == "the feed was refused as unsafe: it declares XML entities"


def feeds(size: int) -> dict[str, tuple[bytes, Check]]:
    return {
        "undefined references &foo;": (one_summary(size, "&foo;"), read),
        "escaped ampersands &amp;": (one_summary(size, "&amp;"), read),
        "character references &#38;": (one_summary(size, "&#38;"), read),
        "escaped markup &lt;b&gt;": (one_summary(size, "&lt;b&gt;"), read),
        "empty elements <b/>": (one_summary(size, "<b/>"), read),
        "attributes": (attributes(size), read),
        "entries of 250 bytes": (many_entries(size), read),
        "declaration in UTF-16": (bypass(size), refused),
    }


def extract(body: bytes) -> Result | str:
    module = Rss(Rss.Settings(max_entries=500), {})
    try:
        return module.extract({"main": RawInput(url="bench", content=body, fetched_at=NOW)}, NOW)
    except ExtractError as exc:
        return str(exc)


def measure(body: bytes) -> tuple[float, Result | str]:
    best, outcome = float("inf"), extract(body)
    for _ in range(3):
        start = time.perf_counter()
        outcome = extract(body)
        best = min(best, time.perf_counter() - start)
    return best, outcome


def main() -> int:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else MAX_INPUT_BYTES
    failures = 0
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"feeds of {size / 1e6:.1f} MB, best of 3 (load average {load} on {os.cpu_count()} CPUs)")
    for name, (body, check) in feeds(size).items():
        seconds, outcome = measure(body)
        ok = check(outcome) and seconds < LIMIT_SECONDS
        failures += not ok
        said = outcome.message if isinstance(outcome, Result) else f"error: {outcome}"
        print(f"{name:28} {seconds:6.3f} s  {'ok  ' if ok else 'FAIL'}  {said}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

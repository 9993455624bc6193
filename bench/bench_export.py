"""Export figures: classic XML, JSON API status and /metrics of a 100-module site.

Writes 12 runs of 100 modules in 5 categories to a temporary SQLite database, serves it with
uvicorn in a subprocess on loopback (the server of bench_web.py), and measures with a
sequential keep-alive httpx loop: the first answer of a run (built) and then the cached ones.
Prints figures; asserts nothing.

    .venv/bin/python bench/bench_export.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from bench_web import NOW, registry, timings, write_config, write_full_runs
from happyface.config.load import load_site
from happyface.storage import open_store

REQUESTS = 500
URLS = {
    "classic XML": "/category?action=getxml",
    "JSON API status": "/api/v1/status",
    "JSON API modules": "/api/v1/modules",
    "metrics": "/metrics",
}


def populate(folder: Path) -> None:
    write_config(folder)
    site = load_site(folder, registry())
    store = open_store(site.database_url)
    write_full_runs(store, site)
    store.close()
    (folder / "static").mkdir()


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def ms(values: list[float], percent: int) -> float:
    """The `percent` percentile of `values`, in milliseconds."""
    return sorted(values)[min(len(values) - 1, len(values) * percent // 100)] * 1000


def measure(client: httpx.Client) -> None:
    past = (NOW - timedelta(minutes=15) * 3).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, url in URLS.items():
        first = timings(client, [url], 1)[0] * 1000
        warm = timings(client, [url], REQUESTS)
        size = len(client.get(url).content)
        print(
            f"{name:17} ({size:6} bytes): first {first:6.1f} ms, then p50 {ms(warm, 50):.2f} ms, "
            f"p95 {ms(warm, 95):.2f} ms (goal <= 5 ms)"
        )
    for name, url in (
        ("classic XML", URLS["classic XML"]),
        ("JSON API status", URLS["JSON API status"]),
    ):
        sep = "&" if "?" in url else "?"
        at = f"{url}{sep}at={past}"
        first = timings(client, [at], 1)[0] * 1000
        warm = timings(client, [at], REQUESTS)
        print(f"{name:17} at a past run: first {first:6.1f} ms, then p50 {ms(warm, 50):.2f} ms")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-export-"))
    populate(folder)
    port = free_port()
    server_script = Path(__file__).with_name("bench_web.py")
    server = subprocess.Popen([sys.executable, str(server_script), "--serve", str(folder), port])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(200):
                try:
                    client.get("/live")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            measure(client)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()

"""The synthetic site bench_web.py and bench_pages.py serve, and the server they measure.

Modules of a `bench` type whose results are written straight into a temporary SQLite
database (20 per category), served by uvicorn in a subprocess on a free loopback port (this
file is that subprocess's entry point), measured with a sequential keep-alive httpx loop.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from tests.fixtures.nginx import free_port

from happyface import Module, Result, Status, Table
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, Store

PER_CATEGORY = 20
#: the folder under the site's where the server also serves static files (with `static`)
STATIC = "static"
STATIC_PATH = "/bench-static"


class Bench(Module):
    """A module type for the benchmark; its results are written directly."""

    source_names: ClassVar[tuple[str, ...]] = ()


def registry() -> Registry:
    reg = Registry(points=[])
    reg.register("bench", Bench)
    return reg


def write_config(folder: Path, categories: int, described: bool = False) -> None:
    """A site of `categories` categories of PER_CATEGORY bench modules each."""
    lines = ['[site]\ntitle = "Bench"\ninterval = "15m"\ndatabase = "sqlite:///bench.db"\n']
    for c in range(categories):
        lines.append(f'[[category]]\nid = "cat{c}"\ntitle = "Category {c}"\norder = {c}\n')
        for m in range(PER_CATEGORY):
            lines.append(
                f'[[module]]\nid = "m{c}_{m}"\ntype = "bench"\ncategory = "cat{c}"\n'
                f'title = "Module {c}.{m}"\ninstruction = "Call someone"\n'
                + (
                    f'description = "What module {c}.{m} watches, in a sentence or two."\n'
                    if described
                    else ""
                )
            )
    (folder / "happyface.toml").write_text("\n".join(lines))


def record(module_id: str, category: str, i: int) -> ModuleRecord:
    status = Status.UNHAPPY if (i + len(module_id)) % 7 == 0 else Status.HAPPY
    rows = [(f"row{n}", n, n * 0.5) for n in range(30)]
    result = Result(
        status=status,
        message=f"{module_id} value {i}",
        metrics={"value": float(i % 100), "load": float(i % 13)},
        tables=(Table("t", ("name", "n", "x"), rows),),
    )
    return ModuleRecord(module_id, category, status, result.message, result)


def write_full_runs(store: Store, site: Site, runs: int, now: datetime) -> None:
    """The newest `runs` runs of every module, one each 15 minutes up to `now`."""
    for i in range(runs):
        t = now - timedelta(minutes=15) * (runs - i)
        run = store.begin_run(t, "bench", site.snapshot)
        recs = [record(m.id, m.config.category, i) for m in site.modules]
        if store.finish_run(run, recs, {c.id: Status.HAPPY for c in site.categories}, t):
            store.write_ended_days(t)  # as the runner does after a day's first run


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


@contextmanager
def serving(folder: Path, static: bool = False) -> Iterator[httpx.Client]:
    """The site in `folder` served in a subprocess; yields a keep-alive client of it.

    With `static`, the server also serves `folder/static` under STATIC_PATH (Starlette's
    StaticFiles in the same process: a stand-in; bench_serving.py compares with nginx).
    """
    port = free_port()
    command = [sys.executable, __file__, str(folder), str(port)] + (["--static"] if static else [])
    server = subprocess.Popen(command)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait(client, server)
            yield client
    finally:
        server.terminate()
        server.wait(10)


def _wait(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            client.get("/live")
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def _serve(folder: Path, port: int, static: bool) -> None:
    """The server side, run in the subprocess."""
    import uvicorn
    from starlette.staticfiles import StaticFiles

    from happyface.storage import open_store
    from happyface.web import create_app

    site = load_site(folder, registry())
    app = create_app(site, open_store(site.database_url))
    if static:
        app.mount(STATIC_PATH, StaticFiles(directory=folder / STATIC))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), int(sys.argv[2]), "--static" in sys.argv[3:])

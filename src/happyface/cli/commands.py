"""What each `happyface` subcommand does, given its parsed arguments; returns the exit code.

Each command imports what only it needs (the database layer, the web server, the progress
bar) when it runs, so `check` and `modules` start without them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..config.load import CONFIG_NAME, find_config, load_site
from ..config.skeleton import NEW_SITE, module_skeleton
from ..errors import HappyFaceError, StorageError
from ..logs import setup_logging
from ..plugins import Registry
from ..status import Status
from .stopping import run_until_stopped

if TYPE_CHECKING:
    from ..acquisition.run import RunOutcome
    from ..config.site import Site


def check(args: argparse.Namespace) -> int:
    from ..storage.engine import describe, parse_url

    site = load_site(args.config, check_sources=True)
    print(f"{find_config(args.config)}: valid")
    print(f"site        {site.settings.title!r}, a run every {site.settings.interval:g} s")
    print(f"database    {describe(parse_url(site.database_url))}")
    for category in site.categories:
        members = site.modules_of(category.id)
        print(f"category    {category.id:<20} {len(members)} module(s), {category.algorithm}")
        for m in members:
            print(f"  module    {m.id:<20} {m.config.type} ({m.config.kind})")
    return 0


def modules(args: argparse.Namespace) -> int:
    registry = Registry()
    for name in registry.names():
        try:
            summary = registry.get(name).describe()["summary"]
        except HappyFaceError as exc:
            summary = f"(broken: {exc})"
        print(f"{name:<22} {summary}")
    return 0


def module_config(args: argparse.Namespace) -> int:
    print(module_skeleton(args.type, Registry().get(args.type)), end="")
    return 0


def init(args: argparse.Namespace) -> int:
    target = args.dir / CONFIG_NAME
    if target.exists():
        raise HappyFaceError(f"{target} already exists; choose another folder")
    (args.dir / "conf.d").mkdir(parents=True, exist_ok=True)
    target.write_text(NEW_SITE.format(title=args.title.replace('"', "'")), encoding="utf-8")
    load_site(target)  # what init writes must validate as is
    print(f"created {target}; try `happyface -c {args.dir} acquire` and `... serve`")
    return 0


#: `acquire` stored the run, but some module could not read one of its sources
EXIT_UNREAD = 3


def acquire(args: argparse.Namespace) -> int:
    site = load_site(args.config)
    setup_logging(site.settings.log_level)
    outcome = run_until_stopped(_acquire(site))
    if outcome is None:
        return 1
    counts = {s: sum(r.status is s for r in outcome.records) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    print(f"run {outcome.run_id} stored: {len(outcome.records)} modules ({summary})")
    unread = outcome.unread
    for record in unread:
        print(f"  {record.module_id}: {record.message}", file=sys.stderr)
    if unread:
        print(f"{len(unread)} module(s) could not read a source at all", file=sys.stderr)
        return EXIT_UNREAD
    return 0


async def _acquire(site: Site) -> RunOutcome | None:
    from .assembly import build_service, record_unreachable
    from .progress import RunProgress

    started = datetime.now(UTC)
    try:
        service = await asyncio.to_thread(build_service, site)
    except StorageError as exc:
        record_unreachable(site, started, exc)
        message = f"{exc}\nthe run is recorded as failed once the database is back"
        raise StorageError(message) from exc
    try:
        with RunProgress(len(site.modules), enabled=sys.stderr.isatty()) as progress:
            outcome = await service.acquire_once(progress.advance)
        # without `serve`, nothing else applies retention or packs ended days
        maintenance = service.scheduler.maintenance
        if maintenance is not None:
            await asyncio.to_thread(maintenance.clean_if_due, datetime.now(UTC))
        return outcome
    finally:
        await service.aclose()


def serve(args: argparse.Namespace) -> int:
    from .serve import event_loop_factory, serve_site

    site = load_site(args.config)
    setup_logging(site.settings.log_level)
    served = serve_site(site, host=args.host, port=args.port, acquire=not args.no_acquire)
    run_until_stopped(served, event_loop_factory())
    return 0


def cleanup(args: argparse.Namespace) -> int:
    from .assembly import build_service

    site = load_site(args.config)
    setup_logging(site.settings.log_level)
    service = build_service(site)
    try:
        assert service.scheduler.maintenance is not None
        counts = service.scheduler.maintenance.clean(datetime.now(UTC))
    finally:
        asyncio.run(service.aclose())
    print("removed: " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing"))
    return 0


def demo(args: argparse.Namespace) -> int:
    from ..demo.launch import run_demo
    from .serve import event_loop_factory

    setup_logging("info" if args.verbose else "warning")
    if not args.verbose:
        # the demo's broken feed fails by design at every run; the dashboard shows it
        logging.getLogger("happyface.module").setLevel(logging.ERROR)
    run_until_stopped(run_demo(args.dir, port=args.port), event_loop_factory())
    return 0

"""A run's sources as the quality axis sees them: fetched once, fingerprinted once, judged once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..quality import SourceReport, distinct_key, source_key
from ..site import ModuleInstance
from ..sources import RawInput
from ..storage import ModuleRecord, Store
from ..storage.quality_read import last_good_fingerprints
from .extracts import EXTRACTS, ExtractThreads
from .fetch import Fetcher
from .fingerprint import Fingerprint, fingerprint, from_json
from .modulerun import Fetched
from .offloop import off_loop
from .sourcequality import Limits, SourceRead, judge

log = logging.getLogger("happyface.sources")

FetchTasks = dict[str, dict[str, asyncio.Task[Fetched]]]


@dataclass
class RunSources:
    """The distinct sources of one run, each with its fetch task and the modules reading it."""

    reads: dict[str, SourceRead] = field(default_factory=dict)  # by source identity
    tasks: dict[str, asyncio.Task[Fetched]] = field(default_factory=dict)  # by identity

    def keys(self) -> list[str]:
        return [r.key for r in self.reads.values()]


def start_fetches(
    fetcher: Fetcher, modules: Iterable[ModuleInstance], now: datetime
) -> tuple[FetchTasks, RunSources]:
    """Each module's fetch tasks by source name; a source shared by modules is fetched once."""
    run = RunSources()
    by_module: FetchTasks = {}
    used: set[str] = set()
    for instance in modules:
        tasks = by_module[instance.id] = {}
        for name, source in instance.module.sources().items():
            identity = source.identity()
            if identity not in run.tasks:
                run.tasks[identity] = asyncio.create_task(fetcher.fetch_or_error(source, now))
                key = source_key(source)
                key = distinct_key(key, identity) if key in used else key
                used.add(key)
                run.reads[identity] = SourceRead(key, source)
            run.reads[identity].modules.append(instance.id)
            tasks[name] = run.tasks[identity]
    return by_module, run


@dataclass
class SourceJudge:
    """Fingerprints each fetched document (in the extract threads) and judges each source."""

    store: Store
    limits: Limits
    timeout: float
    threads: ExtractThreads = EXTRACTS

    async def fingerprints(self, run: RunSources) -> dict[str, Fingerprint | None]:
        """Each source's structural fingerprint by identity, computed off the event loop."""
        identities = list(run.tasks)
        found = await asyncio.gather(*(self._fingerprint(run, i) for i in identities))
        return dict(zip(identities, found, strict=True))

    async def _fingerprint(self, run: RunSources, identity: str) -> Fingerprint | None:
        fetched = await run.tasks[identity]
        if not isinstance(fetched, RawInput):
            return None
        key = f"source:{run.reads[identity].key}"
        if self.threads.busy(key):
            return None
        try:
            result: Fingerprint | None = await self.threads.run(
                key, self.timeout, fingerprint, fetched.content
            )
        except TimeoutError:
            log.warning("source %s: fingerprint took longer than %g s", key, self.timeout)
            return None
        return result

    async def last_good(self, run: RunSources) -> dict[str, Fingerprint]:
        """The last good fingerprint of each source of the run, by key."""
        try:
            stored = await off_loop(_read_last_good, self.store, run.keys())
        except Exception as exc:  # the run goes on; only "format changed" cannot be told
            log.warning("the last good fingerprints cannot be read: %s", exc)
            return {}
        return {key: from_json(fp) for key, fp in stored.items()}

    async def reports(
        self,
        run: RunSources,
        fingerprints: Mapping[str, Fingerprint | None],
        last_good: Mapping[str, Fingerprint],
        records: Sequence[ModuleRecord],
        now: datetime,
    ) -> list[SourceReport]:
        """Every source's report, in the order the run first read them."""
        by_id = {r.module_id: r for r in records}
        return [
            judge(
                read,
                run.tasks[identity].result(),
                fingerprints.get(identity),
                last_good.get(read.key),
                by_id,
                self.limits,
                now,
            )
            for identity, read in run.reads.items()
            if run.tasks[identity].done() and not run.tasks[identity].cancelled()
        ]


def _read_last_good(store: Store, keys: list[str]) -> dict[str, dict[str, list[str]]]:
    with store.engine.connect() as conn:
        return last_good_fingerprints(conn, keys)

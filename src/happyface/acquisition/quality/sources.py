"""A run's sources as the quality axis sees them: fetched once, fingerprinted once, judged once."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ...config.site import ModuleInstance
from ...offloop import off_loop
from ...quality import SourceReport, distinct_key, source_key
from ...sources import RawInput
from ...storage import ModuleRecord, Store
from ...storage.quality.read import Reference, last_good_fingerprints
from ..extracts import EXTRACTS, ExtractThreads
from ..fetch import Fetcher
from ..modulerun import Fetched
from .fingerprint import Fingerprint, fingerprint
from .judge import Limits, SourceRead, judge

#: a source's reference fingerprint is taken again from a good document this long after the last
FINGERPRINT_REFRESH = timedelta(hours=6)

log = logging.getLogger("happyface.sources")

FetchTasks = dict[str, dict[str, asyncio.Task[Fetched]]]


#: fetches started per turn of the event loop: the first ones send their requests while the
#: later ones are still being started
STARTS_PER_TURN = 16


@dataclass
class RunSources:
    """The distinct sources of one run, each with its fetch task and the modules reading it."""

    reads: dict[str, SourceRead] = field(default_factory=dict)  # by source identity
    tasks: dict[str, asyncio.Task[Fetched]] = field(default_factory=dict)  # by identity
    #: each module's source identities, by source name
    named: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, modules: Iterable[ModuleInstance]) -> RunSources:
        """The sources the modules read; a source shared by modules is read once."""
        run = cls()
        used: set[str] = set()
        for instance in modules:
            identities = run.named[instance.id] = {}
            for name, source in instance.module.sources().items():
                identity = identities[name] = source.identity()
                if identity not in run.reads:
                    key = source_key(source)
                    key = distinct_key(key, identity) if key in used else key
                    used.add(key)
                    run.reads[identity] = SourceRead(key, source)
                run.reads[identity].modules.append(instance.id)
        return run

    def keys(self) -> list[str]:
        return [r.key for r in self.reads.values()]

    async def start(
        self, fetcher: Fetcher, now: datetime, latencies: Mapping[str, float] | None = None
    ) -> FetchTasks:
        """Start every source's fetch; each module's fetch tasks by source name.

        The sources that took longest at the last run (`latencies`, by key) start first,
        unknown ones (new, or unanswered) before all, STARTS_PER_TURN at a time: starting a
        thousand fetches takes the loop a while, and a run lasts as long as the latest start
        plus that source's latency, so the slow ones must not wait behind the quick ones.
        """
        known = latencies or {}
        order = sorted(self.reads, key=lambda i: -known.get(self.reads[i].key, math.inf))
        for turn in range(0, len(order), STARTS_PER_TURN):
            for identity in order[turn : turn + STARTS_PER_TURN]:
                fetch = fetcher.fetch_or_error(self.reads[identity].source, now)
                self.tasks[identity] = asyncio.create_task(fetch)
            await asyncio.sleep(0)  # the fetches started so far take their next steps
        self.tasks = {identity: self.tasks[identity] for identity in self.reads}  # read order
        return {
            module: {name: self.tasks[identity] for name, identity in named.items()}
            for module, named in self.named.items()
        }


@dataclass
class SourceJudge:
    """Judges each source of a run, fingerprinting documents (in the extract threads) as needed.

    A fingerprint is taken when a module could not read the document (to tell a changed
    format from garbage), when the source has no reference yet, and when its reference is
    older than FINGERPRINT_REFRESH: walking every document of every run would cost a large
    site more than the rest of its quality checks together.
    """

    store: Store
    limits: Limits
    timeout: float
    threads: ExtractThreads = EXTRACTS

    async def last_good(self, run: RunSources) -> dict[str, Reference]:
        """The last good fingerprint of each source of the run, by key."""
        try:
            return await off_loop(_read_last_good, self.store, run.keys())
        except Exception as exc:  # the run goes on; only "format changed" cannot be told
            log.warning("the last good fingerprints cannot be read: %s", exc)
            return {}

    async def reports(
        self,
        run: RunSources,
        last_good: Mapping[str, Reference],
        records: Sequence[ModuleRecord],
        now: datetime,
    ) -> list[SourceReport]:
        """Every source's report, in the order the run first read them."""
        by_id = {r.module_id: r for r in records}
        done = {
            identity: task.result()
            for identity, task in run.tasks.items()
            if task.done() and not task.cancelled()
        }
        wanted = [
            identity
            for identity, fetched in done.items()
            if isinstance(fetched, RawInput)
            and _wants_fingerprint(run.reads[identity], last_good, by_id, now)
        ]
        taken = await asyncio.gather(*(self._fingerprint(run, i, done[i]) for i in wanted))
        fingerprints = dict(zip(wanted, taken, strict=True))
        return [
            judge(
                run.reads[identity],
                fetched,
                fingerprints.get(identity),
                _reference(last_good, run.reads[identity].key)
                if identity in fingerprints
                else None,
                by_id,
                self.limits,
                now,
            )
            for identity, fetched in done.items()
        ]

    async def _fingerprint(
        self, run: RunSources, identity: str, fetched: Fetched
    ) -> Fingerprint | None:
        assert isinstance(fetched, RawInput)
        key = f"source:{run.reads[identity].key}"
        if self.threads.busy(key):
            return None
        try:
            result: Fingerprint | None = await self.threads.run(
                key, self.timeout, fingerprint, fetched.content
            )
        except TimeoutError:
            log.warning("%s: the fingerprint took longer than %g s", key, self.timeout)
            return None
        return result


def _wants_fingerprint(
    read: SourceRead,
    last_good: Mapping[str, Reference],
    records: Mapping[str, ModuleRecord],
    now: datetime,
) -> bool:
    reference = last_good.get(read.key)
    if reference is None or now - reference.taken_at >= FINGERPRINT_REFRESH:
        return True
    return any(records[m].format_error for m in read.modules if m in records)


def _reference(last_good: Mapping[str, Reference], key: str) -> Fingerprint | None:
    reference = last_good.get(key)
    return None if reference is None else reference.fingerprint()


def _read_last_good(store: Store, keys: list[str]) -> dict[str, Reference]:
    return store.read(
        "reading the sources' last good fingerprints", lambda c: last_good_fingerprints(c, keys)
    )

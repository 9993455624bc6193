"""One module's part of a run: wait for its sources, extract with a deadline, rate, archive."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from lxml import etree

from ..archive.run_file import ArchiveFeed
from ..config.site import ModuleInstance
from ..errors import ExtractError, FetchError, HappyFaceError
from ..result import Result
from ..rules import rate
from ..sources import RawInput
from ..status import Status
from ..storage import ModuleRecord
from .extracts import EXTRACTS, ExtractThreads

log = logging.getLogger("happyface.module")

Fetched = RawInput | FetchError

#: errors of JSON and XML parsers: the input is garbage, not the module at fault
PARSE_ERRORS = (json.JSONDecodeError, ParseError, etree.XMLSyntaxError, DefusedXmlException)


@dataclass(frozen=True)
class ModuleJob:
    """What a module needs to do its part of a run."""

    instance: ModuleInstance
    fetches: Mapping[str, asyncio.Task[Fetched]]  # by source name, shared between modules
    now: datetime
    extract_timeout: float
    archive: ArchiveFeed | None  # the run's archive, appended to as modules finish
    archive_always: bool
    threads: ExtractThreads = field(default=EXTRACTS)


async def run_module(job: ModuleJob) -> ModuleRecord:
    """The module's record for this run; every failure ends as its error, never an exception."""
    module_id = job.instance.id
    started = time.perf_counter()
    inputs = {name: await task for name, task in job.fetches.items()}
    fetch_seconds = time.perf_counter() - started
    failed = {n: i for n, i in inputs.items() if isinstance(i, FetchError)}
    extract_started = time.perf_counter()
    format_error = ""
    if failed:
        result = Result.error("; ".join(f"source {n!r}: {e}" for n, e in failed.items()))
    else:
        good = {n: i for n, i in inputs.items() if isinstance(i, RawInput)}
        result, format_error = await _extract(job, good)
    extract_seconds = time.perf_counter() - extract_started
    status, message = rate(result, job.instance.rules)
    archive_path = _archive(job, inputs, failed=status is Status.ERROR)
    _log_outcome(module_id, status, message, fetch_seconds, extract_seconds)
    return ModuleRecord(
        module_id=module_id,
        category_id=job.instance.config.category,
        status=status,
        message=message,
        result=result,
        archive=archive_path,
        fetch_seconds=fetch_seconds,
        extract_seconds=extract_seconds,
        error=message if status is Status.ERROR else "",
        format_error=format_error,
    )


async def _extract(job: ModuleJob, inputs: dict[str, RawInput]) -> tuple[Result, str]:
    """The module's result, and why its inputs could not be understood ("" when they could)."""
    module, module_id = job.instance.module, job.instance.id
    if job.threads.busy(module_id):
        return Result.error(
            "extract not started: an earlier extract of this module overran extract_timeout "
            f"({job.extract_timeout:g} s) and is still running; it starts again once that ends"
        ), ""
    try:
        # A thread keeps a slow parser from stalling the other modules; one that overruns
        # its deadline is abandoned and its result ignored (see extracts.py).
        result = await job.threads.run(
            module_id, job.extract_timeout, module.extract, inputs, job.now
        )
    except TimeoutError:
        return Result.error(f"extract took longer than {job.extract_timeout:g} s"), ""
    except ExtractError as exc:
        message = str(exc) or "the input could not be understood"
        return Result.error(message), message
    except PARSE_ERRORS as exc:  # a parser's own error that the module let through
        message = f"the input could not be parsed: {type(exc).__name__}: {exc}"
        return Result.error(message), message
    except Exception as exc:
        log.exception("module %s: extract failed unexpectedly", job.instance.id)
        return Result.error(f"extract failed: {type(exc).__name__}: {exc}"), ""
    if not isinstance(result, Result):
        return Result.error(f"extract returned {type(result).__name__}, not a Result"), ""
    return result, ""


def _archive(job: ModuleJob, inputs: Mapping[str, Fetched], failed: bool) -> str | None:
    """The module's archive path, its inputs queued for writing (`archive/run_file.py`)."""
    if job.archive is None or not inputs or not (failed or job.archive_always):
        return None
    try:
        return job.archive.add(job.instance.id, inputs)
    except HappyFaceError as exc:  # a module id that cannot name a file
        log.warning("module %s: raw inputs not archived: %s", job.instance.id, exc)
        return None


def _log_outcome(
    module_id: str, status: Status, message: str, fetch_s: float, extract_s: float
) -> None:
    level = logging.WARNING if status is Status.ERROR else logging.INFO
    log.log(
        level,
        "[%s] %s (fetch %.2f s, extract %.2f s) %s",
        module_id,
        status.value,
        fetch_s,
        extract_s,
        message,
    )

"""The names of the archive: run files, module paths, input files, and what meta.json says."""

from __future__ import annotations

import mimetypes
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from ..errors import HappyFaceError
from ..sources import RawInput

META = "meta.json"
RUN_SUFFIX = ".zip"
RUN_FORMAT = "%Y/%m/%d/%H%M%S"
DIGITS = "[0-9]"
DAY_GLOB = "/".join(DIGITS * n for n in (4, 2, 2))
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
SAFE_NAME = re.compile(_NAME)
_RELPATH = re.compile(r"(\d{4}/\d{2}/\d{2}/\d{6})/(" + _NAME + ")")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


class ArchiveError(HappyFaceError):
    """Raised when an archived path is malformed, leads outside the archive, or does not exist."""


def run_key(run_started: datetime) -> str:
    """`YYYY/MM/DD/HHMMSS` of a run, in UTC when the time carries a zone."""
    return utc_naive(run_started).strftime(RUN_FORMAT)


def split_relpath(relpath: str) -> tuple[str, str]:
    """(run key, module id) of a module's archive path; ArchiveError if it is none."""
    found = _RELPATH.fullmatch(relpath) if isinstance(relpath, str) else None
    if found is None:
        raise ArchiveError(
            f"{relpath!r} is not an archive path of the form YYYY/MM/DD/HHMMSS/<module>"
        )
    return found.group(1), found.group(2)


def run_time(key: PurePosixPath) -> datetime | None:
    """The start of the run stored under `key` (its zip suffix ignored); None if not a run."""
    try:
        return datetime.strptime(str(key).removesuffix(RUN_SUFFIX), RUN_FORMAT)
    except ValueError:
        return None


def check_name(name: str, what: str) -> None:
    """Refuse a module id or file name that could leave its place or hide itself."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise ArchiveError(
            f"{what} {name!r} is not allowed in the archive: use letters, digits, '_', '.', '-' "
            "and do not start with '.' or '-'"
        )


def describe(item: RawInput, file_name: str) -> dict[str, Any]:
    """What meta.json says of one fetched input."""
    return {
        "url": item.url,
        "status_code": item.status_code,
        "content_type": item.content_type,
        "fetched_at": item.fetched_at.isoformat(),
        "size": len(item.content),
        "elapsed": round(item.elapsed, 3),
        "error": None,
        "file": file_name,
    }


def body_name(name: str, content_type: str, used: set[str]) -> str:
    """A safe, unused file name for input `name`, with an extension from its content type."""
    stem = _UNSAFE_CHARS.sub("_", name).lstrip(".-")[:100] or "input"
    extension = _extension(content_type.split(";")[0].strip().lower())
    if stem.endswith(extension):
        stem = stem.removesuffix(extension) or "input"
    candidate, counter = f"{stem}{extension}", 1
    while candidate in used:
        counter += 1
        candidate = f"{stem}-{counter}{extension}"
    used.add(candidate)
    return candidate


def utc_naive(moment: datetime) -> datetime:
    """`moment` in UTC without zone, or unchanged when it carries none."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# mimetypes answers ".xsl" for XML and nothing for feeds; these are what monitoring serves
_EXTENSIONS = {
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "application/json": ".json",
    "text/plain": ".txt",
    "text/html": ".html",
}


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"

"""The data-quality axis: how good our knowledge of a site is, per source and run.

Status says how the site is; quality says whether we can tell. A source is `fresh` when it was
fetched and read and its own time is recent, `stale` when its own time is too old (or in the
future), `unreachable` when the fetch failed, `unparseable` when a module could not read it and
`format_changed` when its structure lost parts that the last document read successfully had.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from .sources import Source
from .status import Status


class Quality(StrEnum):
    """The state of one source in one run, best first."""

    FRESH = "fresh"
    STALE = "stale"
    FORMAT_CHANGED = "format_changed"
    UNPARSEABLE = "unparseable"
    UNREACHABLE = "unreachable"

    @property
    def word(self) -> str:
        """How a page says it: "format changed" rather than the value."""
        return self.value.replace("_", " ")


#: how many appeared or disappeared paths a run keeps for a source
MAX_PATHS = 50


@dataclass(frozen=True)
class SourceReport:
    """One source's quality in one run, as the acquisition hands it to the store."""

    key: str
    url: str  # without credentials
    state: Quality
    message: str = ""
    latency: float | None = None  # seconds; None when no answer came
    size: int | None = None  # bytes of the answer
    source_time: datetime | None = None
    appeared: tuple[str, ...] = ()
    disappeared: tuple[str, ...] = ()
    #: the modules reading it, and those shown as no data because of it (with their own status)
    modules: tuple[str, ...] = ()
    greyed: dict[str, Status] = field(default_factory=dict)
    #: whether the modules read it successfully: then it is the source's last good fetch
    read: bool = False
    #: whether the document's structural fingerprint was taken in this run
    fingerprinted: bool = False
    #: that fingerprint when it differs from the last good one (or there is none yet); kept
    #: as the new last good one when the modules read the document
    fingerprint: dict[str, str] | None = None


_NOT_KEY = re.compile(r"[^a-z0-9]+")


def source_key(source: Source) -> str:
    """A readable, stable key of a source: its host and path, e.g. `dcache_example_org_info`."""
    url = source.url
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        text = f"{parts.hostname or ''}_{parts.port or ''}_{parts.path}"
        # many Prometheus queries share a path: the query tells them apart
        query = f"_{_digest(parts.query)}" if parts.query else ""
    else:
        text, query = url.removeprefix("file://"), ""
    key = _NOT_KEY.sub("_", text.lower()).strip("_")[:120] or "source"
    return key + query


def distinct_key(key: str, identity: str) -> str:
    """`key` made unique for a source fetched differently (other headers or credentials)."""
    return f"{key}_{_digest(identity)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]

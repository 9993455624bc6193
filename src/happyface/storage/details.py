"""A result's tables, links and details: stored once per content, compressed.

Most modules report the same details run after run (a dCache module's pool table changes
when a pool does). The JSON text is keyed by its SHA-256, so an unchanged result adds a
reference to its run's row, not another copy; a new content is zlib-compressed (stdlib: no
dependency for a few hundred bytes a change).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ..result import Result
from .hashed import content_hash, stored_ids
from .records import details_payload
from .schema import result_details

# one encoder for every call: json.dumps with options builds a new one each time, and a run
# encodes every module's details; no cycle check, as results are plain data built from records
_ENCODER = json.JSONEncoder(
    separators=(",", ":"), sort_keys=True, ensure_ascii=False, check_circular=False
)


def dumps(value: Any) -> str:
    """Compact, stable JSON: the same content always gives the same text."""
    return _ENCODER.encode(value)


def details_key(result: Result) -> tuple[str, str] | None:
    """The hash and JSON text of a result's details, or None when it has none."""
    payload = details_payload(result)
    if not payload:
        return None
    text = dumps(payload)
    return content_hash(text), text


def details_ids(conn: Connection, texts: Mapping[str, str]) -> dict[str, int]:
    """The ids of these details (hash -> JSON text), storing the new ones compressed."""
    return stored_ids(conn, result_details, "data", texts, compress)


def compress(text: str) -> bytes:
    """The stored form of a details text."""
    return zlib.compress(text.encode())


def expand(data: bytes | None) -> dict[str, Any]:
    """The JSON document a stored details row holds; empty for a result without details."""
    if data is None:
        return {}
    return dict(json.loads(zlib.decompress(data).decode()))

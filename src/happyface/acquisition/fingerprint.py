"""The structural fingerprint of a JSON or XML document: its paths and their value types.

A fingerprint maps each path to the kinds of value found there, e.g. ``jobs[].state -> {str}``.
Arrays collapse into one `[]` step (the union of their elements), and a dict whose keys are
data rather than a schema (many siblings of one shape, such as pool or metric names) collapses
into one `*` step, so that a new pool or a finished job never reads as a changed format.
An empty array or object is marked `empty`: the paths below it that the last good document had
are then not lost, only absent (a queue with no jobs is not a new format).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

Fingerprint = dict[str, frozenset[str]]

EMPTY = "empty"
NULL = "null"
#: a dict with at least this many keys whose values are all of one scalar kind is data-keyed
DATA_KEYS = 8
#: a dict with at least this many keys whose values are all objects of one key set is data-keyed
RECORD_KEYS = 2
#: documents larger than this are not fingerprinted (the cost would outweigh the insight)
MAX_BYTES = 20 * 1024 * 1024


def fingerprint(content: bytes) -> Fingerprint | None:
    """The document's fingerprint; None when it is neither JSON nor XML (or too large)."""
    if len(content) > MAX_BYTES:
        return None
    head = content[:256].lstrip()
    if head.startswith((b"{", b"[")):
        try:
            return _of_json(json.loads(content))
        except (ValueError, RecursionError):
            return None
    if head.startswith(b"<"):
        try:
            return _of_xml(fromstring(content))
        except (ParseError, DefusedXmlException, ValueError, RecursionError):
            return None
    return None


def lost_paths(
    before: Mapping[str, frozenset[str]], now: Mapping[str, frozenset[str]]
) -> list[str]:
    """The paths (or path and type) `before` had that `now` lacks, excusing emptied containers.

    Documents with no path in common (JSON then an HTML error page) are not one format that
    changed but another document altogether: nothing is reported lost.
    """
    if before.keys().isdisjoint(now.keys()):
        return []
    lost = []
    for path, kinds in before.items():
        found = now.get(path)
        if found is None:
            if not _emptied(path, now):
                lost.append(path)
        elif not _compatible(kinds, found):
            lost.append(f"{path}: {'|'.join(sorted(kinds))}")
    return sorted(lost)


def appeared_paths(
    before: Mapping[str, frozenset[str]], now: Mapping[str, frozenset[str]]
) -> list[str]:
    """The paths `now` has that `before` did not."""
    return sorted(set(now) - set(before))


def to_json(fp: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    """The fingerprint as stored: each path with its sorted kinds."""
    return {path: sorted(kinds) for path, kinds in sorted(fp.items())}


def from_json(stored: Mapping[str, list[str]]) -> Fingerprint:
    """A stored fingerprint back as it is compared."""
    return {path: frozenset(kinds) for path, kinds in stored.items()}


def _compatible(before: frozenset[str], now: frozenset[str]) -> bool:
    # null stands for "no value this time", not for a type
    if NULL in before or NULL in now or EMPTY in now:
        return True
    return bool(before & now)


def _emptied(path: str, now: Mapping[str, frozenset[str]]) -> bool:
    """Whether an ancestor of `path` is an empty container in `now`."""
    cut = len(path)
    while cut > 0:
        cut = max(path.rfind(".", 0, cut), path.rfind("[]", 0, cut), path.rfind("/", 0, cut))
        if cut <= 0:
            return False
        if EMPTY in now.get(path[:cut], frozenset()):
            return True
    return False


def _add(fp: Fingerprint, path: str, kind: str) -> None:
    fp[path] = fp.get(path, frozenset()) | {kind}


def _of_json(document: Any) -> Fingerprint:
    fp: Fingerprint = {}
    _walk(document, "$", fp)
    return fp


def _walk(value: Any, path: str, fp: Fingerprint) -> None:
    if isinstance(value, dict):
        if not value:
            _add(fp, path, EMPTY)
            return
        _add(fp, path, "object")
        if _data_keyed(value):
            for item in value.values():
                _walk(item, f"{path}.*", fp)
        else:
            for key, item in value.items():
                _walk(item, f"{path}.{key}", fp)
    elif isinstance(value, list):
        if not value:
            _add(fp, path, EMPTY)
            return
        _add(fp, path, "array")
        for item in value:
            _walk(item, f"{path}[]", fp)
    else:
        _add(fp, path, _scalar_kind(value))


def _scalar_kind(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _data_keyed(value: dict[str, Any]) -> bool:
    """Whether a dict's keys are names of things (pools, metrics) rather than field names."""
    items = list(value.values())
    if len(items) >= RECORD_KEYS and all(isinstance(i, dict) and i for i in items):
        shapes = {frozenset(i) for i in items}
        return len(shapes) == 1
    if len(items) >= DATA_KEYS:
        return len({_scalar_kind(i) if not isinstance(i, dict | list) else "x" for i in items}) == 1
    return False


def _of_xml(root: Element) -> Fingerprint:
    fp: Fingerprint = {}
    _walk_element(root, "/" + _tag(root), fp)
    return fp


def _walk_element(element: Element, path: str, fp: Fingerprint) -> None:
    children = list(element)
    _add(fp, path, "element" if children or element.attrib or _has_text(element) else EMPTY)
    for name in element.attrib:
        _add(fp, f"{path}/@{_tag_name(name)}", "attribute")
    for child in children:
        _walk_element(child, f"{path}/{_tag(child)}", fp)


def _has_text(element: Element) -> bool:
    return bool(element.text and element.text.strip())


def _tag(element: Element) -> str:
    return _tag_name(element.tag) if isinstance(element.tag, str) else "?"


def _tag_name(name: str) -> str:
    """A tag without its namespace URI: the URI can change with a version, the element not."""
    return name.rsplit("}", 1)[-1]

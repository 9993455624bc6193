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
import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

#: path -> the kinds of value found there, sorted and joined by "|" (stored as it is, as JSON)
Fingerprint = dict[str, str]
_Building = dict[str, set[str]]

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


def lost_paths(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
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
        elif found != kinds and not _compatible(kinds, found):
            lost.append(f"{path}: {kinds}")
    return sorted(lost)


def appeared_paths(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The paths `now` has that `before` did not."""
    return sorted(set(now) - set(before))


def _compatible(before: str, now: str) -> bool:
    old, new = set(before.split("|")), set(now.split("|"))
    # null stands for "no value this time", not for a type
    if NULL in old or NULL in new or EMPTY in new:
        return True
    return bool(old & new)


def _emptied(path: str, now: Mapping[str, str]) -> bool:
    """Whether an ancestor of `path` is an empty container in `now`."""
    cut = len(path)
    while cut > 0:
        cut = max(path.rfind(".", 0, cut), path.rfind("[]", 0, cut), path.rfind("/", 0, cut))
        if cut <= 0:
            return False
        if EMPTY in now.get(path[:cut], "").split("|"):
            return True
    return False


def _add(fp: _Building, path: str, kind: str) -> None:
    kinds = fp.get(path)
    if kinds is None:
        fp[path] = {kind}
    else:
        kinds.add(kind)


def _joined(fp: _Building) -> Fingerprint:
    return {path: "|".join(sorted(kinds)) for path, kinds in fp.items()}


def _of_json(document: Any) -> Fingerprint:
    fp: _Building = {}
    _walk([document], "$", fp)
    return _joined(fp)


def _walk(values: list[Any], path: str, fp: _Building) -> None:
    """Fingerprint every value found at `path` at once (a column, not one value at a time).

    The elements of an array, or the values of one key over many records, are gathered and
    walked together: a path string is built once per path rather than once per value, which
    keeps the fingerprint of a 40-job answer well under a millisecond.
    """
    types = set(map(type, values))
    if dict not in types and list not in types:  # a column of plain values: no Python loop
        _merge(fp, path, {_KINDS.get(t, "string") for t in types})
        return
    kinds: set[str] = set()
    dicts: list[dict[str, Any]] = []
    lists: list[list[Any]] = []
    for value in values:
        kind = type(value)
        if kind is dict:
            dicts.append(value) if value else kinds.add(EMPTY)
        elif kind is list:
            lists.append(value) if value else kinds.add(EMPTY)
        else:
            kinds.add(_KINDS.get(kind, "string"))
    if dicts:
        kinds.add("object")
        for key, column in _columns(dicts).items():
            _walk(column, f"{path}.{key}", fp)
    if lists:
        kinds.add("array")
        _walk([item for items in lists for item in items], f"{path}[]", fp)
    _merge(fp, path, kinds)


def _merge(fp: _Building, path: str, kinds: set[str]) -> None:
    known = fp.get(path)
    if known is None:
        fp[path] = kinds
    else:
        known |= kinds


def _columns(dicts: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The values of the dicts by key; a dict keyed by names gives all its values to `*`."""
    keys = dicts[0].keys()
    if all(d.keys() == keys for d in dicts) and not _data_keyed(dicts[0]):
        # records of one shape, the usual array element: transposed in C
        return dict(
            zip(keys, map(list, zip(*(d.values() for d in dicts), strict=True)), strict=True)
        )
    columns: dict[str, list[Any]] = {}
    for record in dicts:
        if _data_keyed(record):
            columns.setdefault("*", []).extend(record.values())
            continue
        for key, value in record.items():
            column = columns.get(key)
            if column is None:
                columns[key] = [value]
            else:
                column.append(value)
    return columns


_KINDS: dict[type, str] = {type(None): NULL, bool: "bool", int: "number", float: "number"}


def _data_keyed(value: dict[str, Any]) -> bool:
    """Whether a dict's keys are names of things (pools, metrics) rather than field names.

    Either records of one shape under their names (`{"pool1": {...}, "pool2": {...}}`), or many
    values of one kind under keys that look like names rather than fields (digits, dots,
    dashes: `{"node-01": 3, "node-02": 5, ...}`).
    """
    if len(value) < RECORD_KEYS:
        return False
    first = next(iter(value.values()))
    if type(first) is dict:
        if not first:
            return False
        shape = first.keys()
        return all(type(v) is dict and v.keys() == shape for v in value.values())
    if len(value) < DATA_KEYS or type(first) in (list, dict):
        return False
    kind = type(first)
    if any(type(v) is not kind for v in value.values()):
        return False
    named = sum(bool(_NAME_LIKE.search(k)) for k in value)
    return named * 2 >= len(value)


_NAME_LIKE = re.compile(r"[0-9.\-:/@ ]")


def _of_xml(root: Element) -> Fingerprint:
    fp: _Building = {}
    _walk_element(root, "/" + _tag(root), fp)
    return _joined(fp)


def _walk_element(element: Element, path: str, fp: _Building) -> None:
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

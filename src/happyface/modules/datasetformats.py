"""Reading a storage dump (text or JSON) and a DBS-style dataset catalogue for consistency checks.

Both readers are written for a million files: one pass, plain tuples, no object per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ExtractError
from ..sources import RawInput
from .common import load_json

# alternative spellings of the same field in the dumps and catalogues we read
_PATH_KEYS = ("path", "pfn", "name")
_LFN_KEYS = ("logical_file_name", "lfn", "name")
_SIZE_KEYS = ("file_size", "size", "bytes")
_CHECKSUM_KEYS = ("adler32", "checksum", "check_sum", "cksum")
_NO_CHECKSUM = ("", "-", "none", "null")

#: (size in bytes, normalised checksum or "")
Entry = tuple[int, str]


@dataclass
class Storage:
    """The files on storage: path -> (size, checksum) of the first replica seen, and replicas."""

    files: dict[str, Entry] = field(default_factory=dict)
    replicas: int = 0
    bytes: int = 0  # every replica counts: the space the files really take


@dataclass(frozen=True)
class Dataset:
    """One dataset of the catalogue: its name and its files as (LFN, size, checksum)."""

    name: str
    files: list[tuple[str, int, str]]


def normalise_checksum(value: Any) -> str:
    """Checksums compare case-blind, without a `type:` prefix or leading zeros ("" for none)."""
    text = str(value).strip().lower() if value is not None else ""
    if text in _NO_CHECKSUM:
        return ""
    return text.rpartition(":")[2].lstrip("0") or "0"


def read_storage(raw: RawInput) -> Storage:
    """A namespace or pool dump: lines `path size [checksum [pool]]`, or a JSON list of files."""
    if raw.content.lstrip()[:1] in (b"[", b"{"):
        return _storage_json(load_json(raw))
    if b"\x00" in raw.content[:4096]:
        raise ExtractError("the storage dump is binary data, not lines of `path size checksum`")
    storage = Storage()
    for number, line in enumerate(raw.content.decode("utf-8", "replace").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if not 2 <= len(fields) <= 4:
            raise ExtractError(
                f"storage dump line {number}: expected `path size [checksum [pool]]`, "
                f"found {len(fields)} fields"
            )
        try:
            size = int(fields[1])
        except ValueError:
            raise ExtractError(
                f"storage dump line {number}: size {fields[1][:30]!r} is not a whole number"
            ) from None
        _add(storage, fields[0], size, normalise_checksum(fields[2]) if len(fields) > 2 else "")
    return storage


def _add(storage: Storage, path: str, size: int, checksum: str) -> None:
    if size < 0:
        raise ExtractError(f"storage dump: {path[:80]!r} has a negative size")
    storage.replicas += 1
    storage.bytes += size
    storage.files.setdefault(path, (size, checksum))


def _storage_json(data: Any) -> Storage:
    items = data.get("files") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ExtractError('the storage dump JSON is neither a list nor {"files": [...]}')
    storage = Storage()
    for item in items:
        if isinstance(item, list) and 2 <= len(item) <= 4:
            path, size, checksum = item[0], item[1], item[2] if len(item) > 2 else ""
        elif isinstance(item, dict):
            path, size, checksum = (
                _pick(item, _PATH_KEYS),
                _pick(item, _SIZE_KEYS),
                _pick(item, _CHECKSUM_KEYS),
            )
        else:
            raise ExtractError(f"storage dump entry {str(item)[:60]!r} is not a file")
        _add(
            storage,
            _text(path, "storage dump path"),
            _size(size, path),
            normalise_checksum(checksum),
        )
    return storage


def read_catalogue(raw: RawInput) -> list[Dataset]:
    """A DBS-style catalogue: {"datasets": [{"dataset": name, "files": [{lfn, size, adler32}]}]}."""
    data = load_json(raw)
    items = data.get("datasets") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ExtractError('the catalogue is neither {"datasets": [...]} nor a list of datasets')
    datasets = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("files"), list):
            raise ExtractError('every catalogue dataset needs a name and "files": [...]')
        name = _text(item.get("dataset") or item.get("name"), "dataset name")
        datasets.append(Dataset(name, [_catalogue_file(f, name) for f in item["files"]]))
    if not datasets:
        raise ExtractError("the catalogue lists no dataset")
    return datasets


def _catalogue_file(item: Any, dataset: str) -> tuple[str, int, str]:
    if not isinstance(item, dict):
        raise ExtractError(f"dataset {dataset!r}: file entry {str(item)[:60]!r} is not an object")
    lfn = _text(_pick(item, _LFN_KEYS), f"dataset {dataset!r}: logical file name")
    return lfn, _size(_pick(item, _SIZE_KEYS), lfn), normalise_checksum(_pick(item, _CHECKSUM_KEYS))


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ExtractError(f"{what} is missing or not text: {str(value)[:60]!r}")
    return value


def _size(value: Any, path: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ExtractError(f"{str(path)[:80]!r}: size {str(value)[:30]!r} is not a whole number")
    try:
        size = int(value)
    except ValueError:
        raise ExtractError(
            f"{str(path)[:80]!r}: size {str(value)[:30]!r} is not a whole number"
        ) from None
    if size < 0:
        raise ExtractError(f"{str(path)[:80]!r} has a negative size")
    return size

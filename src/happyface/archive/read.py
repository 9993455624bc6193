"""Reading published run files: a module's file list and bodies, by name, from the run's zip."""

from __future__ import annotations

import json
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .names import META, ArchiveError

# module ids never start with '.', so the index cannot collide with a module's entries
INDEX = ".index.json"
# the web lists the archived files of every failed module on a page: the same few runs, again
# and again; their indexes are kept parsed while the file is unchanged
_CACHED_RUNS = 16


def read_index(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The index of a run file: every module's input descriptions and files."""
    try:
        index = json.loads(archive.read(INDEX))
    except KeyError:
        raise ArchiveError(f"{archive.filename}: no index; the run file is damaged") from None
    if not isinstance(index, dict) or not isinstance(index.get("modules"), dict):
        raise ArchiveError(f"{archive.filename}: the index is not a run index")
    return index


class RunFiles:
    """Lists and opens modules' files in published run files; safe across threads."""

    def __init__(self) -> None:
        self._indexes: OrderedDict[tuple[Path, int, int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def list(self, run: Path, module_id: str, relpath: str) -> list[str]:
        """meta.json and the body files of `module_id` in the run file `run`, sorted."""
        return sorted([META, *self._module(run, module_id, relpath)["files"]])

    def open(self, run: Path, module_id: str, relpath: str, name: str) -> bytes:
        """The content of file `name` of `module_id`: meta.json is rebuilt from the index."""
        module = self._module(run, module_id, relpath)
        if name == META:
            return _meta_json(self._index(run), module_id, module)
        entry = module["files"].get(name)
        if entry is None:
            raise ArchiveError(f"no file {name!r} in the archived inputs {relpath!r}")
        try:
            with zipfile.ZipFile(run) as archive:
                return archive.read(entry)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"archived file {relpath}/{name} is unreadable: {exc}") from exc

    def _module(self, run: Path, module_id: str, relpath: str) -> dict[str, Any]:
        module = self._index(run)["modules"].get(module_id)
        if not isinstance(module, dict):
            raise ArchiveError(f"no archived inputs at {relpath!r}")
        return module

    def _index(self, run: Path) -> dict[str, Any]:
        try:
            stat = run.stat()
            key = (run, stat.st_ino, stat.st_mtime_ns, stat.st_size)
            with self._lock:
                cached = self._indexes.get(key)
                if cached is not None:
                    self._indexes.move_to_end(key)
                    return cached
            with zipfile.ZipFile(run) as archive:
                index = read_index(archive)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"run file {run.name} is unreadable: {exc}") from exc
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > _CACHED_RUNS:
                self._indexes.popitem(last=False)
        return index


def _meta_json(index: dict[str, Any], module_id: str, module: dict[str, Any]) -> bytes:
    """The meta.json of one module, as the folder layout wrote it."""
    started = index.get("run_started")
    meta = {"module": module_id, "run_started": started, "inputs": module["inputs"]}
    return (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode()

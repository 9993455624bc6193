"""Writing one run's archive: a hidden zip that modules append to, renamed into place whole."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..errors import FetchError, HappyFaceError
from ..sources import RawInput
from .names import META, ArchiveError, body_name, check_name, describe, run_time
from .read import INDEX, read_index

log = logging.getLogger("happyface.archive")

PART_SUFFIX = ".part"
INDEX_FORMAT = 1
# already compressed: deflating them again costs time and gains nothing
_STORED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class RunWriter:
    """The archive of one run while it is written; `publish` makes it visible, whole.

    Modules finish at different times and append from worker threads, so every change holds
    one lock. Until `publish` the zip has a hidden name beside its final place and is locked
    with flock: cleaning tells a crashed writer's leftover (unlocked) from a live one's.
    Nothing is created on disk until the first module is added.
    """

    def __init__(self, final: Path, key: str, run_started: datetime) -> None:
        self.final = final
        self.key = key
        self.run_started = run_started
        self.temp: Path | None = None
        started = run_time(PurePosixPath(key))
        if started is None:
            raise ArchiveError(f"{key!r} is not a run of the form YYYY/MM/DD/HHMMSS")
        self._stamp = started.timetuple()[:6]
        self._lock = threading.Lock()
        self._closed = False
        self._file: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._modules: dict[str, dict[str, Any]] = {}
        self._by_digest: dict[bytes, str] = {}  # a body shared by modules is kept once
        self._names: set[str] = set()  # of the entries written

    def add(self, module_id: str, inputs: Mapping[str, RawInput | FetchError]) -> str:
        """Append one module's inputs; returns its archive path `YYYY/MM/DD/HHMMSS/<module>`."""
        path = self.path_of(module_id)
        with self._lock:
            if self._closed:
                raise ArchiveError(f"the archive of run {self.key} is already closed")
            self._open_zip()  # a module whose every fetch failed still has its meta.json
            self._modules[module_id] = self._write_module(module_id, inputs)
        return path

    def add_all(self, batch: Iterable[tuple[str, Mapping[str, RawInput | FetchError]]]) -> set[str]:
        """Append several modules' inputs; the ids of those that could not be written."""
        failed = set()
        for module_id, inputs in batch:
            try:
                self.add(module_id, inputs)
            except (OSError, HappyFaceError) as exc:  # a full disk costs the links, not the run
                log.warning("module %s: raw inputs not archived: %s", module_id, exc)
                failed.add(module_id)
        return failed

    def path_of(self, module_id: str) -> str:
        """The archive path of a module's inputs in this run (ArchiveError for a bad id)."""
        check_name(module_id, "module id")
        return f"{self.key}/{module_id}"

    def publish(self) -> None:
        """Write the index and rename the zip into place; modules of an earlier file stay."""
        with self._lock:
            if self._closed:
                raise ArchiveError(f"the archive of run {self.key} is already closed")
            self._closed = True
            if self._zip is None:
                return  # nothing was archived: no file at all
            try:
                self._keep_earlier_modules()
                self._seal()
                os.replace(self._temp_path(), self.final)
            finally:
                self._drop()

    def discard(self) -> None:
        """Forget the run's archive: its hidden file goes, nothing becomes visible."""
        with self._lock:
            self._closed = True
            self._drop()

    def _write_module(
        self, module_id: str, inputs: Mapping[str, RawInput | FetchError]
    ) -> dict[str, Any]:
        used = {META}
        described: dict[str, Any] = {}
        files: dict[str, str] = {}
        for name, item in inputs.items():
            if isinstance(item, FetchError):
                described[name] = {"error": str(item)}
                continue
            file_name = body_name(name, item.content_type, used)
            files[file_name] = self._body_entry(f"{module_id}/{file_name}", item)
            described[name] = describe(item, file_name)
        return {"inputs": described, "files": files}

    def _body_entry(self, wanted: str, item: RawInput) -> str:
        """The entry holding `item`'s body, written now unless an equal body already is."""
        digest = hashlib.sha256(item.content).digest()
        known = self._by_digest.get(digest)
        if known is None:
            media = item.content_type.split(";")[0].strip().lower()
            known = self._write_entry(wanted, item.content, media in _STORED_TYPES)
            self._by_digest[digest] = known
        return known

    def _write_entry(self, wanted: str, body: bytes, stored: bool = False) -> str:
        archive = self._open_zip()
        name, counter = wanted, 1
        while name in self._names:  # a module added again, or copied from an earlier file
            counter += 1
            name = f"{wanted}~{counter}"
        self._names.add(name)
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        archive.writestr(info, body)
        return name

    def _open_zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            # beside the final place, so the rename stays on one file system
            fd, name = tempfile.mkstemp(
                prefix=f".{self.final.stem}.", suffix=PART_SUFFIX, dir=self.final.parent
            )
            self.temp = Path(name)
            self._file = os.fdopen(fd, "w+b")
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until published or discarded
            self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED)
        return self._zip

    def _keep_earlier_modules(self) -> None:
        """A run archived again (the same start time) keeps the modules not written now."""
        if not self.final.is_file():
            return
        try:
            with zipfile.ZipFile(self.final) as earlier:
                index = read_index(earlier)
                copied: dict[str, str] = {}
                for module_id, entry in index["modules"].items():
                    if module_id not in self._modules:
                        self._modules[module_id] = self._copy_module(earlier, entry, copied)
        except (OSError, zipfile.BadZipFile, ArchiveError) as exc:
            log.warning("the earlier archive %s is unreadable and replaced: %s", self.final, exc)

    def _copy_module(
        self, earlier: zipfile.ZipFile, entry: dict[str, Any], copied: dict[str, str]
    ) -> dict[str, Any]:
        files = {}
        for file_name, old_name in entry["files"].items():
            if old_name not in copied:
                copied[old_name] = self._write_entry(old_name, earlier.read(old_name))
            files[file_name] = copied[old_name]
        return {"inputs": entry["inputs"], "files": files}

    def _seal(self) -> None:
        """Write the index last, then the zip's directory, and flush it to the disk."""
        index = {
            "format": INDEX_FORMAT,
            "run_started": self.run_started.isoformat(),
            "modules": self._modules,
        }
        self._write_entry(INDEX, json.dumps(index, separators=(",", ":")).encode())
        assert self._zip is not None and self._file is not None
        self._zip.close()
        self._file.flush()
        os.fsync(self._file.fileno())  # a visible run file is a complete one, even after a crash

    def _drop(self) -> None:
        """Close the hidden file (freeing its lock) and remove it if it is still there."""
        if self._zip is not None:
            with contextlib.suppress(OSError, ValueError):  # the file goes anyway
                self._zip.close()
            self._zip = None
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)

    def _temp_path(self) -> Path:
        assert self.temp is not None
        return self.temp

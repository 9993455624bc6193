"""The archive of raw inputs: one folder per run and module, written atomically, read safely."""

from __future__ import annotations

import builtins
import json
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import FetchError, HappyFaceError
from ..sources import RawInput

META = "meta.json"
_RUN_FORMAT = "%Y/%m/%d/%H%M%S"
_RUN_GLOB = "[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/" + "[0-9]" * 6
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_SAFE_NAME = re.compile(_NAME)
_RELPATH = re.compile(r"\d{4}/\d{2}/\d{2}/\d{6}/" + _NAME)
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


class ArchiveError(HappyFaceError):
    """Raised when an archived path is malformed, leads outside the archive, or does not exist."""


class Archive:
    """Raw inputs kept under `root/YYYY/MM/DD/HHMMSS/<module_id>/`, with a meta.json each.

    Run times are written in UTC when they carry a time zone.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def store(
        self, run_started: datetime, module_id: str, inputs: Mapping[str, RawInput | FetchError]
    ) -> str:
        """Write the bodies and meta.json of one module's inputs; returns the path below root.

        The folder appears whole or not at all: it is written under a hidden name, then renamed.
        """
        _check_name(module_id, "module id")
        relpath = f"{_utc_naive(run_started).strftime(_RUN_FORMAT)}/{module_id}"
        final = self.root / relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        # the staging folder lies beside the final one, so the rename stays on one file system
        staging = Path(tempfile.mkdtemp(prefix=f".{module_id}.", dir=final.parent))
        try:
            _write_inputs(staging, run_started, module_id, inputs)
            _move_into_place(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return relpath

    def list(self, relpath: str) -> builtins.list[str]:
        """The names of the files archived at `relpath` (as returned by `store`), sorted."""
        folder = self._folder(relpath)
        return sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.is_file() and not entry.is_symlink() and _SAFE_NAME.fullmatch(entry.name)
        )

    def open(self, relpath: str, name: str) -> bytes:
        """The content of file `name` archived at `relpath`; ArchiveError if refused or missing."""
        folder = self._folder(relpath)
        _check_name(name, "file name")
        path = (folder / name).resolve()
        if path.parent != folder:
            raise ArchiveError(f"archived file {name!r} leads outside its folder; refused")
        if not path.is_file():
            raise ArchiveError(f"no file {name!r} in the archived inputs {relpath!r}")
        return path.read_bytes()

    def cleanup(self, older_than: datetime) -> int:
        """Remove whole run folders started before `older_than`; returns how many went."""
        cutoff = _utc_naive(older_than)
        root = self.root.resolve()  # _runs() gives resolved paths; self.root may be a symlink
        removed = 0
        for run in self._runs():
            started = _run_time(run.relative_to(root))
            if started is not None and started < cutoff:
                shutil.rmtree(run)
                removed += 1
                self._prune_parents(run)
        return removed

    def _folder(self, relpath: str) -> Path:
        """The real folder of `relpath`, refusing anything that is not a run/module path inside."""
        if not isinstance(relpath, str) or not _RELPATH.fullmatch(relpath):
            raise ArchiveError(
                f"{relpath!r} is not an archive path of the form YYYY/MM/DD/HHMMSS/<module>"
            )
        root = self.root.resolve()
        folder = (root / relpath).resolve()
        if not folder.is_relative_to(root):
            raise ArchiveError(f"archive path {relpath!r} leads outside the archive; refused")
        if not folder.is_dir():
            raise ArchiveError(f"no archived inputs at {relpath!r}")
        return folder

    def _runs(self) -> builtins.list[Path]:
        root = self.root.resolve()
        if not root.is_dir():
            return []
        # a symlinked run folder is skipped: cleanup must never delete outside the archive
        return [
            run
            for run in root.glob(_RUN_GLOB)
            if run.is_dir() and not run.is_symlink() and run.resolve().is_relative_to(root)
        ]

    def _prune_parents(self, run: Path) -> None:
        """Remove the day, month and year folders the removal left empty."""
        for parent in run.parents[:3]:
            try:
                parent.rmdir()
            except OSError:  # not empty: a newer run still lives there
                return


def _write_inputs(
    folder: Path, run_started: datetime, module_id: str, inputs: Mapping[str, RawInput | FetchError]
) -> None:
    used = {META}
    entries: dict[str, dict[str, Any]] = {}
    for name, item in inputs.items():
        if isinstance(item, FetchError):
            entries[name] = {"error": str(item)}
            continue
        file_name = _body_name(name, item.content_type, used)
        (folder / file_name).write_bytes(item.content)
        entries[name] = _describe(item) | {"file": file_name}
    meta = {"module": module_id, "run_started": run_started.isoformat(), "inputs": entries}
    (folder / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def _describe(item: RawInput) -> dict[str, Any]:
    return {
        "url": item.url,
        "status_code": item.status_code,
        "content_type": item.content_type,
        "fetched_at": item.fetched_at.isoformat(),
        "size": len(item.content),
        "elapsed": round(item.elapsed, 3),
        "error": None,
    }


def _body_name(name: str, content_type: str, used: set[str]) -> str:
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


def _move_into_place(staging: Path, final: Path) -> None:
    """Rename `staging` to `final`; an earlier folder of the same run and module is replaced."""
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.replace(final, old / final.name)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ArchiveError(
            f"{what} {name!r} is not allowed in the archive: use letters, digits, '_', '.', '-' "
            "and do not start with '.' or '-'"
        )


def _run_time(relative: Path) -> datetime | None:
    try:
        return datetime.strptime("/".join(relative.parts), _RUN_FORMAT)
    except ValueError:
        return None


def _utc_naive(moment: datetime) -> datetime:
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

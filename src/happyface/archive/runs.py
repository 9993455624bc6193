"""The archive of raw inputs: one zip per run, a module's files named `<module>/<file>` in it.

A module's inputs are addressed as `YYYY/MM/DD/HHMMSS/<module>` (the path stored with its
result); the run's file is `root/YYYY/MM/DD/HHMMSS.zip`. Run times are written in UTC when
they carry a time zone. Archives of the older folder layout (`root/YYYY/MM/DD/HHMMSS/<module>/`)
are still read and cleaned.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path, PurePosixPath

from ..errors import FetchError
from ..sources import RawInput
from .clean import remove_runs, remove_unfinished
from .folders import folder_of, list_folder, open_in_folder
from .names import (
    META,
    RUN_SUFFIX,
    ArchiveError,
    check_name,
    run_key,
    split_relpath,
    utc_naive,
)
from .read import RunFiles
from .write import RunWriter

__all__ = ["META", "Archive", "ArchiveError", "RunWriter"]


class Archive:
    """Raw inputs kept per run in `root`: written by run writers, read by the web."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._files = RunFiles()

    def writer(self, run_started: datetime) -> RunWriter:
        """A writer for the run started at `run_started`; nothing is visible until it publishes.

        Leftovers of a writer of the same day that crashed are removed first.
        """
        key = run_key(run_started)
        remove_unfinished(self.root, days=str(PurePosixPath(key).parent))
        return RunWriter(self.root / f"{key}{RUN_SUFFIX}", key, run_started)

    def store(
        self, run_started: datetime, module_id: str, inputs: Mapping[str, RawInput | FetchError]
    ) -> str:
        """Archive one module's inputs and publish them at once; returns the module's path.

        The other modules already archived for that run stay. For a whole run, use `writer`.
        """
        writer = self.writer(run_started)
        try:
            relpath = writer.add(module_id, inputs)
            writer.publish()
        finally:
            writer.discard()  # nothing left behind when publishing failed
        return relpath

    def list(self, relpath: str) -> builtins.list[str]:
        """The names of the files archived at `relpath` (as returned by `store`), sorted."""
        key, module_id = split_relpath(relpath)
        run = self._run_file(key)
        if run is not None:
            return self._files.list(run, module_id, relpath)
        return list_folder(folder_of(self.root, relpath))

    def open(self, relpath: str, name: str) -> bytes:
        """The content of file `name` archived at `relpath`; ArchiveError if refused or missing."""
        key, module_id = split_relpath(relpath)
        check_name(name, "file name")
        run = self._run_file(key)
        if run is not None:
            return self._files.open(run, module_id, relpath, name)
        return open_in_folder(folder_of(self.root, relpath), relpath, name)

    def cleanup(self, older_than: datetime) -> int:
        """Remove whole runs started before `older_than`; returns how many went."""
        return remove_runs(self.root, utc_naive(older_than))

    def remove_unfinished(self) -> int:
        """Remove what writers that crashed left behind (never a live writer's file)."""
        return remove_unfinished(self.root)

    def _run_file(self, key: str) -> Path | None:
        """The published file of run `key`, None if there is none; refused outside the root."""
        root = self.root.resolve()
        path = root / f"{key}{RUN_SUFFIX}"
        if not path.exists():
            return None
        real = path.resolve()
        if not real.is_relative_to(root) or not real.is_file():
            raise ArchiveError(f"archived run {key!r} leads outside the archive; refused")
        return real

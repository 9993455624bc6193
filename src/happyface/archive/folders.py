"""Reading the folder layout of archives written before run files: a folder per run and module.

Sites that upgrade keep those folders until retention removes them; they stay readable.
"""

from __future__ import annotations

from pathlib import Path

from .names import SAFE_NAME, ArchiveError, check_name


def folder_of(root: Path, relpath: str) -> Path:
    """The real folder of a checked `relpath`, refusing one that leads outside `root`."""
    root = root.resolve()
    folder = (root / relpath).resolve()
    if not folder.is_relative_to(root):
        raise ArchiveError(f"archive path {relpath!r} leads outside the archive; refused")
    if not folder.is_dir():
        raise ArchiveError(f"no archived inputs at {relpath!r}")
    return folder


def list_folder(folder: Path) -> list[str]:
    """The names of the plain files in `folder`, sorted; symlinks and odd names left out."""
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and not entry.is_symlink() and SAFE_NAME.fullmatch(entry.name)
    )


def open_in_folder(folder: Path, relpath: str, name: str) -> bytes:
    """The content of file `name` in `folder`; ArchiveError if refused or missing."""
    check_name(name, "file name")
    path = (folder / name).resolve()
    if path.parent != folder:
        raise ArchiveError(f"archived file {name!r} leads outside its folder; refused")
    if not path.is_file():
        raise ArchiveError(f"no file {name!r} in the archived inputs {relpath!r}")
    return path.read_bytes()

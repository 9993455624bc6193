"""Files pushed to HappyFace for data it cannot fetch: their names, and where they live.

A module reads an upload through the source URL `upload:NAME`; the web app's upload endpoint
writes it. Both resolve the name here, so neither can be talked into leaving the upload folder.
"""

from __future__ import annotations

import re
from pathlib import Path

SCHEME = "upload:"
# a plain file name: no separators, no leading dot (no hidden or temporary files, no "..")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str) -> str:
    """`name` if it is a valid upload name, else ValueError saying what a name may hold."""
    if not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"{name!r} is not a valid upload name: a letter or digit, then letters, digits, "
            "'.', '_' or '-' (at most 128, no '..')"
        )
    return name


def upload_name(url: str) -> str | None:
    """The upload name of an `upload:NAME` source URL; None for any other URL."""
    return url[len(SCHEME) :] if url.startswith(SCHEME) else None


def upload_path(folder: Path, name: str) -> Path:
    """The file of upload `name` inside `folder`; ValueError for a name that could leave it."""
    path = folder / check_name(name)
    if path.resolve().parent != folder.resolve():
        raise ValueError(f"upload {name!r} resolves outside the upload folder")
    return path

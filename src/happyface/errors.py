"""The one small tree of errors HappyFace raises; the CLI shows their messages, not tracebacks."""

from __future__ import annotations


class HappyFaceError(Exception):
    """Raised for any failure HappyFace explains to its user; the root of the tree."""


class ConfigError(HappyFaceError):
    """Raised when the site configuration cannot be read or is invalid; lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the configuration has {len(problems)} problem(s):\n{lines}")


class PluginError(HappyFaceError):
    """Raised when a module type cannot be found, loaded, or is registered twice."""


class FetchError(HappyFaceError):
    """Raised when a source cannot be fetched: down, too slow, too big, or an HTTP error."""


class ExtractError(HappyFaceError):
    """Raised by a module when its inputs cannot be understood (garbage, truncated, empty)."""


class FormatError(ExtractError):
    """Raised when an input parses but is not the format the module reads; says both."""

    def __init__(self, expected: str, found: str, hint: str = "") -> None:
        self.expected = expected
        self.found = found
        self.hint = hint
        message = f"expected {expected}, found {found}"
        super().__init__(f"{message}; {hint}" if hint else message)


class StorageError(HappyFaceError):
    """Raised when the database cannot be reached or written."""


class RunLockedError(HappyFaceError):
    """Raised when another process, here or on another host, holds this site's run lock."""


class RunFailedError(HappyFaceError):
    """Raised when a run began but could not be completed; it is recorded as failed."""

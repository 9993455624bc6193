"""HappyFace: meta-monitoring for computing sites.

The public names are loaded on first use (PEP 562), so a command that needs none of them
(`happyface --help`) does not pay for pydantic and the rest at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import (
        ConfigError,
        ExtractError,
        FetchError,
        FormatError,
        HappyFaceError,
        PluginError,
        RunLockedError,
        StorageError,
    )
    from .module import Module, ModuleSettings
    from .result import Link, Result, Table
    from .rules import Rule
    from .sources import Inputs, RawInput, SecretRef, Source
    from .status import Algorithm, Kind, Status

#: public name -> the module of this package that defines it
_HOMES = {
    "Algorithm": "status",
    "ConfigError": "errors",
    "ExtractError": "errors",
    "FetchError": "errors",
    "FormatError": "errors",
    "HappyFaceError": "errors",
    "Inputs": "sources",
    "Kind": "status",
    "Link": "result",
    "Module": "module",
    "ModuleSettings": "module",
    "PluginError": "errors",
    "RawInput": "sources",
    "Result": "result",
    "Rule": "rules",
    "RunLockedError": "errors",
    "SecretRef": "sources",
    "Source": "sources",
    "Status": "status",
    "StorageError": "errors",
    "Table": "result",
}

__all__ = [
    "Algorithm", "ConfigError", "ExtractError", "FetchError", "FormatError", "HappyFaceError",
    "Inputs", "Kind", "Link", "Module", "ModuleSettings", "PluginError", "RawInput", "Result",
    "Rule", "RunLockedError", "SecretRef", "Source", "Status", "StorageError", "Table",
]  # fmt: skip

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

"""HappyFace: meta-monitoring for computing sites."""

from .errors import (
    ConfigError,
    ExtractError,
    FetchError,
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

__all__ = [
    "Algorithm",
    "ConfigError",
    "ExtractError",
    "FetchError",
    "HappyFaceError",
    "Inputs",
    "Kind",
    "Link",
    "Module",
    "ModuleSettings",
    "PluginError",
    "RawInput",
    "Result",
    "Rule",
    "RunLockedError",
    "SecretRef",
    "Source",
    "Status",
    "StorageError",
    "Table",
]

"""Discovery of module types through the entry-point group `happyface.modules`.

The built-in types register through the same group as third-party ones, so the core only ever
knows module types through this contract. Types load lazily: a broken plugin only fails when used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from pathlib import Path

from .display import TEMPLATE_FOLDER, template_package
from .errors import PluginError
from .module import Module
from .suggest import did_you_mean

GROUP = "happyface.modules"

log = logging.getLogger(__name__)


class Registry:
    """The module types available to a site, by type name."""

    def __init__(self, points: Iterable[EntryPoint] | None = None) -> None:
        self._points: dict[str, EntryPoint] = {}
        self._loaded: dict[str, type[Module]] = {}
        for point in entry_points(group=GROUP) if points is None else points:
            self._add_point(point)

    def _add_point(self, point: EntryPoint) -> None:
        known = self._points.get(point.name)
        if known is not None and known.value != point.value:
            raise PluginError(
                f"module type {point.name!r} is registered twice: by {known.value} and by "
                f"{point.value}; uninstall one of them"
            )
        self._points[point.name] = point

    def register(self, name: str, cls: type[Module]) -> None:
        """Add a type directly (tests, embedded use); refuses a name already taken."""
        if name in self._points or name in self._loaded:
            raise PluginError(f"module type {name!r} is already registered")
        self._loaded[name] = cls

    def names(self) -> list[str]:
        return sorted(set(self._points) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._points or name in self._loaded

    def get(self, name: str) -> type[Module]:
        """The module type class; a PluginError names the known types when it is missing."""
        if name in self._loaded:
            return self._loaded[name]
        point = self._points.get(name)
        if point is None:
            known = ", ".join(self.names()) or "none"
            hint = did_you_mean(name, self.names())
            raise PluginError(f"unknown module type {name!r}{hint}; installed types: {known}")
        try:
            cls = point.load()
        except Exception as exc:
            raise PluginError(f"module type {name!r} ({point.value}) fails to load: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise PluginError(f"module type {name!r} ({point.value}) is not a Module subclass")
        self._loaded[name] = cls
        return cls


def template_folders(types: Iterable[type[Module]] = ()) -> dict[str, list[Path]]:
    """Package -> its `templates/` folders, for the package of every installed type and `types`.

    Found from the entry points without loading the types (a package's parents are imported to
    locate it), so the dashboard's template loader knows every type's templates up front.
    """
    packages = {_point_package(p) for p in entry_points(group=GROUP)}
    packages |= {template_package(t.__module__) for t in types}
    found = {}
    for package in sorted(packages - {""}):
        if folders := _folders(package):
            found[package] = folders
    return found


def _point_package(point: EntryPoint) -> str:
    """The package of an entry point's module: itself when it is a package, else its parent."""
    try:
        spec = find_spec(point.module)
    except Exception:  # a broken plugin fails when its type is used, with a named error
        log.warning("module type %s cannot be located", point.value, exc_info=True)
        return ""
    if spec is not None and spec.submodule_search_locations is not None:
        return point.module
    return point.module.rpartition(".")[0]


def _folders(package: str) -> list[Path]:
    try:
        spec = find_spec(package)
    except Exception:
        log.warning("package %s cannot be located", package, exc_info=True)
        return []
    locations = spec.submodule_search_locations if spec is not None else None
    candidates = [Path(location) / TEMPLATE_FOLDER for location in locations or ()]
    return [folder for folder in candidates if folder.is_dir()]

"""A loaded site: its settings, categories and ready-to-run module instances."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..module import Module
from ..rules import Rule
from .access import AccessConfig
from .alarms import AlarmConfig
from .model import CategoryConfig, ModuleConfig, UploadConfig
from .settings import SiteSettings


@dataclass(frozen=True)
class ModuleInstance:
    """One configured module: its declaration, the module object and the rules that rate it."""

    config: ModuleConfig
    module: Module[Any]
    rules: tuple[Rule, ...]

    @property
    def id(self) -> str:
        return self.config.id


@dataclass(frozen=True)
class Site:
    """Everything a run and the web need to know about one site."""

    settings: SiteSettings
    root: Path
    categories: tuple[CategoryConfig, ...]
    modules: tuple[ModuleInstance, ...]
    alarms: AlarmConfig = field(default_factory=AlarmConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    uploads: tuple[UploadConfig, ...] = ()

    def resolve(self, path: Path) -> Path:
        """A path from the config, relative to the folder of the config file."""
        return path if path.is_absolute() else self.root / path

    @property
    def database_url(self) -> str:
        """The database URL, with a relative SQLite path made relative to the config file."""
        url = self.settings.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.root / url.removeprefix(prefix))
        return url

    def category(self, category_id: str) -> CategoryConfig | None:
        return self._categories_by_id.get(category_id)

    def module(self, module_id: str) -> ModuleInstance | None:
        return self._modules_by_id.get(module_id)

    def upload(self, name: str) -> UploadConfig | None:
        return next((u for u in self.uploads if u.name == name), None)

    def modules_of(self, category_id: str) -> list[ModuleInstance]:
        """The modules of a category, in their configured order."""
        return list(self._members.get(category_id, ()))

    # Every page looks modules up by id, many times: a scan of a site of 1,000 modules for each
    # made page cost grow with the site. The fields never change, so each index is built once;
    # built from the end, so that (as with a scan) the first of equal ids is found.
    @cached_property
    def _modules_by_id(self) -> dict[str, ModuleInstance]:
        return {m.id: m for m in reversed(self.modules)}

    @cached_property
    def _categories_by_id(self) -> dict[str, CategoryConfig]:
        return {c.id: c for c in reversed(self.categories)}

    @cached_property
    def _members(self) -> dict[str, tuple[ModuleInstance, ...]]:
        """Each category's modules in configured order (a stable sort keeps ties as listed)."""
        members: dict[str, list[ModuleInstance]] = {}
        for instance in sorted(self.modules, key=lambda m: m.config.order):
            members.setdefault(instance.config.category, []).append(instance)
        return {category: tuple(found) for category, found in members.items()}

    @cached_property
    def snapshot(self) -> dict[str, Any]:
        """The JSON-able description of the site stored with every run (once per version)."""
        return {
            "title": self.settings.title,
            "categories": [c.model_dump(mode="json") for c in self.categories],
            "modules": [_module_snapshot(m) for m in self.modules],
        }

    @cached_property
    def version(self) -> str:
        """A short hash of the snapshot: equal for equal configurations."""
        data = json.dumps(self.snapshot, sort_keys=True).encode()
        return hashlib.sha256(data).hexdigest()[:16]


def _module_snapshot(instance: ModuleInstance) -> dict[str, Any]:
    config = instance.config
    return {
        "id": config.id,
        "type": config.type,
        "category": config.category,
        "title": config.title,
        "description": config.description,
        "instruction": config.instruction,
        "kind": config.kind.value,
        "weight": config.weight,
        "access": config.access,
        "allow": list(config.allow),
        "order": config.order,
        # only where the data comes from: credentials stay out of the stored history
        "sources": {name: s.url for name, s in instance.module.sources().items()},
        "rules": [r.model_dump(mode="json") for r in instance.rules],
    }

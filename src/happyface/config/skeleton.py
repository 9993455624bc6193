"""Commented TOML skeletons: a module instance of a given type, and a whole new site."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from ..module import Module


def module_skeleton(type_name: str, module_type: type[Module[Any]]) -> str:
    """A `[[module]]` block for `type_name` with every setting, its default and its help."""
    summary = module_type.describe()["summary"]
    lines = [
        f"# {summary}" if summary else f"# a module of type {type_name}",
        "[[module]]",
        f'id = "my_{type_name}"',
        f'type = "{type_name}"',
        'category = "CATEGORY_ID"',
        f'title = "{type_name.replace("_", " ").capitalize()}"',
        'description = ""',
        'instruction = "What the shift crew should do when this module is not happy."',
        'kind = "rated"            # rated | unrated | plots',
    ]
    lines += _source_lines(module_type.source_names)
    lines += ["", "[module.settings]", *_settings_lines(module_type.Settings)]
    for rule in module_type.default_rules:
        lines += [
            "",
            "# a default rule; a [[module.rules]] on the same metric replaces it",
            "# [[module.rules]]",
        ]
        lines += [f"# {k} = {_toml(v)}" for k, v in rule.model_dump(exclude_defaults=True).items()]
    return "\n".join(lines) + "\n"


def _source_lines(names: tuple[str, ...]) -> list[str]:
    if names == ("main",):
        return ['source = "https://example.org/data"   # or a local path or file:// URL']
    return [f'sources.{n} = "https://example.org/{n}"' for n in names]


def _settings_lines(model: type[BaseModel]) -> list[str]:
    lines = []
    for name, field in model.model_fields.items():
        help_text = field.description or ""
        if field.default is PydanticUndefined and field.default_factory is None:
            lines += [f"# {help_text} (required)", f"{name} = "]
            continue
        default = field.get_default(call_default_factory=True)
        lines += [f"# {help_text}", f"# {name} = {_toml(default)}"]
    return lines


def _toml(value: Any) -> str:
    """A default value as TOML shows it (good enough for the plain types settings use)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if value is None:
        return '""  # none'
    return json.dumps(str(value))


NEW_SITE = """\
# HappyFace site configuration. `happyface check` validates it; the configuration reference
# is in docs/configuration.md.

[site]
title = "{title}"
interval = "15m"                       # time between two runs
database = "sqlite:///happyface.db"    # relative to this file; or postgresql+psycopg://...
stale_after = "45m"                    # pages warn when the newest run is older

[site.archive]
enabled = true
dir = "archive"
keep_days = 30

[site.retention]
results_days = 730

[site.web]
host = "127.0.0.1"
port = 8080

[[category]]
id = "host"
title = "HappyFace host"
description = "The machine this HappyFace instance runs on."
algorithm = "worst"

[[module]]
id = "host_health"
type = "host_health"
category = "host"
title = "Disk and load"
description = "Free space of the file system HappyFace writes to, and the load of the host."
instruction = "If the disk is nearly full, tell the HappyFace admin; old archives can go."

[module.settings]
paths = ["."]

# More modules: `happyface modules` lists the types, `happyface module-config TYPE` prints
# a skeleton to paste here or into a file in conf.d/.
"""

"""docs/modules.md documents every built-in type, and its config examples are valid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from happyface import Rule
from happyface.plugins import Registry

DOC = Path(__file__).resolve().parent.parent / "docs" / "modules.md"
TYPES = [
    "host_health",
    "jobs",
    "dcache_pools",
    "dcache_movers",
    "dcache_transfers",
    "rss",
    "json_value",
    "xml_value",
    "dataset_consistency",
    "plot",
    "html_table",
    "http_check",
    "nagios",
    "prometheus",
    "happyface",
]


def _examples() -> list[dict]:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    return [m for block in blocks for m in tomllib.loads(block)["module"]]


@pytest.mark.parametrize("name", TYPES)
def test_every_type_and_setting_is_documented(name):
    text = DOC.read_text()
    assert f"## `{name}`" in text
    for setting in Registry().get(name).Settings.model_fields:
        assert f"| `{setting}` |" in text, (name, setting)


def test_every_example_is_valid():
    examples = _examples()
    assert {m["type"] for m in examples} == set(TYPES)
    for module in examples:
        Registry().get(module["type"]).Settings(**module.get("settings", {}))
        for rule in module.get("rules", []):
            Rule(**rule)

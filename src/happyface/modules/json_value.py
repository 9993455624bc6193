"""The `json_value` module type: numbers picked out of a JSON document with JSONPath."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from jsonpath_ng import JSONPath
from jsonpath_ng.ext import parse as parse_jsonpath
from pydantic import Field, field_validator

from ..module import Module
from ..result import Result
from ..sources import Inputs
from .common import checked_metric, load_json, read_input
from .values import ValueSettings, combine, value_result


# Parsing a JSONPath costs far more than evaluating it; compiled paths are immutable, so the
# validator's compilation is reused by every run of every instance with the same expression.
@lru_cache(maxsize=512)
def compile_path(expression: str) -> JSONPath:
    """The compiled JSONPath; ValueError with the parser's reason when it is not one."""
    try:
        return parse_jsonpath(expression)
    except Exception as exc:  # the parser raises bare Exception subclasses of several kinds
        raise ValueError(f"{expression!r} is not a JSONPath expression: {exc}") from exc


class JsonValueSettings(ValueSettings):
    """Settings of the `json_value` module type."""

    values: dict[str, str] = Field(
        description='metric name -> JSONPath, e.g. {queued = "$.queues[*].queued"}',
        min_length=1,
    )

    @field_validator("values")
    @classmethod
    def _valid(cls, values: dict[str, str]) -> dict[str, str]:
        for name, expression in values.items():
            checked_metric(name)
            compile_path(expression)
        return values


class JsonValue(Module[JsonValueSettings]):
    """Numbers from a JSON document, one metric per JSONPath expression, for rules to rate."""

    Settings = JsonValueSettings

    def units(self) -> Mapping[str, str]:
        return self.settings.units

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        document = load_json(read_input(inputs))
        found: list[tuple[str, str, float | None, str]] = []
        for name, expression in self.settings.values.items():
            try:
                matches = [m.value for m in compile_path(expression).find(document)]
            except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
                # filters compare whatever the document holds; a mismatch is a problem, not a crash
                found.append((name, expression, None, f"cannot evaluate ({exc})"))
                continue
            value, problem = combine(matches, self.settings.aggregate)
            found.append((name, expression, value, problem))
        return value_result(found, "JSONPath", self.settings.units)

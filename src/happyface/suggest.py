""" "Did you mean …?" for names people mistype in configuration: types, categories, settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the known name closest to `name`, or "" when none is close."""
    candidates = sorted(set(known))
    close = get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        # a different case or separator is a common slip that difflib's ratio can miss
        folded = {c.lower().replace("-", "_"): c for c in candidates}
        match = folded.get(name.lower().replace("-", "_"))
        close = [match] if match else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def field_names(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys the model nested at `path` (as pydantic reports locations) accepts."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) or _by_alias(current, part)
        current = _model_in(field.annotation) if field is not None else None
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _by_alias(model: type[BaseModel], alias: str) -> FieldInfo | None:
    return next((f for f in model.model_fields.values() if f.alias == alias), None)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds, through Optional, lists and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None

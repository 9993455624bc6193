"""Renderers: the same view data as an HTML page (Jinja2) or as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup

from ..module import Module
from ..plugins import template_folders
from .urls import Urls
from .viewdata import fields_of

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TEMPLATES = Path(__file__).parent / "templates"


def _clock(value: datetime | None, form: str = "%Y-%m-%d %H:%M UTC") -> str:
    return value.astimezone(UTC).strftime(form) if value is not None else "—"


def _age(seconds: float) -> str:
    """A duration for people: 40 s, 12 min, 3 h 5 min, 2 days."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        hours, rest = divmod(int(seconds), 3600)
        return f"{hours} h {rest // 60} min"
    return f"{seconds / 86400:.0f} days"


#: a false flag: a dash to the eye, "no" to a screen reader
_NO = Markup('<span aria-hidden="true">—</span><span class="sr-only">no</span>')


def _cell(value: object) -> str:
    """A table cell as text; flags as "yes" or a dash rather than Python's True/False."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else _NO
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def loader(folders: Mapping[str, Sequence[Path]]) -> BaseLoader:
    """The dashboard's templates, then each module type package's as `<package>/<name>`.

    Keyed by package, two types' templates never collide, and a type's template can still
    import the dashboard's shared pieces (`_macros.html`, `modules/_parts.html`).
    """
    packages = {name: FileSystemLoader(list(paths)) for name, paths in folders.items()}
    return ChoiceLoader([FileSystemLoader(TEMPLATES), PrefixLoader(packages)])


def environment(urls: Urls, types: Iterable[type[Module]] = ()) -> Environment:
    """The template environment: autoescaped, strict about undefined names.

    It loads the templates of every installed module type's package, and of `types` (a site's
    types, some perhaps registered directly rather than installed).
    """
    env = Environment(
        loader=loader(template_folders(types)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clock=_clock, age=_age, cell=_cell)
    env.globals["urls"] = urls
    env.globals["site_notices"] = _no_notices  # create_app may give a provider of its own
    return env


def _no_notices() -> tuple[str, ...]:
    return ()


def has_template(env: Environment, name: str) -> bool:
    """Whether a template exists, for module types that name their own detail view."""
    try:
        env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def render_html(env: Environment, template: str, view: DataclassInstance, **frame: object) -> bytes:
    """A page: the view's fields are the template's names.

    `frame` adds names that belong to the page around the view, not to its data (and so not
    to its JSON twin), such as `tab_statuses`: the statuses the browser tab sums up.
    """
    return env.get_template(template).render(fields_of(view), **frame).encode()


def _default(value: object) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        # a view, or a module type's detail view in it: one level at a time, as asdict would
        # first deep-copy every cell of every table
        return _json_names([(name, getattr(value, name)) for name in _field_names(type(value))])
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _json_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # a field named after a Python keyword carries a trailing underscore: `from_` is "from"
    return {name.removesuffix("_"): value for name, value in pairs}


def json_ready(view: DataclassInstance) -> dict[str, Any]:
    """A view as plain dicts and lists, under the names its JSON has always used."""
    return asdict(view, dict_factory=_json_names)


def render_json(view: DataclassInstance) -> bytes:
    """A view as JSON: the same as `json_ready`, without copying the view first."""
    return json.dumps(view, default=_default, separators=(",", ":"), allow_nan=False).encode()

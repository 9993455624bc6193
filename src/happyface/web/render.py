"""Renderers: the same view data as an HTML page (Jinja2) or as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup

from .urls import Urls

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


def environment(urls: Urls) -> Environment:
    """The template environment: autoescaped, strict about undefined names."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
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


def render_html(env: Environment, template: str, view: dict[str, Any]) -> bytes:
    return env.get_template(template).render(view).encode()


def _default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def render_json(view: dict[str, Any]) -> bytes:
    return json.dumps(view, default=_default, separators=(",", ":"), allow_nan=False).encode()

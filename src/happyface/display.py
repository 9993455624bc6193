"""The display part of the module contract: what a type's view hook reads and returns.

A module type may name a Jinja template (`template = "name.html"`, a file in the `templates/`
folder of the type's package) and build what that template reads with a view hook,
`Module.detail_view(given) -> DetailView | None`. The web calls the hook with a `DetailInput`
and knows no type by name; a third-party type's display is found exactly like a built-in one's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .errors import HappyFaceError
from .result import Table

#: where a type's templates live, inside its Python package
TEMPLATE_FOLDER = "templates"

Query = Sequence[tuple[str, str]]


class DetailLinks(Protocol):
    """The links a view hook may need, built by the web for the shown module and run."""

    def module(self, query: Query = ()) -> str:
        """This module's page at the shown time, with `query` (a filter) added."""
        ...

    def archived(self) -> Mapping[str, str]:
        """Source name -> URL of that source's archived input in the shown run."""
        ...


@dataclass(frozen=True)
class DetailInput:
    """What a view hook reads: the stored result of one module in one run, and where it shows.

    Stored details may come from an older version or another instance: read them defensively.
    """

    module_id: str
    details: Mapping[str, Any]
    tables: tuple[Table, ...]
    #: when the shown run started
    run_time: datetime
    #: the time the page's links keep; None on the live page
    at: datetime | None
    #: True on the module's own page, False for its box on an overview or category page
    full: bool
    #: the module page's query parameters; empty elsewhere. A type reads only its own
    params: Mapping[str, str]
    links: DetailLinks


@dataclass(frozen=True)
class DetailView:
    """Base of the frozen dataclass a type's template reads as `box.view`.

    Its fields are also the `view` of the module in the JSON renderings. A type whose query
    parameters narrow its tables (the jobs filter) overrides `tables` and `query`.
    """

    def tables(self, stored: Sequence[Table]) -> Sequence[Table]:
        """The tables the module page lists, before paging; by default those stored."""
        return stored

    def query(self) -> Query:
        """The query parameters the page's own links (pagers) keep; by default none."""
        return ()


class DetailParameterError(HappyFaceError):
    """Raised by a view hook when a query parameter it reads cannot be understood (a 400)."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"{name}={value!r}: expected {expected}")
        self.name = name
        self.value = value
        self.expected = expected


def template_package(module_name: str) -> str:
    """The package whose `templates/` folder holds the templates of a class in `module_name`.

    A type defined in a package's `__init__` belongs to that package; one in a top-level
    module has no package, and so no templates of its own ("").
    """
    module = sys.modules.get(module_name)
    package = getattr(module, "__package__", None)
    if package is None:
        package = module_name.rpartition(".")[0]
    return package

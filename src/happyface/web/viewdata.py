"""The small shapes of view data every page shares: a status, the site, links and errors.

View data is typed: each page kind has a frozen dataclass (see viewframe, pages/box_data,
pages/page_data, plots/plot_data, alarms/alarm_data), so mypy checks what a builder gives a
template, and the JSON rendering is the same objects (render.json_ready). Shapes the JSON API
shows too are pydantic dataclasses, defined once here and used by the API's models
(api/models).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic.dataclasses import dataclass as api_dataclass

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class StatusView:
    """A status as the templates show it: the value (a Status, or "stale"), a word, a meaning."""

    value: str
    word: str
    meaning: str


@dataclass(frozen=True)
class SiteRef:
    """The site's title and the link home, in the header of every page."""

    title: str
    home: str


@api_dataclass(frozen=True)
class Link:
    """A titled link."""

    title: str = Field(description="what the link shows")
    url: str = Field(description="where it leads")


@api_dataclass(frozen=True)
class ErrorBody:
    """Why a request could not be answered, for the error page and the JSON answer alike."""

    status: int = Field(description="the HTTP status")
    title: str = Field(description="short title")
    message: str = Field(description="what went wrong, in words")
    hint: str = Field(description="what to do about it")
    links: list[Link] = Field(description="where to go instead")


@dataclass(frozen=True)
class ErrorView:
    """An error as view data: the JSON answer of a failed request."""

    error: ErrorBody


@dataclass(frozen=True)
class ErrorPage(ErrorView):
    """An error as a page."""

    site: SiteRef


@dataclass(frozen=True)
class NoRunView:
    """The page of a new site whose first run has not landed yet."""

    site: SiteRef
    interval: float
    live_url: str


@dataclass(frozen=True)
class NoRunYet:
    """The JSON answer of an export before the first run."""

    run: None = None
    message: str = "no run yet"


def fields_of(view: DataclassInstance) -> dict[str, Any]:
    """The fields of a view by name, not copied: to extend a view, or as a template's names."""
    return {f.name: getattr(view, f.name) for f in fields(view)}

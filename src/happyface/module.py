"""The contract of a module type: a settings model, the sources it reads, and `extract`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .display import DetailInput, DetailView, template_package
from .result import Result
from .retired import Retired
from .rules import Rule
from .sources import Inputs, Source


class ModuleSettings(BaseModel):
    """Base of every module type's settings: unknown keys are mistakes, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=ModuleSettings)


class Module(Generic[S]):
    """A module type. Subclasses set `Settings`, optionally `source_names`, and write `extract`.

    `extract` is pure: given the fetched inputs and the time of the run it returns a Result. It
    never opens sockets or touches the database; it may raise ExtractError (or any exception),
    which the run turns into this module's error status with the message.

    Its display is optional: a `template` in the `templates/` folder of the type's package and
    a `detail_view` hook that turns the stored details into what that template reads.
    """

    Settings: ClassVar[type[ModuleSettings]] = ModuleSettings
    #: names of the sources this type reads; the config gives each a URL
    source_names: ClassVar[tuple[str, ...]] = ("main",)
    #: how the type rates its metrics; a site's rule on the same `metric` replaces one
    default_rules: ClassVar[tuple[Rule, ...]] = ()
    #: what each metric measures, by name or glob (`"*.free_bytes": "bytes"`), the first match
    #: winning: a unit of `happyface.units`, so pages write 1.5 TB, 54 %, 2 h 10 min
    metric_units: ClassVar[Mapping[str, str]] = {}
    #: settings the type no longer has: a site still giving one gets a config error saying
    #: what to write instead
    retired_settings: ClassVar[Mapping[str, Retired]] = {}
    #: the Jinja template of this type's detail view: a file in the `templates/` folder of the
    #: type's package, else one of the dashboard's shared ones (`keyvalue.html`); None: tables
    template: ClassVar[str | None] = None

    def __init__(self, settings: S, sources: Mapping[str, Source]) -> None:
        self.settings = settings
        self.configured_sources = dict(sources)

    def sources(self) -> Mapping[str, Source]:
        """What to fetch before `extract`; by default the sources the config gives."""
        return self.configured_sources

    def units(self) -> Mapping[str, str]:
        """The units of this instance's metrics: the type's, unless its settings name them."""
        return self.metric_units

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        raise NotImplementedError(f"{type(self).__name__} does not implement extract()")

    @classmethod
    def detail_view(cls, given: DetailInput) -> DetailView | None:
        """What the type's template reads as `box.view`; None when it reads the box alone.

        It may raise DetailParameterError for a query parameter of its own it cannot read (the
        page answers 400); any other failure shows the generic tables instead of the template.
        """
        return None

    @classmethod
    def template_name(cls) -> str | None:
        """The template's name in the dashboard's loader, keyed by the type's package."""
        package = template_package(cls.__module__)
        return f"{package}/{cls.template}" if cls.template and package else None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """A summary of the type for `happyface modules` and the docs."""
        doc = (cls.__doc__ or "").strip().splitlines()
        return {"summary": doc[0] if doc else "", "sources": list(cls.source_names)}

"""The categories, module instances and uploads of a site, as the configuration declares them."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..rules import Rule
from ..sources import SecretRef, Source
from ..status import Algorithm, Kind
from ..uploads import check_name

Access = Literal["open", "restricted", "hidden"]

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not a valid id: start with a letter, then letters, digits, _ or -"
        )
    return value


class CategoryConfig(BaseModel):
    """One `[[category]]`: a group of modules rolled up into one status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="short unique name, used in URLs")
    title: str = Field(description="title shown to the shift crew")
    description: str = Field("", description="what this category watches")
    algorithm: Algorithm = Field(Algorithm.WORST, description="worst | weighted")
    access: Access = Field("open", description="open | restricted | hidden")
    allow: list[str] = Field(
        default_factory=list,
        description="groups that see it in full when not open; none: `[access] default_allow`",
    )
    order: int = Field(0, description="position on the overview; lower comes first")

    _valid_id = field_validator("id")(_check_id)


class ModuleConfig(BaseModel):
    """One `[[module]]`: an instance of a module type with its sources, settings and rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="short unique name, used in URLs and metric names")
    type: str = Field(description="module type (see `happyface modules`)")
    category: str = Field(description="id of the category this module belongs to")
    title: str = Field(description="title shown to the shift crew")
    description: str = Field("", description="what this module watches")
    instruction: str = Field("", description="what the shift crew should do when it is not happy")
    kind: Kind = Field(
        Kind.RATED,
        description="rated (counted in full), unrated or plots (shown, and counted as a "
        "warning at most)",
    )
    weight: float = Field(1.0, ge=0, description="weight in a `weighted` category")
    access: Access = Field("open", description="open | restricted | hidden")
    allow: list[str] = Field(
        default_factory=list,
        description="groups that see it in full when not open; none: `[access] default_allow`",
    )
    order: int = Field(0, description="position within its category; lower comes first")
    source: str | Source | None = Field(None, description="shorthand for `sources.main`")
    sources: dict[str, str | Source] = Field(
        default_factory=dict, description="named inputs of the module"
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="the type's settings")
    rules: list[Rule] | None = Field(
        None,
        description="rating rules; each replaces the type's default rule on the same `metric`, "
        "the other defaults still apply",
    )
    default_rules: bool = Field(
        True, description="apply the type's default rules; false: only the `rules` given here"
    )
    archive: bool | None = Field(None, description="archive raw inputs; none: the site default")

    _valid_id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _one_way_to_name_main(self) -> ModuleConfig:
        if self.source is not None and "main" in self.sources:
            raise ValueError("give `source` or `sources.main`, not both")
        return self

    def named_sources(self, default_timeout: float) -> dict[str, Source]:
        """Every source by name, shorthand strings expanded with the site's default deadline."""
        named: dict[str, str | Source] = dict(self.sources)
        if self.source is not None:
            named["main"] = self.source
        return {
            name: Source(url=s, timeout=default_timeout) if isinstance(s, str) else s
            for name, s in named.items()
        }


class UploadConfig(BaseModel):
    """One `[[upload]]`: a file a producer pushes, and the tokens that may write it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        description="the upload's name: pushed with `POST /upload/NAME`, "
        'read by a module with `source = "upload:NAME"`'
    )
    token: SecretRef | list[SecretRef] | None = Field(
        None,
        description="bearer token that may write this upload and no other, by reference; "
        "a list of references lets several producers (or an old and a new token) write it",
    )
    groups: list[str] = Field(
        default_factory=list,
        description="groups whose members may write it with a JWT from an `[access.bearer]` issuer",
    )

    _valid_name = field_validator("name")(check_name)

    @model_validator(mode="after")
    def _someone_may_write(self) -> UploadConfig:
        if self.token is None and not self.groups:
            raise ValueError('give a token = { env = "NAME" } or the groups that may write it')
        return self

    @field_validator("token")
    @classmethod
    def _some_token(cls, token: SecretRef | list[SecretRef]) -> SecretRef | list[SecretRef]:
        if isinstance(token, list) and not token:
            raise ValueError('give at least one token, e.g. token = { env = "NAME" }')
        return token

    @property
    def tokens(self) -> tuple[SecretRef, ...]:
        """Every token reference of this upload."""
        if self.token is None:
            return ()
        return tuple(self.token) if isinstance(self.token, list) else (self.token,)

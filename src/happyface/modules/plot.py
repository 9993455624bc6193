"""The `plot` module type: remote plot images, checked to be images, shown from the archive."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from ..display import DetailInput
from ..errors import ExtractError
from ..imagetypes import image_type
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput
from .common import read_input
from .plot_view import PlotView, plot_view
from .svgsafe import check_svg


@dataclass(frozen=True)
class Image:
    """One checked image: its type, size in bytes and, where cheaply known, pixels."""

    source: str
    content_type: str
    size: int
    width: int | None
    height: int | None


class PlotSettings(ModuleSettings):
    """Settings of the `plot` module type."""

    captions: dict[str, str] = Field(
        default_factory=dict,
        description="source name -> caption shown under the image; default: the source name",
    )
    allow_svg: bool = Field(
        True,
        description="accept SVG plots (only inert drawing: anything that could run or load "
        "content is refused)",
    )


class Plot(Module[PlotSettings]):
    """Plot images (PNG, JPEG, GIF, WebP, inert SVG) from remote sources, one per source."""

    Settings = PlotSettings
    metric_units: ClassVar[Mapping[str, str]] = {"images": "count", "bytes": "bytes"}
    template = "plot.html"

    @classmethod
    def detail_view(cls, given: DetailInput) -> PlotView:
        return plot_view(given)

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        if not inputs:
            raise ExtractError("no image was fetched; give the module at least one source")
        images = [self._check(name, inputs) for name in _ordered(inputs)]
        total = sum(i.size for i in images)
        return Result(
            message=f"{len(images)} plot(s), {total / 1000:.0f} kB",
            metrics={"images": float(len(images)), "bytes": float(total)},
            tables=(_table(images, self.settings.captions),),
            details={"images": [self._describe(i) for i in images]},
        )

    def _check(self, name: str, inputs: Inputs) -> Image:
        raw = read_input(inputs, name)
        content_type = image_type(name, raw.content)
        if content_type == "image/svg+xml":
            if not self.settings.allow_svg:
                raise ExtractError(f"source {name!r} is an SVG image, and `allow_svg` is false")
            root = check_svg(name, raw.content)
            width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
        else:
            _check_complete(name, content_type, raw.content)
            width, height = _dimensions(content_type, raw)
        return Image(name, content_type, len(raw.content), width, height)

    def _describe(self, image: Image) -> dict[str, Any]:
        return {
            "source": image.source,
            "content_type": image.content_type,
            "bytes": image.size,
            "width": image.width,
            "height": image.height,
            "caption": self.settings.captions.get(image.source, image.source),
        }


def _ordered(inputs: Inputs) -> list[str]:
    """`main` first, then the other sources in the order the configuration gives them."""
    return sorted(inputs, key=lambda name: name != "main")


def _check_complete(name: str, content_type: str, content: bytes) -> None:
    """Refuse a body cut short: each format has a recognisable end (WebP states its length)."""
    kind = content_type.removeprefix("image/").upper()
    complete = {
        "image/png": content.endswith(b"IEND\xaeB`\x82"),
        "image/jpeg": content.rstrip(b"\x00").endswith(b"\xff\xd9"),
        "image/gif": content.rstrip(b"\x00").endswith(b"\x3b"),
        "image/webp": len(content) >= 12
        and int.from_bytes(content[4:8], "little") + 8 <= len(content),
    }[content_type]
    if not complete:
        raise ExtractError(f"source {name!r} is a truncated {kind} image")


def _dimensions(content_type: str, raw: RawInput) -> tuple[int | None, int | None]:
    content = raw.content
    if content_type == "image/png" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content_type == "image/gif" and len(content) >= 10:
        return int.from_bytes(content[6:8], "little"), int.from_bytes(content[8:10], "little")
    return None, None


def _svg_length(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*", value or "")
    return round(float(match.group(1))) if match else None


def _table(images: list[Image], captions: dict[str, str]) -> Table:
    rows = tuple(
        (i.source, captions.get(i.source, i.source), i.content_type, i.size, i.width, i.height)
        for i in images
    )
    columns = ("source", "caption", "type", "bytes", "width", "height")
    return Table(name="images", columns=columns, rows=rows, title="Plots")

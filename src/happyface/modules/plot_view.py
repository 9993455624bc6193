"""What the `plot` type's template shows: the images of the shown run, from the archive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..display import DetailInput, DetailView

#: a size beyond this is not believed (stored details may come from anywhere)
MAX_PIXELS = 10_000


@dataclass(frozen=True)
class PlotImage:
    """One image of the run, linked to its archived file ("" when it is not archived)."""

    source: str
    caption: str
    url: str
    width: int | None
    height: int | None
    content_type: str
    bytes: int | None


@dataclass(frozen=True)
class PlotView(DetailView):
    """The images in their configured order, so a past page shows the plots of its time."""

    images: tuple[PlotImage, ...]


def plot_view(given: DetailInput) -> PlotView:
    """The images of the shown run, each with its archived file, caption and size."""
    files = given.links.archived()
    images = given.details.get("images")
    items = images if isinstance(images, list) else []
    return PlotView(tuple(_image(i, files) for i in items if isinstance(i, Mapping)))


def _image(item: Mapping[str, Any], files: Mapping[str, str]) -> PlotImage:
    source = str(item.get("source", ""))
    return PlotImage(
        source=source,
        caption=str(item.get("caption") or source),
        url=files.get(source, ""),
        width=_dimension(item.get("width")),
        height=_dimension(item.get("height")),
        content_type=str(item.get("content_type", "")),
        bytes=_count(item.get("bytes")),
    )


def _dimension(value: Any) -> int | None:
    count = _count(value)
    return count if count is not None and 0 < count <= MAX_PIXELS else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

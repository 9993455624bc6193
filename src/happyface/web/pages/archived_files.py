"""How an archived raw input is served: as an image only when its bytes are one, else as text.

Archived inputs are whatever a remote server sent. A browser must never run them, so anything
that is not a raster image by its magic bytes goes out as plain text. SVG can hold scripts; it
is served as an image only to an <img> (the browser says so in `Sec-Fetch-Dest`), where no
script runs, and even then under a policy that forbids scripts and loads of any kind.
"""

from __future__ import annotations

from ...errors import ExtractError
from ...imagetypes import image_type

TEXT = "text/plain; charset=utf-8"
SVG = "image/svg+xml"
RASTER = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: no scripts, no loads, no plugins; inline styles only, which plotting libraries write into SVG
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
TEXT_POLICY = "sandbox"


def media_type(body: bytes, fetch_dest: str) -> str:
    """The type to serve `body` as: an image type by magic bytes, SVG to <img> only, else text."""
    try:
        found = image_type("archived", body)
    except ExtractError:  # not an image at all
        return TEXT
    if found in RASTER or (found == SVG and fetch_dest == "image"):
        return found
    return TEXT


def headers(media: str) -> dict[str, str]:
    """The response headers of an archived input served as `media`."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": IMAGE_POLICY if media != TEXT else TEXT_POLICY,
        "Content-Disposition": "inline",
        # the same URL answers an <img> and a page differently when the body is an SVG
        "Vary": "Sec-Fetch-Dest",
    }

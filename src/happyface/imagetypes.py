"""What kind of image a body is, by its magic bytes: shared by the plot type and the archive.

The plot type accepts an input only as an image; the dashboard serves an archived input as an
image only when its bytes are one. Both ask this one sniffer, never the declared content type.
"""

from __future__ import annotations

import re

from .errors import ExtractError

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# the first element, past the XML declaration, comments and a DOCTYPE (matplotlib writes one)
_FIRST_ELEMENT = re.compile(rb"<(?![!?])")
_LOOKS_LIKE: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.I), "HTML"),
    (re.compile(rb"^\s*[\[{]"), "JSON"),
    (re.compile(rb"^\s*<"), "XML"),
)


def image_type(name: str, content: bytes) -> str:
    """The image's MIME type by its magic bytes; ExtractError saying what it looks like instead."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if _is_svg(content[:4096]):
        return "image/svg+xml"
    head = content[:512]
    kind = next((k for pattern, k in _LOOKS_LIKE if pattern.match(head)), None)
    if kind is None:
        kind = "text" if _is_text(head) else "binary data of an unknown kind"
    raise ExtractError(f"source {name!r} is not an image (it looks like {kind})")


def _is_svg(head: bytes) -> bool:
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    first = _FIRST_ELEMENT.search(head)
    return first is not None and re.match(rb"<svg\b", head[first.start() :]) is not None


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c >= 32 or c in b"\t\r\n" for c in head)

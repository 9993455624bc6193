"""How a feed's bytes are encoded, and whether they declare entities, decided before parsing.

A guard that looks for `<!ENTITY` in the raw bytes is blind to UTF-16 and UTF-32, where every
character takes several bytes. So the encoding is settled first (byte order mark, the zero-byte
pattern of `<` that the XML specification's appendix F describes, then the XML declaration),
and the search runs with the pattern encoded the same way, over the whole input: no position,
comment or preceding text hides a declaration. Encodings that are not ASCII-compatible apart
from UTF-16 and UTF-32 (UTF-7, EBCDIC) are refused rather than guessed at.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cache

from ..errors import ExtractError

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_DECLARED = re.compile(rb"""\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
# every printable ASCII character: an encoding that writes them as ASCII is safe to scan as bytes
_ASCII_PROBE = "".join(chr(c) for c in range(32, 127)) + "\t\r\n"


@dataclass(frozen=True)
class FeedEncoding:
    """The Python codec of a feed and where its text starts (past a byte order mark)."""

    codec: str
    start: int


def feed_encoding(content: bytes) -> FeedEncoding:
    """The encoding of `content`; ExtractError for one that cannot be scanned safely."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return FeedEncoding(codec, len(bom))
    if sniffed := _wide_encoding(content[:4]):
        return FeedEncoding(sniffed, 0)
    declared = _DECLARED.match(content)
    if declared is None:
        return FeedEncoding("utf-8", 0)
    name = declared.group(1).decode("ascii")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return FeedEncoding("utf-8", 0)  # unknown: read as UTF-8, undecodable bytes replaced
    if codec.startswith(("utf-16", "utf-32")):
        return FeedEncoding("utf-8", 0)  # the bytes say otherwise: the declaration is wrong
    if not _ascii_compatible(codec):
        raise ExtractError(
            f"the feed declares the encoding {name!r}, which is not read for safety; "
            "serve the feed as UTF-8"
        )
    return FeedEncoding(codec, 0)


def declares_entities(content: bytes, encoding: FeedEncoding) -> bool:
    """Whether `<!ENTITY` (any case) appears anywhere in `content`, read in `encoding`."""
    return _declaration_pattern(encoding.codec).search(content, encoding.start) is not None


def decode_prefix(content: bytes, encoding: FeedEncoding, max_bytes: int) -> str:
    """The text of at most the first `max_bytes` bytes, with undecodable bytes replaced."""
    end = min(len(content), encoding.start + max_bytes)
    return content[encoding.start : end].decode(encoding.codec, errors="replace")


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte order mark, told by where the zero bytes of `<` fall."""
    if len(head) < 4 or head[0] == head[1] == head[2] == head[3] == 0:
        return None
    zeros = (head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 0)
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(zeros)


def _ascii_compatible(codec: str) -> bool:
    try:
        return _ASCII_PROBE.encode(codec) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


@cache
def _declaration_pattern(codec: str) -> re.Pattern[bytes]:
    """`<!ENTITY` in any letter case, as it appears in bytes of `codec`."""
    parts = [re.escape("<!".encode(codec))]
    for letter in "entity":
        spellings = (re.escape(c.encode(codec)) for c in (letter, letter.upper()))
        parts.append(b"(?:" + b"|".join(spellings) + b")")
    return re.compile(b"".join(parts))

"""Distinguished names in the two spellings grid tools use, compared as names, not strings.

`/C=DE/O=GermanGrid/CN=Jane Doe` (OpenSSL's one-line form, most general first) and
`CN=Jane Doe,O=GermanGrid,C=DE` (RFC 4514, most specific first, with escapes) are the same
name. Attribute types compare by their short name or OID; values as X.500 does for directory
strings: case-insensitively, with runs of spaces collapsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ALIASES = {
    "commonname": "cn", "2.5.4.3": "cn",
    "countryname": "c", "2.5.4.6": "c",
    "organizationname": "o", "2.5.4.10": "o",
    "organizationalunitname": "ou", "2.5.4.11": "ou",
    "localityname": "l", "2.5.4.7": "l",
    "stateorprovincename": "st", "s": "st", "2.5.4.8": "st",
    "streetaddress": "street", "2.5.4.9": "street",
    "serialnumber": "serialnumber", "2.5.4.5": "serialnumber",
    "domaincomponent": "dc", "0.9.2342.19200300.100.1.25": "dc",
    "userid": "uid", "0.9.2342.19200300.100.1.1": "uid",
    "email": "emailaddress", "e": "emailaddress", "1.2.840.113549.1.9.1": "emailaddress",
}  # fmt: skip
# a new component of the one-line form starts at a slash followed by `type=`
_ONELINE_SPLIT = re.compile(r"/(?=[A-Za-z0-9][A-Za-z0-9.-]*=)")
_HEX_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
# what an RFC 3820 proxy (a number) or a legacy Globus proxy adds to its issuer's name
_PROXY_CN = re.compile(r"^(\d+|proxy|limited proxy)$")

Ava = tuple[str, str]


class DnError(ValueError):
    """Raised when a text cannot be read as a distinguished name."""


@dataclass(frozen=True)
class DN:
    """A distinguished name as a sequence of (type, value), most general component first.

    `avas` are normalised and decide equality; `shown` keeps the spelling given, for logs and
    for the authoriser command.
    """

    avas: tuple[Ava, ...]
    shown: tuple[Ava, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> DN:
        """A DN from its one-line (`/C=DE/...`) or RFC 4514 (`CN=...,C=DE`) spelling."""
        stripped = text.strip()
        if not stripped:
            raise DnError("an empty DN")
        given = _oneline(stripped) if stripped.startswith("/") else _rfc4514(stripped)[::-1]
        shown = tuple((t.strip(), v.strip()) for t, v in given)
        return cls(tuple(_normal(t, v) for t, v in given), shown)

    def __str__(self) -> str:
        """The one-line form, as grid tools print it."""
        return "".join(f"/{t}={v}" for t, v in self.shown or self.avas)

    def common_name(self) -> str | None:
        """The most specific CN as given (a person's name in a user DN); None without one."""
        shown = self.shown or self.avas
        names = [
            value for (kind, _), (_, value) in zip(self.avas, shown, strict=True) if kind == "cn"
        ]
        return names[-1] if names else None

    def parent(self) -> DN | None:
        """The name without its last component, when that component is a proxy's CN."""
        if len(self.avas) > 1 and self.avas[-1][0] == "cn" and _PROXY_CN.match(self.avas[-1][1]):
            return DN(self.avas[:-1], self.shown[:-1])
        return None


def _normal(kind: str, value: str) -> Ava:
    key = kind.strip().lower()
    return _ALIASES.get(key, key), " ".join(value.split()).casefold()


def _oneline(text: str) -> list[Ava]:
    avas = []
    for part in _ONELINE_SPLIT.split(text[1:]):
        kind, sep, value = part.partition("=")
        if not sep or not kind:
            raise DnError(f"{text!r}: {part!r} is not TYPE=value")
        avas.append((kind, _HEX_ESCAPES.sub(_decode_hex, value)))
    return avas


def _decode_hex(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group(0).replace("\\x", ""))
    return raw.decode("utf-8", errors="replace")


def _rfc4514(text: str) -> list[Ava]:
    """The attribute-value pairs of an RFC 4514 string, in written order; `+` pairs flattened."""
    avas: list[Ava] = []
    position = 0
    while position < len(text):
        kind, position = _until(text, position, "=")
        value, position = _value(text, position)
        if not kind.strip():
            raise DnError(f"{text!r}: a component without a type")
        avas.append((kind, value))
        if position < len(text):
            position += 1  # the separator , ; or +
    return avas


def _until(text: str, start: int, stop: str) -> tuple[str, int]:
    end = text.find(stop, start)
    if end < 0:
        raise DnError(f"{text!r}: expected {stop!r} after {text[start:]!r}")
    return text[start:end], end + 1


def _value(text: str, position: int) -> tuple[str, int]:
    """One value up to an unescaped separator, with `\\,` and `\\C3\\A9` escapes undone."""
    out = bytearray()
    quoted = position < len(text) and text[position] == '"'
    position += quoted
    while position < len(text):
        char = text[position]
        if quoted and char == '"':
            quoted, position = False, position + 1
            continue
        if not quoted and char in ",;+":
            break
        if char == "\\" and position + 1 < len(text):
            pair = text[position + 1 : position + 3]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
                out.append(int(pair, 16))
                position += 3
                continue
            char, position = text[position + 1], position + 1
        out += char.encode()
        position += 1
    return out.decode("utf-8", errors="replace"), position

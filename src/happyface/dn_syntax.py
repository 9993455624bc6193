"""Reading the two spellings of a distinguished name into its components.

A component (RDN) is a list of (type, value) pairs: usually one, several in a multi-valued
RDN such as `OU=KIT+CN=Ada Admin`. Two readers of the same syntax:

- lenient, for what an administrator wrote (config, DN files): in the one-line form `+TYPE=`
  starts another pair of the same component, `\\+` and `\\/` are a literal `+` and `/`;
- strict, for what a proxy sent: a spelling whose structure cannot be known for certain is
  refused (AmbiguousDnError) instead of guessed. OpenSSL's one-line form writes a
  multi-valued RDN with `+` and, depending on its version, a `+` or `/` inside a value either
  escaped or not, so a one-line header with a `+` or a backslash escape is refused; the
  RFC 2253 form that nginx (`$ssl_client_s_dn`) and Apache send escapes every special
  character, so one that is not escaped there is refused as well.
"""

from __future__ import annotations

import re

Ava = tuple[str, str]
Rdn = list[Ava]

# an attribute type: a name (`CN`, `emailAddress`) or a dotted OID
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*")
# where a one-line component or pair starts: `type=` right after the slash or plus
_TYPE_AHEAD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*=")
_HEX_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}")
# RFC 4514 characters a value may carry only escaped (`,` `+` `;` end a value anyway)
_MUST_ESCAPE = '"<>'
_ESCAPABLE = ',+"\\<>;#= '
# DER string types an RFC 2253 `#hex` value may hold, with their encodings
_DER_STRINGS = {
    0x0C: "utf-8", 0x12: "ascii", 0x13: "ascii", 0x14: "latin-1", 0x16: "ascii",
    0x1A: "ascii", 0x1C: "utf-32-be", 0x1E: "utf-16-be",
}  # fmt: skip


class DnError(ValueError):
    """Raised when a text cannot be read as a distinguished name."""


class AmbiguousDnError(DnError):
    """Raised when a proxy's DN could mean more than one name (see the module docstring)."""


def read_oneline(text: str, strict: bool) -> list[Rdn]:
    """The components of `/C=DE/O=Grid/OU=KIT+CN=Ada Admin`, most general first."""
    if strict:
        _refuse_ambiguous_oneline(text)
    rdns: list[Rdn] = [[]]
    part, position = "", 1
    while position < len(text):
        char = text[position]
        if char == "\\" and text[position + 1 : position + 2] in ("+", "/"):
            part, position = part + text[position + 1], position + 2
            continue
        if char in "/+" and _TYPE_AHEAD.match(text, position + 1):
            rdns[-1].append(_oneline_pair(text, part))
            if char == "/":
                rdns.append([])
            part, position = "", position + 1
            continue
        part, position = part + char, position + 1
    rdns[-1].append(_oneline_pair(text, part))
    return rdns


def _refuse_ambiguous_oneline(text: str) -> None:
    if "+" in text:
        raise AmbiguousDnError(
            f"{text!r}: a '+' in the one-line form may join two attributes of one component "
            "or belong to a value; have the proxy send the RFC 2253 form ($ssl_client_s_dn)"
        )
    if "\\" in _HEX_ESCAPES.sub("", text):
        raise AmbiguousDnError(
            f"{text!r}: a backslash in the one-line form is an escape for some OpenSSL "
            "versions and a character for others; have the proxy send the RFC 2253 form"
        )


def _oneline_pair(text: str, part: str) -> Ava:
    kind, sep, value = part.partition("=")
    if not sep or not _TYPE.fullmatch(kind.strip()):
        raise DnError(f"{text!r}: {part!r} is not TYPE=value")
    return kind.strip(), _HEX_ESCAPES.sub(_decode_hex, value).strip()


def _decode_hex(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group(0).replace("\\x", ""))
    return raw.decode("utf-8", errors="replace")


def read_rfc4514(text: str, strict: bool) -> list[Rdn]:
    """The components of `CN=Ada Admin+OU=KIT,O=Grid,C=DE`, in written order (specific first)."""
    rdns: list[Rdn] = [[]]
    position = 0
    while True:
        end = text.find("=", position)
        kind = text[position:end].strip() if end >= 0 else ""
        if not _TYPE.fullmatch(kind):
            raise DnError(f"{text!r}: expected TYPE= at {text[position:]!r}")
        value, position = _value(text, end + 1, strict)
        rdns[-1].append((kind, value))
        if position >= len(text):
            return rdns
        separator = text[position]
        if strict and separator == ";":
            raise AmbiguousDnError(f"{text!r}: an unescaped ';'")
        if separator != "+":
            rdns.append([])
        position += 1


def _value(text: str, position: int, strict: bool) -> tuple[str, int]:
    """One value up to an unescaped `,` `;` or `+`, its escapes undone; the position after it."""
    rest = text[position:].lstrip(" ")
    start = len(text) - len(rest)
    if rest.startswith("#"):
        return _hex_value(text, start + 1)
    if rest.startswith('"'):
        if strict:
            raise AmbiguousDnError(f"{text!r}: a quoted value, which no proxy sends")
        return _quoted(text, start + 1)
    out = bytearray()
    position = start
    while position < len(text) and text[position] not in ",;+":
        char = text[position]
        if char == "\\":
            byte, position = _escape(text, position, strict)
            out += byte
            continue
        if strict and char in _MUST_ESCAPE:
            raise AmbiguousDnError(f"{text!r}: an unescaped {char!r}")
        out += char.encode()
        position += 1
    return _utf8(text, bytes(out), strict).strip(" "), position


def _escape(text: str, position: int, strict: bool) -> tuple[bytes, int]:
    """The byte(s) of the escape at `position` (a backslash) and the position after it."""
    pair = text[position + 1 : position + 3]
    if _HEX_PAIR.fullmatch(pair):
        return bytes([int(pair, 16)]), position + 3
    follower = text[position + 1 : position + 2]
    if not follower:
        raise DnError(f"{text!r}: a backslash at the end")
    if strict and follower not in _ESCAPABLE:
        raise AmbiguousDnError(f"{text!r}: a backslash before {follower!r}, which needs none")
    return follower.encode(), position + 2


def _quoted(text: str, position: int) -> tuple[str, int]:
    end = text.find('"', position)
    if end < 0:
        raise DnError(f"{text!r}: a quoted value without its closing quote")
    after = end + 1
    while after < len(text) and text[after] == " ":
        after += 1
    return text[position:end], after


def _hex_value(text: str, position: int) -> tuple[str, int]:
    """An RFC 2253 `#hex` value: the DER of the attribute, a string read as its text."""
    end = position
    while end < len(text) and text[end] not in ",;+":
        end += 1
    digits = text[position:end].strip()
    try:
        der = bytes.fromhex(digits)
    except ValueError:
        raise DnError(f"{text!r}: #{digits} is not hexadecimal") from None
    return _der_text(der) or "#" + digits.lower(), end


def _der_text(der: bytes) -> str | None:
    """The text of a DER-encoded string; None for any other DER value."""
    if len(der) < 2 or der[0] not in _DER_STRINGS:
        return None
    size, body = der[1], der[2:]
    if size & 0x80:
        count = size & 0x7F
        size, body = int.from_bytes(body[:count], "big"), body[count:]
    if size != len(body):
        return None
    try:
        return body.decode(_DER_STRINGS[der[0]])
    except UnicodeDecodeError:
        return None


def _utf8(text: str, raw: bytes, strict: bool) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if strict:
            raise DnError(f"{text!r}: escaped bytes that are not UTF-8") from None
        return raw.decode("utf-8", errors="replace")

"""Distinguished names in the two spellings grid tools use, compared as names, not strings.

`/C=DE/O=GermanGrid/CN=Jane Doe` (OpenSSL's one-line form, most general first) and
`CN=Jane Doe,O=GermanGrid,C=DE` (RFC 4514, most specific first, with escapes) are the same
name. A name is a sequence of components (RDNs); a component is a *set* of attribute-value
pairs, usually one. A multi-valued RDN such as `OU=KIT+CN=Ada Admin` equals `CN=Ada Admin+OU=KIT`
but never the two components `/OU=KIT/CN=Ada Admin`. Attribute types compare by their short
name or OID; values as X.500 does for directory strings: case-insensitively, with runs of
spaces collapsed. How texts are read: dn_syntax.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .dn_syntax import AmbiguousDnError, Ava, DnError, read_oneline, read_rfc4514

__all__ = ["DN", "AmbiguousDnError", "Ava", "DnError"]

_ALIASES = {
    "commonname": "cn", "2.5.4.3": "cn",
    "surname": "sn", "2.5.4.4": "sn",
    "serialnumber": "serialnumber", "2.5.4.5": "serialnumber",
    "countryname": "c", "2.5.4.6": "c",
    "localityname": "l", "2.5.4.7": "l",
    "stateorprovincename": "st", "s": "st", "2.5.4.8": "st",
    "streetaddress": "street", "2.5.4.9": "street",
    "organizationname": "o", "2.5.4.10": "o",
    "organizationalunitname": "ou", "2.5.4.11": "ou",
    "2.5.4.12": "title",
    "2.5.4.15": "businesscategory",
    "2.5.4.17": "postalcode",
    "2.5.4.41": "name",
    "givenname": "gn", "2.5.4.42": "gn",
    "2.5.4.43": "initials",
    "2.5.4.46": "dnqualifier",
    "2.5.4.65": "pseudonym",
    "domaincomponent": "dc", "0.9.2342.19200300.100.1.25": "dc",
    "userid": "uid", "0.9.2342.19200300.100.1.1": "uid",
    "email": "emailaddress", "e": "emailaddress", "1.2.840.113549.1.9.1": "emailaddress",
}  # fmt: skip
# what an RFC 3820 proxy (a number) or a legacy Globus proxy adds to its issuer's name
_PROXY_CN = re.compile(r"^(\d+|proxy|limited proxy)$")

Rdn = frozenset[Ava]
Shown = tuple[tuple[Ava, ...], ...]


@dataclass(frozen=True)
class DN:
    """A distinguished name: its components (sets of (type, value)), most general first.

    `rdns` are normalised and decide equality; `shown` keeps the spelling and order given,
    for logs and for the authoriser command.
    """

    rdns: tuple[Rdn, ...]
    shown: Shown = field(default=(), compare=False, repr=False)

    @classmethod
    def of(cls, components: Sequence[Sequence[Ava]]) -> DN:
        """A DN from its components, most general first, each a sequence of (type, value)."""
        if not components or not all(components):
            raise DnError("an empty DN or component")
        shown = tuple(tuple((t.strip(), v.strip()) for t, v in rdn) for rdn in components)
        return cls(tuple(frozenset(_normal(t, v) for t, v in rdn) for rdn in shown), shown)

    @classmethod
    def parse(cls, text: str) -> DN:
        """A DN as an administrator writes it, in the one-line or the RFC 4514 spelling.

        In the one-line form `+TYPE=` joins a pair to the component before it, as OpenSSL
        prints a multi-valued RDN; `\\+` and `\\/` are a literal `+` and `/`.
        """
        return cls._read(text, strict=False)

    @classmethod
    def parse_header(cls, text: str) -> DN:
        """A DN as a proxy sent it; AmbiguousDnError when its structure cannot be known."""
        return cls._read(text, strict=True)

    @classmethod
    def _read(cls, text: str, strict: bool) -> DN:
        stripped = text.strip()
        if not stripped:
            raise DnError("an empty DN")
        if stripped.startswith("/"):
            return cls.of(read_oneline(stripped, strict))
        return cls.of(read_rfc4514(stripped, strict)[::-1])

    def __str__(self) -> str:
        """The one-line form, as grid tools print it; `+` between pairs of one component."""
        shown = self.shown or tuple(tuple(sorted(rdn)) for rdn in self.rdns)
        return "".join("/" + "+".join(f"{t}={v}" for t, v in rdn) for rdn in shown)

    def common_name(self) -> str | None:
        """The most specific CN as given (a person's name in a user DN); None without one."""
        shown = self.shown or tuple(tuple(rdn) for rdn in self.rdns)
        names = [v for rdn in shown for t, v in rdn if _normal(t, v)[0] == "cn"]
        return names[-1] if names else None

    def proxy_name(self) -> str | None:
        """The last component's CN when it is what a proxy adds (`1234`, `proxy`); else None."""
        if len(self.rdns) < 2 or len(self.rdns[-1]) != 1:
            return None
        ((kind, value),) = self.rdns[-1]
        return value if kind == "cn" and _PROXY_CN.match(value) else None

    def parent(self) -> DN | None:
        """The name without its last component, when that component is a proxy's CN."""
        if self.proxy_name() is None:
            return None
        return DN(self.rdns[:-1], self.shown[:-1])


def _normal(kind: str, value: str) -> Ava:
    key = kind.strip().lower()
    return _ALIASES.get(key, key), " ".join(value.split()).casefold()

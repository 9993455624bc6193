"""Who a verified token names: its issuer, subject and the groups its claims list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ...config.access import GROUP_CLAIMS

#: how the token arrived: an API client's Authorization header, or a browser's login session
Via = Literal["bearer", "session"]
#: group names kept per token at most; a token listing more is cut there (and said in the log)
MAX_GROUPS = 256


@dataclass(frozen=True)
class TokenIdentity:
    """A person named by a verified token (bearer JWT or OpenID Connect login)."""

    issuer: str
    subject: str
    groups: frozenset[str] = field(default_factory=frozenset)
    via: Via = "bearer"
    display: str = ""

    @property
    def name(self) -> str:
        """How the person is shown (acknowledgements, messages), with the issuer who vouches."""
        return f"{self.display or self.subject} ({self.issuer})"


def groups_in(claims: Mapping[str, Any], claim: str | None) -> frozenset[str]:
    """The group names of `claims`: from the one named `claim`, or from every known group claim.

    A claim may hold a list of strings or one space-separated string; anything else counts
    as no groups (an unexpected shape grants nothing).
    """
    names: list[str] = []
    for key in (claim,) if claim else GROUP_CLAIMS:
        names.extend(_strings(claims.get(key)))
    return frozenset(names[:MAX_GROUPS])


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return ()


def display_name(claims: Mapping[str, Any]) -> str:
    """A person's name for the pages, when the claims carry one; never an email address."""
    for key in ("preferred_username", "name"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:100]
    return ""

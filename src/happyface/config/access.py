"""The `[access]` table and `[site.web.tls]`: who may see what, and how identities arrive.

Only the declarations live here (pydantic, no web imports), so loading a config stays cheap;
the enforcement is in `happyface.web.access`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..dn import DN, DnError
from ..durations import Duration

#: the built-in group every verified certificate belongs to
AUTHENTICATED = "authenticated"


class DnRule(BaseModel):
    """A DN with, optionally, the DN of the CA that must have issued it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(description="subject DN, `/C=DE/O=...` or RFC 4514 `CN=...,C=DE`")
    issuer: str | None = Field(None, description="issuer DN; none: any trusted CA")

    @field_validator("subject", "issuer")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        return None if value is None else _check_dn(value)


class GroupConfig(BaseModel):
    """One `[access.groups.NAME]`: its members by DN list, DN files and an external command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dns: list[str | DnRule] = Field(
        default_factory=list, description="member DNs, or `{ subject, issuer }` tables"
    )
    files: list[Path] = Field(
        default_factory=list,
        description="files of member DNs, one a "
        "line (`#` comments, grid-mapfile lines work); re-read when changed",
    )
    command: list[str] = Field(
        default_factory=list,
        description="an authoriser: run with the subject DN appended; exit status 0 means member",
    )
    command_cache: Duration = Field(
        300, ge=0, description="how long an authoriser's answer is remembered per DN"
    )
    command_timeout: Duration = Field(
        5,
        gt=0,
        description="an authoriser still running after this is killed, and the DN is not a member",
    )

    @field_validator("dns")
    @classmethod
    def _readable(cls, values: list[str | DnRule]) -> list[str | DnRule]:
        for value in values:
            if isinstance(value, str):
                _check_dn(value)
        return values


class AccessConfig(BaseModel):
    """The top-level `[access]` table: identities from a reverse proxy, groups, defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or CIDR "
        "ranges of reverse proxies whose DN headers are believed; "
        "from anywhere else the headers are ignored",
    )
    subject_header: str = Field("X-SSL-Client-S-DN", description="header with the subject DN")
    issuer_header: str = Field("X-SSL-Client-I-DN", description="header with the issuer DN")
    verify_header: str = Field(
        "X-SSL-Client-Verify",
        description="header that must say `verify_value` for the DN headers to count",
    )
    verify_value: str = Field("SUCCESS", description="the proxy's word for a verified client")
    default_allow: list[str] = Field(
        [AUTHENTICATED],
        description="groups that may see a restricted or hidden category or module without `allow`",
    )
    groups: dict[str, GroupConfig] = Field(
        default_factory=dict,
        description=f"named groups (`{AUTHENTICATED}` is built in: any verified DN)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or CIDR range") from None
        return values

    @field_validator("groups")
    @classmethod
    def _not_builtin(cls, groups: dict[str, GroupConfig]) -> dict[str, GroupConfig]:
        if AUTHENTICATED in groups:
            raise ValueError(f"{AUTHENTICATED!r} is built in; choose another group name")
        return groups

    def unknown_groups(self, names: Iterable[str]) -> list[str]:
        """The names that are neither a configured group nor the built-in one."""
        return [n for n in names if n != AUTHENTICATED and n not in self.groups]


def _check_dn(text: str) -> str:
    try:
        DN.parse(text)
    except DnError as exc:
        raise ValueError(str(exc)) from None
    return text


class ServerTls(BaseModel):
    """`[site.web.tls]`: serve HTTPS directly and ask browsers for grid certificates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certfile: Path | None = Field(
        None, description="server certificate (PEM, chain after it); set to serve HTTPS"
    )
    keyfile: Path | None = Field(None, description="server key; none: in `certfile`")
    ca_dir: Path | None = Field(
        None,
        description="hashed CA directory trusted for client "
        "certificates, e.g. /etc/grid-security/certificates",
    )
    ca_file: Path | None = Field(None, description="CA bundle trusted for client certificates")
    client_certs: Literal["none", "optional", "required"] = Field(
        "optional", description="ask for a client certificate; `optional` lets anonymous in"
    )
    check_crls: bool = Field(
        False,
        description="check the CRLs in `ca_dir` (`*.r0`, kept "
        "fresh by fetch-crl); a stale CRL then refuses its CA's users",
    )

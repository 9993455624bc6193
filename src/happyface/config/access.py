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
from ..sources import SecretRef

#: the built-in group every verified certificate or token belongs to
AUTHENTICATED = "authenticated"
#: the claims groups are read from when no `groups_claim` is named: WLCG, common, EGI/eduGAIN
GROUP_CLAIMS = ("wlcg.groups", "groups", "eduperson_entitlement")


class DnRule(BaseModel):
    """A DN with, optionally, the DN of the CA that must have issued it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(description="subject DN, `/C=DE/O=...` or RFC 4514 `CN=...,C=DE`")
    issuer: str | None = Field(None, description="issuer DN; none: any trusted CA")

    @field_validator("subject", "issuer")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        return None if value is None else _check_dn(value)


class TokenSubject(BaseModel):
    """A person known to an OpenID provider: its issuer URL and their `sub` there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="issuer URL, as the tokens' `iss` claim says it")
    subject: str = Field(description="the `sub` claim: the person's id at that issuer")


class GroupConfig(BaseModel):
    """One `[access.groups.NAME]`: members by DN, DN files, a command, token groups or subjects."""

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
    oidc_groups: list[str] = Field(
        default_factory=list,
        description="members by token: a viewer whose token or login names one of these groups "
        "(claims `wlcg.groups`, `groups`, `eduperson_entitlement`, or `groups_claim`)",
    )
    oidc_subjects: list[TokenSubject] = Field(
        default_factory=list,
        description="members by token: `{ issuer, subject }` of a person at an OpenID provider",
    )

    @field_validator("dns")
    @classmethod
    def _readable(cls, values: list[str | DnRule]) -> list[str | DnRule]:
        for value in values:
            if isinstance(value, str):
                _check_dn(value)
        return values


def issuer_url(value: str) -> str:
    """An issuer URL, kept exactly as written: tokens' `iss` is compared with it verbatim."""
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r}: an issuer is an https:// URL")
    return value


class OidcConfig(BaseModel):
    """`[access.oidc]`: browser login at an OpenID provider (authorization code with PKCE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="issuer URL; its `/.well-known/openid-configuration` is read")
    client_id: str = Field(description="the client id registered at the provider")
    client_secret: SecretRef | None = Field(
        None, description="the client secret, by reference; none: a public client (PKCE only)"
    )
    scopes: list[str] = Field(
        ["openid", "profile"], description="scopes asked for; `openid` is always added"
    )
    groups_claim: str | None = Field(
        None, description="the claim holding groups; none: any of " + ", ".join(GROUP_CLAIMS)
    )
    session_secret: SecretRef = Field(
        description="key signing the session cookie, by reference (32 random bytes or more)"
    )
    session_lifetime: Duration = Field(
        8 * 3600, gt=0, description="a login lasts this long, then the viewer logs in again"
    )
    redirect_uri: str | None = Field(
        None,
        description="the callback URL registered at the provider; none: "
        "`/login/callback` of the address the browser used",
    )

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        return issuer_url(value)


class BearerIssuer(BaseModel):
    """One `[[access.bearer.issuers]]`: an issuer whose JWT access tokens are believed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="issuer URL, compared with the token's `iss` exactly")
    audience: list[str] = Field(
        min_length=1, description="accepted `aud` values: at least one must be in the token"
    )
    jwks_uri: str | None = Field(
        None, description="the issuer's key set; none: from its openid-configuration"
    )
    groups_claim: str | None = Field(
        None, description="the claim holding groups; none: any of " + ", ".join(GROUP_CLAIMS)
    )

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        return issuer_url(value)


class BearerConfig(BaseModel):
    """`[access.bearer]`: API clients authenticate with `Authorization: Bearer <JWT>`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuers: list[BearerIssuer] = Field(
        default_factory=list, description="issuers whose tokens are accepted; none: no bearer JWTs"
    )
    leeway: Duration = Field(
        60, ge=0, le=600, description="clock skew allowed on `exp`, `nbf` and `iat`"
    )

    def issuer(self, iss: str) -> BearerIssuer | None:
        """The configured issuer whose URL is exactly `iss`."""
        return next((i for i in self.issuers if i.issuer == iss), None)


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
        description=f"named groups (`{AUTHENTICATED}` is built in: any verified DN or token)",
    )
    oidc: OidcConfig | None = Field(
        None, description="login with OpenID Connect beside certificates; none: no login page"
    )
    bearer: BearerConfig = Field(
        default_factory=lambda: BearerConfig(),
        description="JWT access tokens accepted from API clients and scripts",
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

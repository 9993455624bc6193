"""Where a module's inputs come from (`Source`), secrets by reference, what arrives (`RawInput`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .durations import Duration
from .errors import ConfigError
from .uploads import check_name, upload_name

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


class SecretRef(BaseModel):
    """A secret named by reference, never written in the configuration itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(None, description="name of the environment variable holding it")
    file: Path | None = Field(None, description="file whose content (stripped) is the secret")

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError('a secret needs exactly one of `env = "NAME"` or `file = "PATH"`')
        return self

    def resolve(self) -> str:
        """The secret's value; a ConfigError says which reference is empty or unreadable."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError([f"environment variable {self.env!r} is not set or empty"])
            return value
        assert self.file is not None
        try:
            return self.file.read_text().strip()
        except OSError as exc:
            raise ConfigError([f"secret file {str(self.file)!r}: {exc.strerror}"]) from exc


class ClientCredentials(BaseModel):
    """OAuth2 client credentials: the source's token comes from a token endpoint (RFC 6749 4.4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str = Field(description="the provider's token endpoint (https)")
    client_id: str = Field(description="the client id registered at the provider")
    client_secret: SecretRef = Field(description="the client secret, by reference")
    scopes: list[str] = Field(default_factory=list, description="scopes asked for")
    audience: str | None = Field(
        None, description="`audience` asked for (WLCG IAM, EGI Check-in, Keycloak)"
    )
    resource: str | None = Field(
        None, description="`resource` indicator asked for (RFC 8707), an absolute URI"
    )

    @field_validator("token_url")
    @classmethod
    def _web_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"{url!r}: a token endpoint is an https:// URL")
        return url


class Source(BaseModel):
    """One input of a module: a URL (http, https, file) or a local path, and how to fetch it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        description="http(s):// URL, file:// URL, a local path, or upload:NAME "
        "for a file pushed to HappyFace"
    )
    timeout: float = Field(30.0, gt=0, description="total deadline of the fetch, in seconds")
    max_bytes: int = Field(DEFAULT_MAX_BYTES, gt=0, description="largest body accepted")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    cert: Path | None = Field(None, description="X.509 client certificate (PEM)")
    key: Path | None = Field(None, description="private key of `cert` (PEM)")
    proxy: Path | None = Field(None, description="grid proxy file holding certificate and key")
    ca_dir: Path | None = Field(
        None, description="hashed CA directory, e.g. /etc/grid-security/certificates"
    )
    ca_file: Path | None = Field(None, description="CA bundle to verify the server with")
    token: SecretRef | None = Field(None, description="bearer token, by reference")
    token_file: Path | None = Field(
        None,
        description="file holding a bearer token (oidc-agent, htgettoken), "
        "read again whenever it changes",
    )
    token_discovery: bool = Field(
        False,
        description="find the bearer token as WLCG Bearer Token Discovery says: "
        "$BEARER_TOKEN, $BEARER_TOKEN_FILE, $XDG_RUNTIME_DIR/bt_u<uid>, /tmp/bt_u<uid>",
    )
    oauth2: ClientCredentials | None = Field(
        None,
        description="get the bearer token by OAuth2 client credentials, "
        "kept until shortly before it expires",
    )
    username: str | None = Field(None, description="user name for basic auth")
    password: SecretRef | None = Field(None, description="password for basic auth, by reference")
    accept_status: list[int] | Literal["any"] | None = Field(
        None,
        description='HTTP statuses besides 2xx whose answer is passed on, e.g. [404], or "any"; '
        "none: any other status is a fetch error",
    )
    max_age: Duration | None = Field(
        None,
        gt=0,
        description="the source is stale when the time its document carries is older than "
        "this; none: the site's `source_max_age`",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if "://" in url and not url.startswith(("http://", "https://", "file://")):
            raise ValueError(f"{url!r}: only http://, https://, file:// or a local path")
        if not url.strip():
            raise ValueError("the URL is empty")
        name = upload_name(url)
        if name is not None:
            check_name(name)
        return url

    @field_validator("accept_status")
    @classmethod
    def _status_codes(cls, codes: list[int] | str | None) -> list[int] | str | None:
        if isinstance(codes, list) and any(not 100 <= c <= 599 for c in codes):
            raise ValueError(f"{codes}: HTTP status codes lie between 100 and 599")
        return codes

    def accepts(self, status: int) -> bool:
        """True when an answer with this HTTP status is passed on rather than a fetch error."""
        if 200 <= status < 300 or self.accept_status == "any":
            return True
        return self.accept_status is not None and status in self.accept_status

    @model_validator(mode="after")
    def _consistent_credentials(self) -> Source:
        if self.key is not None and self.cert is None:
            raise ValueError("`key` given without `cert`")
        if self.proxy is not None and self.cert is not None:
            raise ValueError("give either `proxy` or `cert`/`key`, not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both `username` and `password`")
        ways = [
            name
            for name, given in (
                ("token", self.token is not None),
                ("token_file", self.token_file is not None),
                ("token_discovery", self.token_discovery),
                ("oauth2", self.oauth2 is not None),
                ("username/password", self.username is not None),
            )
            if given
        ]
        if len(ways) > 1:
            raise ValueError(f"give one way to authenticate, not {' and '.join(ways)}")
        return self

    @property
    def is_local(self) -> bool:
        return not self.url.startswith(("http://", "https://"))

    @property
    def local_path(self) -> Path:
        return Path(self.url.removeprefix("file://"))

    def identity(self) -> str:
        """Equal for sources that fetch the same thing the same way, so they are fetched once."""
        return self.model_dump_json()


@dataclass(frozen=True)
class RawInput:
    """What one fetch brought back: the body and where and when it came from."""

    url: str
    content: bytes
    fetched_at: datetime
    content_type: str = ""
    status_code: int = 200
    elapsed: float = 0.0
    #: when the server's TLS certificate expires (https only; None for http, files and mocks)
    tls_not_after: datetime | None = None
    #: the answer's `Server` header, which some services use to tell their version
    server: str = ""

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, with undecodable bytes replaced rather than failing."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError on garbage)."""
        return json.loads(self.content)


Inputs = Mapping[str, RawInput]

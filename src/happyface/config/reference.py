"""The configuration reference, generated from the models so that it can never drift from them."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..durations import parse_duration
from ..rules import Rule
from ..sources import ClientCredentials, SecretRef, Source
from .access import (
    AccessConfig,
    BearerIssuer,
    DnRule,
    GroupConfig,
    OidcConfig,
    TokenSubject,
)
from .alarms import (
    AlarmRule,
    AppriseChannel,
    DowntimeConfig,
    EmailChannel,
    Escalation,
    WebhookChannel,
)
from .model import CategoryConfig, ModuleConfig, UploadConfig
from .settings import SiteSettings

INTRO = """\
# Configuration reference

A site is described by `happyface.toml` and, optionally, more files in `conf.d/` beside it
(read in name order; they may add `[[category]]` and `[[module]]` entries, not `[site]`).
`happyface check` validates everything and reports every problem at once, with the file and
line. Durations are seconds or strings such as `"90s"`, `"15m"`, `"1h30m"`, `"2d"`. Secrets are
never written inline: give `{ env = "NAME" }` or `{ file = "/path" }`.

This page is generated from the code
(`python -m happyface.config.reference > docs/configuration.md`); a test fails when it is out of
date.
"""

SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("[site]", SiteSettings, "The site as a whole."),
    ("[[category]]", CategoryConfig, "A group of modules rolled up into one status."),
    (
        "[[module]]",
        ModuleConfig,
        "An instance of a module type. Its `settings` table holds the "
        "type's own settings: `happyface module-config TYPE` prints them, and docs/modules.md "
        "describes the built-in types.",
    ),
    (
        "a source",
        Source,
        "The value of `source` or of an entry of `sources`: a plain string is "
        "the URL with the site's `fetch_timeout`; a table sets more.",
    ),
    (
        "a source's `oauth2`",
        ClientCredentials,
        "The token of a source from OAuth2 client credentials (WLCG IAM, EGI Check-in, "
        "Keycloak); see docs/deployment.md.",
    ),
    ("a secret", SecretRef, "Used by `token` and `password` of a source and `token` of an upload."),
    (
        "[[upload]]",
        UploadConfig,
        "A file producers push with `POST /upload/NAME` (docs/api.md), written only with one "
        "of its own tokens; `[site.upload]` says where uploads go and how large they may be.",
    ),
    (
        "[access]",
        AccessConfig,
        "Who may see restricted and hidden categories and modules, and how their certificate "
        "DN arrives; see docs/deployment.md.",
    ),
    (
        "[access.groups.NAME]",
        GroupConfig,
        "A named group: a viewer is a member when any of `dns`, `files` or `command` says so "
        "(certificates), or `oidc_groups` or `oidc_subjects` (tokens).",
    ),
    ("a DN rule", DnRule, "An entry of `dns` given as a table, to also require the issuer."),
    ("a token subject", TokenSubject, "An entry of `oidc_subjects`: one person at one issuer."),
    (
        "[access.oidc]",
        OidcConfig,
        "Browser login at an OpenID provider beside certificates; see docs/deployment.md.",
    ),
    (
        "[[access.bearer.issuers]]",
        BearerIssuer,
        "An issuer whose JWT access tokens `/api/v1`, `/upload` and the alarm forms accept.",
    ),
    (
        "[[module.rules]]",
        Rule,
        "A threshold check on a metric, or on each metric of a family named by a glob; it "
        "replaces the type's default rule on the same `metric`, the other defaults still apply "
        "(`default_rules = false` drops them). The worst verdict of all rules and the module's "
        "own status wins; an errored module stays an error.",
    ),
    (
        "[[alarm]]",
        AlarmRule,
        "Which modules or categories raise notifications, on which "
        "confirmed changes, to which channels; or, with `sources`, which sources' data "
        "quality does; see docs/alarms.md.",
    ),
    (
        "[[alarm.escalate]]",
        Escalation,
        "A later stage of an alarm: still not happy this long "
        "after the first notification, tell these channels too.",
    ),
    ('[[channel]] type = "email"', EmailChannel, "Mail through an SMTP server."),
    ('[[channel]] type = "webhook"', WebhookChannel, "A JSON POST to a URL."),
    ('[[channel]] type = "apprise"', AppriseChannel, "Any service Apprise knows by URL."),
    (
        "[[downtime]]",
        DowntimeConfig,
        "A window in which alarms stay silent: one-off "
        "(`start`, `end`), recurring (`every`, `days`, `at`, `duration`) or imported from a "
        "GOCDB-style feed (`feed`, `hosts`). A downtime of a category covers its modules.",
    ),
]


def render() -> str:
    """The whole reference as Markdown."""
    parts = [INTRO]
    for title, model, text in SECTIONS:
        parts.append(f"## {title}\n\n{text}\n")
        parts.append(_table(model, prefix=""))
    return "\n".join(parts)


def _table(model: type[BaseModel], prefix: str) -> str:
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"  # `for`, a Python keyword, is the alias of `for_`
        sub = _nested_model(field)
        if sub is not None:
            nested.append((key, sub))
            rows.append(f"| `{key}` | table | | {field.description or ''} (below) |")
            continue
        rows.append(
            f"| `{key}` | {_type_name(field)} | {_default(field)} | {field.description or ''} |"
        )
    text = "\n".join(rows) + "\n"
    for key, sub in nested:
        text += f"\n### `{key}`\n\n{sub.__doc__ or ''}\n\n" + _table(sub, prefix=f"{key}.")
    return text


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _type_name(field: FieldInfo) -> str:
    if any(getattr(m, "func", None) is parse_duration for m in field.metadata):
        return "duration"
    annotation: Any = field.annotation
    origin = get_origin(annotation)
    if origin in (dict, list):
        return "table" if origin is dict else "array"
    args = get_args(annotation)
    if args and all(isinstance(a, str) for a in args):  # a Literal
        return " \\| ".join(f'`"{a}"`' for a in args)
    names = [_plain_name(a) for a in args if a is not type(None)] if args else []
    return " or ".join(names) if names else _plain_name(annotation)


def _plain_name(annotation: Any) -> str:
    if any(
        getattr(m, "func", None) is parse_duration for m in getattr(annotation, "__metadata__", ())
    ):
        return "duration"  # an optional duration
    name = getattr(annotation, "__name__", None) or str(annotation)
    return {
        "str": "string",
        "float": "number",
        "int": "integer",
        "bool": "boolean",
        "Path": "path",
        "list": "array",
        "Source": "table (a source)",
        "SecretRef": "table (a secret)",
        "ClientCredentials": "table (below)",
        "OidcConfig": "table (below)",
    }.get(name, name)


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel) or value in (None, {}, []):
        return ""
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"`{value}`"


if __name__ == "__main__":
    print(render(), end="")

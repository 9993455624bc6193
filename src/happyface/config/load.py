"""Loading the site configuration: `happyface.toml` and `conf.d/*.toml`, all problems at once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import ConfigError, PluginError
from ..module import Module, ModuleSettings
from ..plugins import Registry
from ..retired import retired_problems
from ..rules import combined
from ..sources import SecretRef, Source
from ..suggest import did_you_mean, field_names
from ..uploads import upload_name
from .access import AccessConfig
from .alarms import (
    AlarmConfig,
    AlarmRule,
    ChannelEntry,
    DowntimeConfig,
    downtime_problems,
    reference_problems,
)
from .lines import array_table_lines
from .model import CategoryConfig, ModuleConfig, UploadConfig
from .settings import SiteSettings
from .site import ModuleInstance, Site

CONFIG_NAME = "happyface.toml"
_TOP_LEVEL = {"site", "category", "module", "alarm", "channel", "downtime", "access", "upload"}
M = TypeVar("M", bound=BaseModel)


@dataclass
class _Document:
    """One parsed TOML file and the text it came from, to point problems at lines."""

    path: Path
    text: str
    data: dict[str, Any]

    @cached_property
    def _header_lines(self) -> dict[str, list[int]]:
        return array_table_lines(self.text)

    def line_of(self, table: str, index: int) -> int | None:
        """The line of the index-th `[[table]]` header, where that entry starts."""
        lines = self._header_lines.get(table, [])
        return lines[index] if 0 <= index < len(lines) else None

    def line_of_table(self, table: str) -> int | None:
        """The line of the `[table]` header, if the table is written as one."""
        header = self._table_header(table)
        return self.text.count("\n", 0, header.start()) + 1 if header else None

    def _table_header(self, table: str) -> re.Match[str] | None:
        return re.search(rf"^[ \t]*\[[ \t]*{re.escape(table)}[ \t]*\]", self.text, re.MULTILINE)

    def line_of_key(self, table: str, key: str) -> int | None:
        """The line where `key = ...` is written in the `[table]` table, if it is."""
        header = self._table_header(table)
        if header is None:
            return None
        after = self.text[header.end() :]
        next_table = re.search(r"^[ \t]*\[", after, re.MULTILINE)
        body = after[: next_table.start()] if next_table else after
        found = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", body, re.MULTILINE)
        if found is None:
            return None
        return self.text.count("\n", 0, header.end() + found.start()) + 1

    def where(self, table: str, index: int, entry: object) -> str:
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        line = self.line_of(table, index)
        place = f"{self.path}:{line}" if line else str(self.path)
        name = f" ({entry_id!r})" if entry_id else ""
        return f"{place}: {table}[{index}]{name}"


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def add_validation(
        self,
        where: str,
        error: ValidationError,
        prefix: str = "",
        model: type[BaseModel] | None = None,
    ) -> None:
        for detail in error.errors():
            self.add_detail(where, detail, prefix, model)

    def add_detail(
        self,
        where: str,
        detail: ErrorDetails,
        prefix: str = "",
        model: type[BaseModel] | None = None,
    ) -> None:
        key = ".".join(str(p) for p in (prefix, *detail["loc"]) if p != "")
        text = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden" and detail["loc"]:
            *path, unknown = detail["loc"]
            known = field_names(model, path) if model is not None else []
            text = f"unknown setting{did_you_mean(str(unknown), known)}"
        self.add(where, f"{key}: {text}" if key else text)


def find_config(path: Path) -> Path:
    """The config file: PATH itself, or PATH/happyface.toml when PATH is a folder."""
    return path / CONFIG_NAME if path.is_dir() else path


def load_site(path: Path, registry: Registry | None = None, *, check_sources: bool = False) -> Site:
    """Read, validate and assemble a site; a ConfigError lists every problem found.

    With `check_sources` (`happyface check`), a local source must also exist now: a web address
    written without its scheme is read as a path and would otherwise fail only at run time.
    """
    registry = registry if registry is not None else Registry()
    config_path = find_config(Path(path))
    problems = _Problems()
    documents = _read_documents(config_path, problems)
    if problems.items:
        raise ConfigError(problems.items)
    site = _assemble(config_path, documents, registry, problems, check_sources)
    if problems.items or site is None:
        raise ConfigError(problems.items)
    return site


def _read_documents(config_path: Path, problems: _Problems) -> list[_Document]:
    if not config_path.is_file():
        problems.add(str(config_path), "no such file; create one with `happyface init DIR`")
        return []
    paths = [config_path, *sorted((config_path.parent / "conf.d").glob("*.toml"))]
    documents = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            documents.append(_Document(path, text, tomllib.loads(text)))
        except tomllib.TOMLDecodeError as exc:
            problems.add(str(path), f"TOML syntax error: {_located(exc)}")
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(str(path), f"cannot be read: {exc}")
    return documents


def _located(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib says "(at line 3, column 7)"; put the line first where a reader looks for it."""
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if not match:
        return str(exc)
    message = str(exc)[: match.start()].strip()
    return f"line {match.group(1)}, column {match.group(2)}: {message}"


def _assemble(
    config_path: Path,
    documents: list[_Document],
    registry: Registry,
    problems: _Problems,
    check_sources: bool = False,
) -> Site | None:
    main = documents[0]
    for doc in documents:
        for key in sorted(set(doc.data) - _TOP_LEVEL):
            problems.add(
                str(doc.path),
                f"unknown table {key!r}{did_you_mean(key, _TOP_LEVEL)}; expected [site], "
                "[[category]], [[module]], [[alarm]], [[channel]], [[downtime]], [[upload]] "
                "or [access]",
            )
        for table in ("site", "access"):
            if doc is not main and table in doc.data:
                problems.add(str(doc.path), f"[{table}] belongs in the main happyface.toml only")
    settings = _site_settings(main, problems)
    categories = _entries(documents, "category", CategoryConfig, problems)
    modules = _entries(documents, "module", ModuleConfig, problems)
    _check_unique(categories, "category", problems)
    _check_unique(modules, "module", problems)
    known_categories = {c.id for c, _ in categories}
    built = [
        (inst, where)
        for config, where in modules
        if (inst := _instance(config, where, settings, known_categories, registry, problems))
    ]
    alarms = _alarms(documents, [m.id for m, _ in modules], list(known_categories), problems)
    access = _access(main, [*categories, *modules], problems)
    uploads = _uploads(documents, access, problems)
    if settings is None:
        return None
    _check_shift_mail(main, settings.shifts.mail, {c.id for c in alarms.channels}, problems)
    root = config_path.parent.resolve()
    if check_sources:
        for instance, where in built:
            _check_local_sources(instance.config, where, root, problems)
    return Site(
        settings=settings,
        root=root,
        categories=tuple(sorted((c for c, _ in categories), key=lambda c: c.order)),
        modules=tuple(inst for inst, _ in built),
        alarms=alarms,
        access=access,
        uploads=uploads,
    )


def _check_shift_mail(
    doc: _Document, mail: list[str], channels: set[str], problems: _Problems
) -> None:
    """Every channel the handover digest is mailed to must be a `[[channel]]`."""
    line = doc.line_of_key("site.shifts", "mail")
    where = f"{doc.path}:{line}" if line else str(doc.path)
    for name in mail:
        if name not in channels:
            known = ", ".join(sorted(channels)) or "none"
            problems.add(
                where,
                f"site.shifts.mail: channel {name!r} does not exist (channels: {known})"
                f"{did_you_mean(name, channels)}",
            )


def _access(
    doc: _Document, items: list[tuple[CategoryConfig | ModuleConfig, str]], problems: _Problems
) -> AccessConfig:
    """The `[access]` table, and every `allow` checked against its groups."""
    access = AccessConfig()
    try:
        access = AccessConfig.model_validate(doc.data.get("access", {}))
    except ValidationError as exc:
        problems.add_validation(str(doc.path), exc, prefix="access", model=AccessConfig)
    for name in access.unknown_groups(access.default_allow):
        problems.add(str(doc.path), f"access.default_allow: no group {name!r} in [access.groups]")
    for item, where in items:
        for name in access.unknown_groups(item.allow):
            known = ", ".join(["authenticated", *access.groups])
            problems.add(where, f"allow: no group {name!r} in [access.groups] (known: {known})")
    return access


def _alarms(
    documents: list[_Document], modules: list[str], categories: list[str], problems: _Problems
) -> AlarmConfig:
    """The `[[alarm]]`, `[[channel]]` and `[[downtime]]` entries, their references checked."""
    rules = _entries(documents, "alarm", AlarmRule, problems)
    channels = _entries(documents, "channel", ChannelEntry, problems)
    downtimes = _entries(documents, "downtime", DowntimeConfig, problems)
    for table, entries in (("alarm", rules), ("channel", channels), ("downtime", downtimes)):
        _check_unique(entries, table, problems)
    channel_ids = {c.id for c, _ in channels}
    for rule, where in rules:
        for problem in reference_problems(rule, channel_ids, modules, categories):
            problems.add(where, problem)
    for downtime, where in downtimes:
        for problem in downtime_problems(downtime, modules, categories):
            problems.add(where, problem)
    return AlarmConfig(
        alarms=tuple(r for r, _ in rules),
        channels=tuple(c.root for c, _ in channels),
        downtimes=tuple(d for d, _ in downtimes),
    )


def _uploads(
    documents: list[_Document], access: AccessConfig, problems: _Problems
) -> tuple[UploadConfig, ...]:
    """The `[[upload]]` entries, each name once, their `groups` known ones."""
    entries = _entries(documents, "upload", UploadConfig, problems)
    seen: dict[str, str] = {}
    for entry, where in entries:
        for name in access.unknown_groups(entry.groups):
            problems.add(where, f"groups: no group {name!r} in [access.groups]")
        if entry.name in seen:
            problems.add(where, f"upload {entry.name!r} is already declared at {seen[entry.name]}")
        seen.setdefault(entry.name, where)
    return tuple(e for e, _ in entries)


def _shared_upload_token(doc: _Document, table: dict[str, Any], problems: _Problems) -> None:
    """Refuse the one token for every upload name that `[site.upload]` used to take."""
    upload = table.get("upload")
    if not isinstance(upload, dict) or "token" not in upload:
        return
    ref = upload["token"]
    written = (
        "{ " + ", ".join(f'{k} = "{v}"' for k, v in ref.items()) + " }"
        if isinstance(ref, dict)
        else '{ env = "NAME" }'
    )
    problems.add(
        str(doc.path),
        "site.upload.token: one token for every upload is no longer accepted, as it let any "
        "producer overwrite any other's file; declare each upload with its own token instead: "
        f'[[upload]] name = "jobs.xml" token = {written} (one [[upload]] per name)',
    )


def _site_settings(doc: _Document, problems: _Problems) -> SiteSettings | None:
    table = doc.data.get("site")
    if not isinstance(table, dict):
        problems.add(str(doc.path), '[site] is missing; it needs at least `title = "..."`')
        return None
    _shared_upload_token(doc, table, problems)
    if isinstance(table.get("upload"), dict):
        table = {**table, "upload": {k: v for k, v in table["upload"].items() if k != "token"}}
    try:
        return SiteSettings.model_validate(table)
    except ValidationError as exc:
        for detail in exc.errors():
            *tables, key = ["site", *(str(p) for p in detail["loc"])]
            table_name = ".".join(tables)
            # a missing key has no line of its own: point at its table instead
            line = doc.line_of_key(table_name, key) or doc.line_of_table(table_name)
            where = f"{doc.path}:{line}" if line else str(doc.path)
            problems.add_detail(where, detail, "site", SiteSettings)
        return None


def _entries(
    documents: list[_Document], table: str, model: type[M], problems: _Problems
) -> list[tuple[M, str]]:
    """Every `[[table]]` of every file validated as `model`, with where it was written."""
    entries: list[tuple[M, str]] = []
    for doc in documents:
        raw = doc.data.get(table, [])
        if not isinstance(raw, list):
            problems.add(str(doc.path), f"`{table}` must be written as [[{table}]] tables")
            continue
        for index, entry in enumerate(raw):
            where = doc.where(table, index, entry)
            try:
                entries.append((model.model_validate(entry), where))
            except ValidationError as exc:
                problems.add_validation(where, exc, model=model)
    return entries


def _check_unique(entries: list[tuple[Any, str]], table: str, problems: _Problems) -> None:
    seen: dict[str, str] = {}
    for entry, where in entries:
        if entry.id in seen:
            problems.add(where, f"{table} id {entry.id!r} is already used at {seen[entry.id]}")
        seen.setdefault(entry.id, where)


def _instance(
    config: ModuleConfig,
    where: str,
    settings: SiteSettings | None,
    categories: set[str],
    registry: Registry,
    problems: _Problems,
) -> ModuleInstance | None:
    """The module object for one instance, or None after reporting why it cannot be built."""
    if config.category not in categories:
        known = ", ".join(sorted(categories)) or "none defined"
        hint = did_you_mean(config.category, categories)
        problems.add(
            where, f"category {config.category!r} does not exist{hint}; categories: {known}"
        )
    try:
        module_type = registry.get(config.type)
    except PluginError as exc:
        problems.add(where, str(exc))
        return None
    type_settings = _type_settings(config, module_type, where, problems)
    if type_settings is None:
        return None
    timeout = settings.fetch_timeout if settings is not None else 30.0
    sources = config.named_sources(timeout)
    missing = [n for n in module_type.source_names if n not in sources]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        hint = 'source = "https://..."' if missing == ["main"] else f"sources.{missing[0]} = ..."
        problems.add(where, f"type {config.type!r} needs the source(s) {names}; add `{hint}`")
        return None
    _check_secrets(sources, where, problems)
    try:
        module = module_type(type_settings, sources)
    except Exception as exc:  # a type may reject a combination of settings in its constructor
        problems.add(where, f"type {config.type!r} rejects these settings: {exc}")
        return None
    rules = combined(
        config.rules or (), module_type.default_rules, config.default_rules, module.units()
    )
    return ModuleInstance(config=config, module=module, rules=rules)


def _type_settings(
    config: ModuleConfig, module_type: type[Module[Any]], where: str, problems: _Problems
) -> ModuleSettings | None:
    """The instance's validated settings, or None after reporting why they are not valid."""
    retired = retired_problems(
        config.type, module_type.retired_settings, config.settings, module_type.default_rules
    )
    for problem in retired:
        problems.add(where, problem)
    if retired:
        return None
    try:
        return module_type.Settings.model_validate(config.settings)
    except ValidationError as exc:
        problems.add_validation(where, exc, prefix="settings", model=module_type.Settings)
        return None


def _check_secrets(sources: dict[str, Source], where: str, problems: _Problems) -> None:
    for name, source in sources.items():
        grant = source.oauth2.client_secret if source.oauth2 is not None else None
        for ref in (source.token, source.password, grant):
            if isinstance(ref, SecretRef):
                try:
                    ref.resolve()
                except ConfigError as exc:
                    problems.add(where, f"sources.{name}: {exc.problems[0]}")


def _check_local_sources(config: ModuleConfig, where: str, root: Path, problems: _Problems) -> None:
    """Report each local source of a module that does not exist (a URL missing its scheme)."""
    for name, source in config.named_sources(30.0).items():
        if not source.is_local or upload_name(source.url) is not None:
            continue
        path = source.local_path.expanduser()
        if (path if path.is_absolute() else root / path).exists():
            continue
        looks_web = "/" in source.url and "." in source.url.split("/", 1)[0]
        hint = f"; write `https://{source.url}` for a web address" if looks_web else ""
        problems.add(
            where,
            f"sources.{name}: {source.url!r} is neither a URL with a scheme (https://...) nor "
            f"an existing file{hint}",
        )

"""Group membership: DNs in the config, DN files re-read when they change, an authoriser command;
for a token's person, the groups its claims list and their issuer and subject."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ...config.access import AUTHENTICATED, AccessConfig, DnRule, GroupConfig
from ...dn import DN, DnError
from .claims import TokenIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """Who sent a request: the verified subject DN and, when known, its issuer's DN."""

    subject: DN
    issuer: DN | None = None


@dataclass(frozen=True)
class MemberRule:
    """One member entry: a subject, and the issuer it must come from when given."""

    subject: DN
    issuer: DN | None = None

    def matches(self, who: Identity) -> bool:
        if who.subject != self.subject:
            return False
        return self.issuer is None or self.issuer == who.issuer


def rule_of(entry: str | DnRule) -> MemberRule:
    """A MemberRule from a config entry: a DN string or a `{ subject, issuer }` table."""
    if isinstance(entry, str):
        return MemberRule(DN.parse(entry))
    issuer = DN.parse(entry.issuer) if entry.issuer else None
    return MemberRule(DN.parse(entry.subject), issuer)


def parse_line(line: str) -> MemberRule | None:
    """A rule from one line of a DN file; None for blanks and comments.

    A line is a DN, or `"subject" "issuer"` quoted; a grid-mapfile line `"subject" account`
    works too (the account is ignored).
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if not text.startswith('"'):
        return MemberRule(DN.parse(text))
    parts = shlex.split(text, comments=True)
    issuer = DN.parse(parts[1]) if len(parts) > 1 and _quoted_second(text) else None
    return MemberRule(DN.parse(parts[0]), issuer)


def _quoted_second(text: str) -> bool:
    rest = text[text.index('"', 1) + 1 :].lstrip()
    return rest.startswith('"')


class DnFile:
    """A file of DNs, read again whenever its modification time or size changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._rules: tuple[MemberRule, ...] = ()
        self._lock = threading.Lock()

    def rules(self) -> tuple[MemberRule, ...]:
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
            with self._lock:
                if stamp != self._stamp:
                    self._rules = self._read()
                    self._stamp = stamp
                return self._rules
        except OSError as exc:
            # a missing or unreadable file grants nothing; said once, not on every request
            if self._stamp != (-1, -1):
                log.warning("DN file %s cannot be read: %s", self.path, exc)
                self._stamp, self._rules = (-1, -1), ()
            return ()

    def _read(self) -> tuple[MemberRule, ...]:
        rules = []
        text = self.path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            try:
                rule = parse_line(line)
            except (DnError, ValueError) as exc:
                log.warning("%s:%d: skipped, not a DN: %s", self.path, number, exc)
                continue
            if rule is not None:
                rules.append(rule)
        log.info("DN file %s: %d entries", self.path, len(rules))
        return tuple(rules)


class Authoriser:
    """An external command asked about one DN; its answer is cached, failure means no."""

    def __init__(
        self,
        command: list[str],
        ttl: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command = command
        self.ttl = ttl
        self.timeout = timeout
        self._clock = clock
        self._answers: dict[Identity, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def allows(self, who: Identity) -> bool:
        now = self._clock()
        with self._lock:
            cached = self._answers.get(who)
        if cached is not None and now < cached[0]:
            return cached[1]
        answer = self._ask(who)
        with self._lock:
            self._answers[who] = (now + self.ttl, answer)
        return answer

    def _ask(self, who: Identity) -> bool:
        env = {
            **os.environ,
            "HAPPYFACE_SUBJECT_DN": str(who.subject),
            "HAPPYFACE_ISSUER_DN": str(who.issuer) if who.issuer else "",
        }
        try:
            done = subprocess.run(
                [*self.command, str(who.subject)],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.warning("authoriser %s timed out for %s: denied", self.command[0], who.subject)
            return False
        except OSError as exc:
            log.error("authoriser %s cannot run: %s; denied", self.command[0], exc)
            return False
        return done.returncode == 0


class Group:
    """One named group: its rules from the config and files, an optional authoriser, and the
    token groups and subjects of its members."""

    def __init__(self, config: GroupConfig, root: Path) -> None:
        self.token_groups = frozenset(config.oidc_groups)
        self.token_subjects = frozenset((s.issuer, s.subject) for s in config.oidc_subjects)
        self.rules = tuple(rule_of(e) for e in config.dns)
        self.files = tuple(DnFile(p if p.is_absolute() else root / p) for p in config.files)
        self.authoriser = (
            Authoriser(config.command, config.command_cache, config.command_timeout)
            if config.command
            else None
        )

    def has(self, who: Identity | TokenIdentity) -> bool:
        if isinstance(who, TokenIdentity):
            return bool(who.groups & self.token_groups) or (
                (who.issuer, who.subject) in self.token_subjects
            )
        if any(r.matches(who) for r in self.rules):
            return True
        if any(r.matches(who) for f in self.files for r in f.rules()):
            return True
        return self.authoriser is not None and self.authoriser.allows(who)


class Groups:
    """Every configured group; which of them an identity belongs to."""

    def __init__(self, config: AccessConfig, root: Path) -> None:
        self.groups: Mapping[str, Group] = {
            name: Group(g, root) for name, g in config.groups.items()
        }

    def of(
        self, who: Identity | TokenIdentity | None, only: Iterable[str] | None = None
    ) -> frozenset[str]:
        """The groups of `who` (the built-in one included); nothing for an anonymous viewer."""
        if who is None:
            return frozenset()
        names = self.groups if only is None else [n for n in only if n in self.groups]
        return frozenset([AUTHENTICATED, *(n for n in names if self.groups[n].has(who))])

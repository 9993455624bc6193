"""The text of a notification: what happened, the module's instruction and a link to that time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from ..config.alarms import Event
from ..instants import format_at
from .records import Message, Subject

_WHAT = {
    Event.UNHAPPY: "is unhappy",
    Event.ERROR: "is in error (fetching or reading its data fails)",
    Event.STALE: "is stale (its own time is too old, or in the future)",
    Event.UNREACHABLE: "is unreachable (connection, TLS, HTTP or time-out failure)",
    Event.UNPARSEABLE: "cannot be read (not the format its modules expect)",
    Event.FORMAT_CHANGED: "changed its format (parts its modules read are gone)",
    Event.RECOVERY: "has recovered",
    Event.FLAPPING: "is flapping (changing often); further changes are not reported one by one",
    Event.ESCALATION: "is still not happy; escalated",
    Event.REMINDER: "is still not happy (reminder)",
}


@dataclass(frozen=True)
class About:
    """What a message says about its subject, looked up in the site configuration."""

    subject: Subject
    title: str
    category_id: str
    instruction: str = ""
    status_message: str = ""
    level: str = ""


def category_link(base_url: str, category_id: str, at: datetime, anchor: str = "") -> str:
    """The category page at a run: `{base_url}/category/<id>?at=<the run's start>`.

    The time is the run's start as stored, fractions of a second included, which the time
    machine resolves to exactly that run (the newest run started at or before it).
    """
    query = urlencode({"at": format_at(at)}, safe=":")
    url = f"{base_url.rstrip('/')}/category/{quote(category_id)}?{query}"
    return url + (f"#{quote(anchor)}" if anchor else "")


def source_link(base_url: str, key: str, at: datetime) -> str:
    """The source's page at a run: `{base_url}/source/<key>?at=<the run's start>`."""
    query = urlencode({"at": format_at(at)}, safe=":")
    return f"{base_url.rstrip('/')}/source/{quote(key)}?{query}"


def _link(base_url: str, about: About, at: datetime) -> str:
    if about.subject.kind == "source":
        return source_link(base_url, about.subject.id, at)
    anchor = about.subject.id if about.subject.kind == "module" else ""
    return category_link(base_url, about.category_id, at, anchor)


def compose(
    site_title: str, base_url: str, about: About, event: Event, alarm_id: str, run_time: datetime
) -> Message:
    """The title, body and link of one notification."""
    link = _link(base_url, about, run_time)
    name = f"{about.title} ({about.subject})"
    state = f" [{about.level}]" if event in (Event.ESCALATION, Event.REMINDER) else ""
    title = f"[{site_title}] {name}: {event.value}{state}"
    when = run_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"{name} {_WHAT[event]}, as of the run at {when}."]
    if about.status_message:
        lines.append(f"Status message: {about.status_message}")
    if about.instruction and event is not Event.RECOVERY:
        lines += ["", "What to do:", about.instruction]
    lines += ["", f"View: {link}", f"Alarm: {alarm_id}"]
    return Message(title=title, body="\n".join(lines), link=link)

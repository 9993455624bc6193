"""The handover digest as plain text: the body of the mail sent when a shift begins."""

from __future__ import annotations

from datetime import datetime

from .handover_data import HandoverDigest, Stretch


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _stretch(s: Stretch, with_until: bool) -> str:
    until = f" to {_clock(s.until)}" if with_until and s.until else ""
    where = f" in {s.category}" if s.category else ""
    message = f": {s.message}" if s.message else ""
    return (
        f"- {s.status.word}: {s.title}{where}, from {_clock(s.since)}{until}, {s.duration}{message}"
    )


def digest_text(digest: HandoverDigest, link: str) -> str:
    """Every section of the digest, one line per item, the empty ones said in a word."""
    lines = [
        f"What happened from {_clock(digest.since)} to {_clock(digest.until)}.",
        f"{digest.counts.text}.",
        "",
    ]

    def section(title: str, items: list[str], empty: str) -> None:
        lines.extend([f"{title} ({len(items)})", *(items or [f"  {empty}"]), ""])

    section(
        "Shift notes",
        [f"- {n.author}, {_clock(n.written_at)}: {n.text}" for n in digest.notes],
        "none",
    )
    section("Still open", [_stretch(s, False) for s in digest.still_open], "nothing")
    section("Started", [_stretch(s, True) for s in digest.started], "none")
    section("Ended", [_stretch(s, True) for s in digest.ended], "none")
    section(
        "Acknowledgements",
        [
            f"- {a.title} by {a.user} at {_clock(a.created_at)}: {a.comment}"
            + (f" (expires {_clock(a.expires_at)})" if a.expires_at else "")
            for a in digest.acknowledgements
        ],
        "none",
    )
    section(
        "Downtimes",
        [
            f"- began {_clock(d.start)}: {', '.join(d.covers)} {d.description}".rstrip()
            for d in digest.downtimes_started
        ]
        + [
            f"- ended {_clock(d.end)}: {', '.join(d.covers)} {d.description}".rstrip()
            for d in digest.downtimes_ended
        ],
        "none began or ended",
    )
    section(
        "Sources not fresh",
        [f"- {s.key}: {s.state} since {_clock(s.since)}" for s in digest.sources],
        "every source is fresh",
    )
    more = f"- and {digest.changes_more} smaller" if digest.changes_more else ""
    section(
        "What changed",
        [
            f"- {c.module} · {c.metric}: {c.kind} {c.direction} {c.before} → {c.after} "
            f"at {_clock(c.at)}"
            for c in digest.changes
        ]
        + ([more] if more else []),
        "no change found",
    )
    lines.append(link)
    return "\n".join(lines) + "\n"

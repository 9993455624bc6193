"""A simulated site news feed and a computing-element status document."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from .signals import level, rng, slot, wave

_ROUTINE = [
    (
        "Scheduled downtime of the tape library",
        "The tape library is in maintenance on Tuesday, "
        "08:00 to 12:00 UTC. Staging requests are queued and served afterwards.",
    ),
    ("Worker nodes moved to EL9", "Another 400 worker nodes now run EL9 with cgroups v2."),
    (
        "New disk servers in production",
        "2.4 PB of new disk were added to the <b>CMS</b> and <b>ATLAS</b> dCache instances.",
    ),
    ("Kernel updates on the login nodes", "The login nodes reboot one at a time during the day."),
    ("HTCondor upgraded to 23.0", "The central managers run HTCondor 23.0 LTS."),
]
_OUTAGE = (
    "Outage of the xrootd doors",
    "The xrootd doors of the CMS dCache instance are "
    'unreachable; experts are working on it. <a href="https://ggus.example/1234">GGUS</a>',
)


def news_rss(now: datetime) -> bytes:
    """An RSS 2.0 feed whose entries are dated relative to `now`; some hours report an outage."""
    r = rng(now, "news")
    items = []
    for i, (title, text) in enumerate(_ROUTINE):
        published = now - timedelta(hours=9 + i * 31 + r.randint(0, 5))
        items.append(_item(title, text, published, f"routine-{slot(now) // 96 - i}"))
    if (slot(now) // 8) % 3 == 0:  # two hours in every six
        items.insert(0, _item(*_OUTAGE, now - timedelta(minutes=20), f"outage-{slot(now) // 8}"))
    channel = (
        "<title>GridKa announcements (demo)</title><link>https://www.gridka.example/news/</link>"
        "<description>Announcements for users of the simulated Tier-1</description>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>{channel}\n'
        + "\n".join(items)
        + "\n</channel></rss>\n"
    ).encode()


def _item(title: str, html: str, published: datetime, guid: str) -> str:
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://www.gridka.example/news/{guid}</link><guid>{guid}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(html)}</description></item>"
    )


def ce_status_json(now: datetime) -> bytes:
    """Computing-element status in a home-grown JSON format, for the `json_value` demo."""
    elements = []
    for n in range(1, 4):
        running = round(level(now, 4000, 0.2, 6.0, "ce", n))
        draining = n == 3 and wave(now, 12.0) > 0.5
        elements.append(
            {
                "name": f"arc-{n}-kit.gridka.example",
                "state": "draining" if draining else "production",
                "running": 0 if draining else running,
                "queued": round(level(now, 200, 0.9, 3.0, "ceq", n)),
                "healthy": not draining,
            }
        )
    hit_ratio = 0.85 + 0.1 * wave(now, 1.0) - rng(now, "squid").uniform(0, 0.05)
    return json.dumps(
        {
            "site": "FZK-LCG2-DEMO",
            "updated": now.isoformat(),
            "computing_elements": elements,
            "squid": {
                "hit_ratio": round(hit_ratio, 3),
                "clients": rng(now, "sq").randint(300, 500),
            },
        },
        indent=1,
    ).encode()

"""Other HappyFace instances the demo site watches (meta²-monitoring): their `/api/v1/status`.

Each simulated instance names its categories its own way, as real sites do; the demo's `happyface`
modules map them onto common columns, so that `/matrix` has rows to line up.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .signals import rng, wave

#: instance -> (title, its categories: id, title, how often it has a problem)
INSTANCES: dict[str, tuple[str, tuple[tuple[str, str, float], ...]]] = {
    "desy": (
        "HappyFace T2_DE_DESY",
        (
            ("batch", "Batch system", 0.10),
            ("dcache", "dCache", 0.20),
            ("network", "Network and services", 0.05),
        ),
    ),
    "rwth": (
        "HappyFace T2_DE_RWTH",
        (
            ("condor", "HTCondor pool", 0.15),
            ("storage", "Storage", 0.10),
            ("frontier", "Squid and Frontier", 0.30),
        ),
    ),
}


def status_json(instance: str, now: datetime) -> bytes:
    """The instance's `/api/v1/status` answer at `now`: its newest run a few minutes ago."""
    title, categories = INSTANCES[instance]
    run_time = now - timedelta(minutes=3)
    document = {
        "title": title,
        "url": f"https://happyface.{instance}.example/",
        "stale": False,
        "run": {"id": int(run_time.timestamp() // 900), "started_at": run_time.isoformat()},
        "categories": [
            {
                "id": category,
                "title": name,
                "status": _status(now, instance, category, trouble),
                "url": f"https://happyface.{instance}.example/category/{category}",
            }
            for category, name, trouble in categories
        ],
    }
    return json.dumps(document).encode()


def _status(now: datetime, instance: str, category: str, trouble: float) -> str:
    """Mostly happy; a problem or a warning in some slots, more often at the day's busy hours."""
    draw = rng(now, "instance", instance, category).random()
    busy = 1.0 + 0.5 * wave(now, 24.0)
    if draw < trouble * busy * 0.4:
        return "unhappy"
    if draw < trouble * busy:
        return "neutral"
    return "happy"

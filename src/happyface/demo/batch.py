"""Simulated batch systems: jobinfo XML for two sites and an HTCondor `condor_q -json` dump."""

from __future__ import annotations

import json
import random
from datetime import datetime
from xml.sax.saxutils import escape

from .signals import level, rng, wave

# (group, parent, base job count, share running); a Tier-1's VO groups and their sub-groups
SITES: dict[str, list[tuple[str, str, float, float]]] = {
    "gridka": [
        ("cms", "", 0, 0),
        ("cmsprd", "cms", 1200, 0.85),
        ("cmsuser", "cms", 350, 0.6),
        ("atlas", "", 0, 0),
        ("atlasprd", "atlas", 2000, 0.85),
        ("atlasuser", "atlas", 300, 0.7),
        ("lhcb", "", 0, 0),
        ("lhcbprd", "lhcb", 600, 0.9),
        ("alice", "", 650, 0.9),
        ("ops", "", 4, 0.75),
    ],
    "t1_us": [
        ("cms", "", 0, 0),
        ("cmsprd", "cms", 2600, 0.88),
        ("cmsuser", "cms", 800, 0.65),
        ("cmspilot", "cms", 400, 0.95),
        ("ops", "", 3, 0.7),
    ],
}
#: jobs listed per group: the producer lists a sample, the summaries hold the counts
SAMPLE = 40
#: at GridKa the inefficient atlasprd jobs come from one stuck workflow of one production user,
#: which a shifter following the module's instruction finds in the job table
STUCK = ("gridka", "atlasprd", "atlasprd017")


def _inefficient_share(now: datetime, site: str, group: str) -> float:
    # Mostly healthy; atlasprd at GridKa has a recurring bad workflow so the demo shows a rating.
    bad = max(0.0, wave(now, 5.0, 0.2)) * 0.7 if (site, group) == ("gridka", "atlasprd") else 0.0
    return min(0.02 + 0.03 * abs(wave(now, 3.0, len(group) / 10)) + bad, 0.95)


def _counts(now: datetime, site: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for group, _parent, base, share in SITES[site]:
        if not base:
            counts[group] = {"jobs": 0, "running": 0, "pending": 0, "held": 0, "ratio10": 0}
            continue
        jobs = round(level(now, base, 0.25, 6.0, site, group))
        running = round(jobs * share)
        held = rng(now, site, group, "held").randint(0, max(jobs // 100, 1))
        ratio10 = round(running * _inefficient_share(now, site, group))
        counts[group] = {
            "jobs": jobs,
            "running": running,
            "pending": max(jobs - running - held, 0),
            "held": min(held, jobs - running),
            "ratio10": ratio10,
        }
    for group, parent, _, _ in SITES[site]:  # parents hold the sums of their children
        if parent:
            for key, value in counts[group].items():
                counts[parent][key] += value
    return counts


def jobinfo_xml(site: str, now: datetime) -> bytes:
    """The jobinfo XML of `site` ("gridka" or "t1_us") at `now`."""
    counts = _counts(now, site)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<jobinfo>",
        "  <header>",
        f"    <date>{int(now.timestamp()) - 180}</date>",
        f"    <host>batch-collector.{site}.example</host>",
        "  </header>",
    ]
    for index, (group, _parent, base, _share) in enumerate(SITES[site]):
        if base:  # parents only sum their children; the producer lists jobs of leaf groups
            lines.append(f'  <jobs group="{group}">')
            lines += _detail_jobs(
                now, site, group, counts[group], first_id=4_700_000 + index * 1000
            )
            lines.append("  </jobs>")
    lines.append("  <summaries>")
    for group, parent, _, _ in SITES[site]:
        c = counts[group]
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in c.items())
        lines.append(f'    <summary group="{group}" parent="{parent}">{fields}</summary>')
    lines += ["  </summaries>", "</jobinfo>"]
    return ("\n".join(lines) + "\n").encode()


def _detail_jobs(
    now: datetime, site: str, group: str, c: dict[str, int], first_id: int
) -> list[str]:
    r = rng(now, site, "jobs", group)
    lines = []
    for i in range(min(c["jobs"], SAMPLE)):
        state = r.choices(
            ["running", "pending", "held"], [c["running"], c["pending"], c["held"] + 0.1]
        )[0]
        wall = r.randint(600, 40 * 3600) if state == "running" else 0
        stuck = r.random() < _inefficient_share(now, site, group)
        eff = r.uniform(0.0, 0.08) if stuck else r.uniform(0.6, 0.99)
        user = STUCK[2] if stuck and (site, group) == STUCK[:2] else f"{group}{i % 3:03d}"
        lines.append(
            f"    <job><id>{first_id + i}.0</id><user>{escape(user)}</user>"
            f"<group>{group}</group><state>{state}</state><cputime>{round(wall * eff)}</cputime>"
            f"<walltime>{wall}</walltime><cpueff>{eff * 100:.1f}</cpueff>"
            f"<host>wn{r.randint(1, 400):04d}.{site}.example</host>"
            f"<memory>{r.randint(300, 3800) if state == 'running' else 0}</memory></job>"
        )
    return lines


_CONDOR_GROUPS = [
    ("group_cms.prod", "cmsprd", 160),
    ("group_cms.user", "cmsuser", 60),
    ("group_atlas.prod", "atlasprd", 180),
    ("group_lhcb", "lhcbpilot", 50),
    ("group_ops", "opssgm", 2),
]


def condor_json(now: datetime) -> bytes:
    """`condor_q -json` output of a small HTCondor pool at `now`."""
    server_time = int(now.timestamp())
    ads = []
    for g, (group, owner, base) in enumerate(_CONDOR_GROUPS):
        r = rng(now, "condor", group)
        for proc in range(round(level(now, base, 0.3, 4.0, group))):
            status = r.choices([1, 2, 5], [20, 75, 2])[0]
            cpus = 8 if "prod" in group else 1
            ad: dict[str, object] = {
                "ClusterId": 900_000 + g * 1000 + proc // 10,
                "ProcId": proc % 10,
                "Owner": owner,
                "AccountingGroup": f"{group}.{owner}",
                "JobStatus": status,
                "RequestCpus": cpus,
                "ServerTime": server_time,
                "QDate": server_time - r.randint(600, 86400),
            }
            if status == 2:
                ad |= _running(r, server_time, cpus)
            if status == 5:
                ad["HoldReason"] = "Job has gone over memory limit"
            ads.append(ad)
    return json.dumps(ads, indent=1).encode()


def _running(r: random.Random, server_time: int, cpus: int) -> dict[str, object]:
    wall = r.randint(300, 36 * 3600)
    # one running job in twenty is stuck (waiting on I/O): the module's inefficient jobs
    eff = r.uniform(0.01, 0.09) if r.random() < 0.05 else r.uniform(0.55, 0.98)
    return {
        "JobCurrentStartDate": server_time - wall,
        "RemoteUserCpu": round(wall * eff * cpus * 0.97),
        "RemoteSysCpu": round(wall * eff * cpus * 0.03),
        "RemoteWallClockTime": wall,
        "RemoteHost": f"slot1_{r.randint(1, 8)}@wn{r.randint(1, 300):04d}.condor.example",
        "ResidentSetSize": r.randint(200_000, 3_500_000),
    }

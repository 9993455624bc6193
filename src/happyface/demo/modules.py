"""The module instances of the demo site: one or more per simulated source, as config dicts."""

from __future__ import annotations

from typing import Any

_JOBS_INSTRUCTION = (
    "If a group has many inefficient running jobs, open the job table, look for a common user, "
    "host or workflow, and open a ticket with the VO's production team. If the input is stale, "
    "check the job-info producer cron on the batch collector."
)


def demo_module_configs(base_url: str) -> list[dict[str, Any]]:
    """The `[[module]]` entries of the demo config for sources served at `base_url`."""
    url = base_url.rstrip("/")
    return [
        _module(
            "jobs_gridka",
            "jobs",
            "batch",
            "GridKa jobs",
            f"{url}/jobs/gridka.xml",
            "Jobs per VO group at GridKa, from the batch system's job-info producer.",
            _JOBS_INSTRUCTION,
            {"groups": ["cms", "atlas", "lhcb"], "min_jobs": 50},
            rules=[{"metric": "cms.held", "op": ">", "warning": 20, "critical": 100}],
        ),
        _module(
            "jobs_t1_us",
            "jobs",
            "batch",
            "T1_US jobs",
            f"{url}/jobs/t1_us.xml",
            "CMS jobs at the US Tier-1.",
            _JOBS_INSTRUCTION,
            {"groups": ["cms"]},
        ),
        _module(
            "jobs_condor",
            "jobs",
            "batch",
            "HTCondor queue",
            f"{url}/jobs/condor.json",
            "Jobs in the local HTCondor pool, per accounting group.",
            _JOBS_INSTRUCTION,
            {"format": "condor", "min_jobs": 20},
        ),
        _module(
            "ce_status",
            "json_value",
            "batch",
            "Computing elements",
            f"{url}/slow",
            "Running and queued jobs on the ARC CEs (a slow source: it answers after ~5 s).",
            "If the CEs queue many jobs while few run, check the CE's LRMS connection.",
            {
                "values": {
                    "ce.running": "$.computing_elements[*].running",
                    "ce.queued": "$.computing_elements[*].queued",
                    "squid.hit_ratio": "$.squid.hit_ratio",
                },
                "aggregate": "sum",
                "units": {"ce.*": "count", "squid.hit_ratio": "fraction"},
            },
            rules=[{"metric": "squid.hit_ratio", "op": "<", "warning": 0.8, "critical": 0.6}],
            timeout=15,
        ),
        _module(
            "batch_accounting",
            "json_value",
            "batch",
            "Accounting feed",
            f"{url}/broken",
            "Daily accounting summary (its producer is broken in the demo: always HTTP 500).",
            "If this stays in error, restart the accounting exporter on the batch collector.",
            {"values": {"cpu_hours": "$.cpu_hours"}, "units": {"cpu_hours": "hours"}},
        ),
        _module(
            "dcache_pools",
            "dcache_pools",
            "storage",
            "dCache pool space",
            f"{url}/dcache/info.xml",
            "Free space of the dCache pools, per pool group.",
            "If pools are full, check the cleaner and the tape flush queues; tell the VO "
            "contact if a disk-only pool group runs out of space.",
            {},
            rules=[
                {"metric": "pools_low", "op": ">", "warning": 1},
                {"metric": "pools_full", "op": ">", "critical": 1},
            ],
        ),
        _module(
            "dcache_movers",
            "dcache_movers",
            "storage",
            "dCache movers",
            f"{url}/dcache/info.xml",
            "Active and queued movers per pool.",
            "Long mover queues mean overloaded pools: look for hot files and raise the "
            "mover limit or replicate.",
            {},
        ),
        _module(
            "dcache_transfers",
            "dcache_transfers",
            "storage",
            "dCache transfers",
            f"{url}/dcache/transfers.json",
            "Slow and long transfers through the doors.",
            "If one host has many slow transfers, check its network; if one pool, its disks.",
            {"slow_mb_s": 1.0},
        ),
        _module(
            "transfer_efficiency",
            "json_value",
            "storage",
            "Transfer efficiency",
            f"{url}/transfers/efficiency.json",
            "The share of transfers that succeed, from the transfer service's summary.",
            "If the efficiency dropped, look in What changed for when; check the transfers "
            "module and the storage doors that changed at that time.",
            {
                "values": {
                    "efficiency": "$.efficiency",
                    "transfers": "$.transfers",
                    "failed": "$.failed",
                },
                "units": {"efficiency": "fraction", "transfers": "count", "failed": "count"},
            },
            rules=[{"metric": "efficiency", "op": "<", "warning": 0.7, "critical": 0.3}],
        ),
        _module(
            "dcache_free_xpath",
            "xml_value",
            "storage",
            "CMS disk free (XPath)",
            f"{url}/dcache/info.xml",
            "Free bytes on the CMS disk pools, read with XPath.",
            "Ask the storage team to move data or add pools.",
            {
                "values": {
                    "cms_disk_free_tb": "sum(//d:pool[d:poolgroups/d:poolgroupref/@name"
                    "='cms-disk']/d:space/d:metric[@name='free']) div 1000000000000"
                },
                "namespaces": {"d": "http://www.dcache.org/2008/01/Info"},
            },
            rules=[
                {
                    "metric": "cms_disk_free_tb",
                    "op": "<",
                    "warning": 150,
                    "critical": 50,
                    "message": "CMS disk is filling up: only {value:.0f} TB free",
                }
            ],
        ),
        _module(
            "news",
            "rss",
            "news",
            "GridKa news",
            f"{url}/news.rss",
            "Announcements of the site.",
            "Read the announcement; follow its instructions.",
            {"days": 14, "unhappy_keywords": ["outage"], "neutral_keywords": ["downtime"]},
            kind="unrated",
        ),
        *(_instance(url, name, title) for name, title in _INSTANCES),
    ]


_INSTANCES = (("desy", "T2_DE_DESY"), ("rwth", "T2_DE_RWTH"))
#: the matrix's common columns, each filled from the categories the instances call their own way
_COLUMNS = {
    "Batch": ["batch", "condor"],
    "Storage": ["dcache", "storage"],
    "Services": ["network", "frontier"],
}


def _instance(url: str, name: str, title: str) -> dict[str, Any]:
    """A `happyface` module watching another (simulated) HappyFace instance, for `/matrix`."""
    return _module(
        f"site_{name}",
        "happyface",
        "sites",
        title,
        f"{url}/instances/{name}/",
        f"The categories of {title}'s own HappyFace, read from its JSON API.",
        f"A problem here is {title}'s: open its dashboard from the matrix and tell its admins "
        "if they have not noticed.",
        {"columns": _COLUMNS, "stale_after": "30m"},
    )


def _module(
    module_id: str,
    module_type: str,
    category: str,
    title: str,
    source: str,
    description: str,
    instruction: str,
    settings: dict[str, Any],
    *,
    rules: list[dict[str, Any]] | None = None,
    kind: str = "rated",
    timeout: float | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": module_id,
        "type": module_type,
        "category": category,
        "title": title,
        "description": description,
        "instruction": instruction,
        "kind": kind,
        "weight": 1.0,
    }
    if timeout is None:
        entry["source"] = source
    else:
        entry["sources"] = {"main": {"url": source, "timeout": timeout}}
    entry["settings"] = settings
    if rules:
        entry["rules"] = rules
    return entry

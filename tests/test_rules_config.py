"""Rules from the config to the stored status: each built-in type rated by its default rules,
a site's rule replacing one, and old threshold settings refused with the rules to write."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from happyface import ConfigError, Rule, Status
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner
from happyface.archive.runs import Archive
from happyface.config.load import load_site
from happyface.modules.jobs import Jobs
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, open_store
from tests.fixtures.modules import DATA, NOW
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

SITE = """
[site]
title = "Rules"
database = "sqlite:///{folder}/happyface.db"

[[category]]
id = "all"
title = "All"
{modules}
"""

# each type twice: as it comes, and with a site rule replacing one default rule
MODULES = """
[[module]]
id = "jobs"
type = "jobs"
category = "all"
title = "Jobs"
source = "jobs_gridka.xml"

[[module]]
id = "jobs_tolerant"
type = "jobs"
category = "all"
title = "Jobs, tolerant"
source = "jobs_gridka.xml"
rules = [{ metric = "rated.*.inefficient_fraction", op = ">", warning = 0.55, critical = 0.9 }]

[[module]]
id = "pools"
type = "dcache_pools"
category = "all"
title = "Pools"
source = "dcache_info.xml"

[[module]]
id = "pools_strict"
type = "dcache_pools"
category = "all"
title = "Pools, strict"
source = "dcache_info.xml"
rules = [{ metric = "pools_full", op = ">", critical = 1, message = "{value} pools are full" }]

[[module]]
id = "movers"
type = "dcache_movers"
category = "all"
title = "Movers"
source = "dcache_info.xml"

[[module]]
id = "movers_strict"
type = "dcache_movers"
category = "all"
title = "Movers, strict"
source = "dcache_info.xml"
rules = [{ metric = "rated.*.ratio", op = ">", critical = 1 }]

[[module]]
id = "transfers"
type = "dcache_transfers"
category = "all"
title = "Transfers"
source = "transfers.json"

[[module]]
id = "transfers_strict"
type = "dcache_transfers"
category = "all"
title = "Transfers, strict"
source = "transfers.json"
rules = [{ metric = "bad", op = ">", warning = 3 }]

[[module]]
id = "check"
type = "http_check"
category = "all"
title = "Endpoint"
source = "{server}/status/503"

[[module]]
id = "check_lenient"
type = "http_check"
category = "all"
title = "Endpoint, only warned"
source = "{server}/status/503"
rules = [{ metric = "up", op = "<", warning = 1 }]

[[module]]
id = "check_own_rules_only"
type = "http_check"
category = "all"
title = "Endpoint, rated by latency alone"
source = "{server}/status/503"
default_rules = false
rules = [{ metric = "latency", op = ">", warning = 30 }]
"""


async def run_site(folder: Path, server: str) -> dict[str, ModuleRecord]:
    """Load the site above from its TOML, run it once at NOW and return the stored records."""
    for name in ("jobs_gridka.xml", "dcache_info.xml", "transfers.json"):
        shutil.copy(DATA / name, folder / name)
    modules = MODULES.replace("{server}", server)
    text = SITE.format(folder=folder, modules=modules)
    site = load_site(write_site(folder, text), Registry())
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    try:
        runner = Runner(site, store, fetcher, Archive(folder / "archive"), holder="test")
        outcome = await runner.run(now=NOW)
    finally:
        await fetcher.aclose()
        store.close()
    assert outcome is not None
    return {r.module_id: r for r in outcome.records}


async def test_default_rules_rate_and_a_site_rule_replaces_one(
    tmp_path: Path, misbehaving_server: MisbehavingServer
) -> None:
    records = await run_site(tmp_path, misbehaving_server.base_url)
    status = {name: r.status for name, r in records.items()}
    assert status == {
        "jobs": Status.UNHAPPY,  # atlas: 54 % inefficient > 50 %
        "jobs_tolerant": Status.NEUTRAL,  # atlasprd: 59 % > 55 %
        "pools": Status.HAPPY,  # two full pools are allowed
        "pools_strict": Status.UNHAPPY,
        "movers": Status.NEUTRAL,  # restore: 35 queued for 30 active
        "movers_strict": Status.UNHAPPY,
        "transfers": Status.HAPPY,  # 4 slow or long, not more than 5
        "transfers_strict": Status.NEUTRAL,
        "check": Status.UNHAPPY,  # HTTP 503
        "check_lenient": Status.NEUTRAL,
        "check_own_rules_only": Status.HAPPY,
    }
    # the message names the rules that fired, in the metric's unit, and nothing else
    assert records["jobs"].message == (
        "atlas: 54 % of the running jobs are inefficient, the limit is 50 %; "
        "atlasprd: 59 % of the running jobs are inefficient, the limit is 50 %"
    )
    assert records["jobs_tolerant"].message == (
        "rated.atlasprd.inefficient_fraction is 59 %, above the limit of 55 %"
    )
    assert records["pools_strict"].message == "2 pools are full"
    assert records["movers_strict"].message == "rated.restore.ratio is 1.17, above the limit of 1"
    assert records["transfers_strict"].message == "bad is 4, above the limit of 3"
    assert records["check_lenient"].message == "up is 0, below the limit of 1"


def _old_setting_problems(tmp_path: Path, module: str) -> list[str]:
    text = SITE.format(folder=tmp_path, modules=module)
    with pytest.raises(ConfigError) as caught:
        load_site(write_site(tmp_path, text), Registry())
    return caught.value.problems


def _suggested_rules(problem: str) -> list[Rule]:
    """The rules a problem tells the site to write, read as the TOML they are given in."""
    start = problem.index("rules = [")
    end = problem.index("]` in this [[module]]") + 1
    return [Rule(**r) for r in tomllib.loads(problem[start:end])["rules"]]


JOBS_WITH_OLD_SETTINGS = """
[[module]]
id = "jobs"
type = "jobs"
category = "all"
title = "Jobs"
source = "jobs_gridka.xml"
settings = { groups = ["cms"], warning = 0.2, critical = 0.4 }
"""


def test_an_old_threshold_setting_names_the_rule_to_write(tmp_path: Path) -> None:
    (problem,) = _old_setting_problems(tmp_path, JOBS_WITH_OLD_SETTINGS)
    assert "happyface.toml:10: module[0] ('jobs'): settings: " in problem  # the [[module]]
    assert "settings: `warning`, `critical` of type 'jobs' are thresholds of rules now" in problem
    assert (
        'write `rules = [{ metric = "rated.*.inefficient_fraction", warning = 0.2, '
        'critical = 0.4, message = "{match}: {value} of the running jobs are inefficient, '
        'the limit is {threshold}", missing = "ignore" }]` in this [[module]]'
    ) in problem
    # the suggestion is valid TOML for valid rules, and only the changed default rule
    (suggested,) = _suggested_rules(problem)
    assert suggested == Jobs.default_rules[0].model_copy(update={"warning": 0.2, "critical": 0.4})


def test_an_old_age_limit_becomes_the_age_rule(tmp_path: Path) -> None:
    module = JOBS_WITH_OLD_SETTINGS.replace("warning = 0.2, critical = 0.4", "max_age_hours = 6")
    (problem,) = _old_setting_problems(tmp_path, module)
    assert "settings: `max_age_hours` of type 'jobs'" in problem
    (suggested,) = _suggested_rules(problem)
    assert (suggested.metric, suggested.critical) == ("age_hours", 6)
    assert suggested.message == Jobs.default_rules[1].message
    # a value equal to the default still gets its rule named
    module = JOBS_WITH_OLD_SETTINGS.replace("warning = 0.2, critical = 0.4", "warning = 0.3")
    (problem,) = _old_setting_problems(tmp_path, module)
    assert _suggested_rules(problem) == [Jobs.default_rules[0]]


def test_renamed_settings_and_settings_of_several_rules(tmp_path: Path) -> None:
    module = """
[[module]]
id = "pools"
type = "dcache_pools"
category = "all"
title = "Pools"
source = "dcache_info.xml"
settings = { pool_warning = 0.2, max_pools_below = 4 }
"""
    renamed, moved = _old_setting_problems(tmp_path, module)
    assert "settings.pool_warning: type 'dcache_pools' calls this setting `low_free_ratio`" in (
        renamed
    )
    assert [(r.metric, r.warning, r.critical) for r in _suggested_rules(moved)] == [
        ("pools_low", 4, None),
        ("pools_full", None, 4),
    ]

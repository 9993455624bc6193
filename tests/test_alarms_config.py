"""The [[alarm]], [[channel]] and [[downtime]] tables: loaded, validated, problems with lines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from happyface import ConfigError
from happyface.config.alarms import (
    AlarmRule,
    ChannelEntry,
    DowntimeConfig,
    EmailChannel,
    WebhookChannel,
)
from happyface.config.load import load_site
from happyface.plugins import Registry
from tests.fixtures.site import DOCS, write_site

BASE = """
[site]
title = "GridKa"

[[category]]
id = "storage"
title = "Storage"

[[module]]
id = "dcache_pools"
type = "queue"
category = "storage"
title = "dCache pools"
source = "status.json"
settings.queue = "cms"
"""

GOOD = (
    BASE
    + """
[[channel]]
id = "mail"
type = "email"
host = "smtp.gridka.example.org"
sender = "happyface@gridka.example.org"
to = ["shift@gridka.example.org"]
username = "happyface"
password = { env = "HAPPYFACE_SMTP_PASSWORD" }

[[channel]]
id = "chat"
type = "webhook"
url = { file = "/etc/happyface/mattermost-hook" }
format = "text"

[[alarm]]
id = "storage"
modules = ["dcache_*"]
categories = ["storage"]
on = ["unhappy", "error", "recovery"]
notify = ["mail"]
confirm = 3
reminder = "4h"
[[alarm.escalate]]
after = "1h"
notify = ["chat"]

[[downtime]]
id = "weekly"
categories = ["storage"]
every = "week"
days = ["tue"]
at = 08:00:00
duration = "2h"
timezone = "Europe/Berlin"

[[downtime]]
id = "gocdb"
feed = "https://goc.egi.eu/gocdbpi/public/?method=get_downtime&topentity=FZK-LCG2"
hosts = { "dcache-*.gridka.de" = ["dcache_*"] }
"""
)


def test_alarms_channels_and_downtimes_load(tmp_path: Path, registry: Registry) -> None:
    site = load_site(write_site(tmp_path, GOOD), registry)
    (alarm,) = site.alarms.alarms
    assert alarm.confirm == 3 and alarm.reminder == 4 * 3600
    assert alarm.escalate[0].after == 3600 and alarm.channels() == {"mail", "chat"}
    assert isinstance(site.alarms.channel("mail"), EmailChannel)
    assert isinstance(site.alarms.channel("chat"), WebhookChannel)
    assert [d.id for d in site.alarms.downtimes] == ["weekly", "gocdb"]


def test_a_site_without_alarms_has_none(tmp_path: Path, registry: Registry) -> None:
    site = load_site(write_site(tmp_path, BASE), registry)
    assert site.alarms.alarms == () and site.alarms.channels == ()


def test_alarms_may_live_in_conf_d(tmp_path: Path, registry: Registry) -> None:
    alarms = GOOD.removeprefix(BASE)
    site = load_site(write_site(tmp_path, BASE, alarms=alarms), registry)
    assert site.alarms.alarms[0].id == "storage"


BAD = (
    BASE
    + """
[[channel]]
id = "mail"
type = "email"
host = "smtp.example.org"
port = 0
sender = "hf@example.org"
to = ["a@example.org"]

[[channel]]
id = "sms"
type = "pager"

[[alarm]]
id = "storage"
modules = ["dcache_pool"]
notify = ["mail", "phone"]
on = ["sad"]

[[alarm]]
id = "nothing"
notify = ["mail"]

[[downtime]]
id = "half"
modules = ["dcache_pools"]
start = 2024-03-05T08:00:00Z

[[downtime]]
id = "weekly"
modules = ["dcache_pools"]
every = "week"
at = 08:00:00
duration = "2h"
timezone = "Mars/Olympus"
"""
)


def test_every_problem_is_reported_at_once_with_its_line(
    tmp_path: Path, registry: Registry
) -> None:
    path = write_site(tmp_path, BAD)
    with pytest.raises(ConfigError) as caught:
        load_site(path, registry)
    problems = caught.value.problems
    text = "\n".join(problems)

    def at(header_line: str, occurrence: int = 0) -> str:
        numbers = [i + 1 for i, t in enumerate(BAD.splitlines()) if t == header_line]
        return f"{path}:{numbers[occurrence]}"

    assert f"{at('[[channel]]')}: channel[0] ('mail'): email.port:" in text
    assert f"{at('[[channel]]', 1)}: channel[1] ('sms'):" in text and "'pager'" in text
    assert f"{at('[[alarm]]')}: alarm[0] ('storage'): on.0:" in text
    assert f"{at('[[alarm]]', 1)}: alarm[1] ('nothing'): give `modules" in text
    assert f"{at('[[downtime]]')}: downtime[0] ('half'): a one-off downtime needs both" in text
    assert "unknown time zone 'Mars/Olympus'" in text
    assert len(problems) == 6  # an invalid entry's references are not checked on top


def test_references_to_unknown_ids_are_problems(tmp_path: Path, registry: Registry) -> None:
    text = GOOD.replace('notify = ["mail"]', 'notify = ["mail", "phone"]').replace(
        'modules = ["dcache_*"]\ncategories', 'modules = ["dcache_*", "dcache_pool"]\ncategories'
    )
    with pytest.raises(ConfigError) as caught:
        load_site(write_site(tmp_path, text), registry)
    problems = "\n".join(caught.value.problems)
    assert "alarm[0] ('storage'): channel 'phone' does not exist (channels: chat, mail)" in problems
    assert "module 'dcache_pool' does not exist" in problems


def test_unknown_top_level_tables_name_the_alarm_tables(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match=r"\[\[alarm\]\], \[\[channel\]\], \[\[downtime\]\]"):
        load_site(write_site(tmp_path, BASE + "\n[[alarms]]\nid = 'x'\n"), registry)


def test_the_example_of_docs_alarms_md_is_valid() -> None:
    text = (DOCS / "alarms.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert example, "docs/alarms.md has no TOML example"
    data = tomllib.loads(example.group(1))
    assert [ChannelEntry.model_validate(c).id for c in data["channel"]] == [
        "shift-mail", "chat", "experts"
    ]  # fmt: skip
    alarm, collector = [AlarmRule.model_validate(a) for a in data["alarm"]]
    assert alarm.escalate[0].notify == ["experts"]
    assert collector.sources == ["batch_gridka_de_*"] and collector.for_ == 30 * 60
    assert [DowntimeConfig.model_validate(d).id for d in data["downtime"]] == [
        "dcache-maintenance", "kernel-update", "gocdb"
    ]  # fmt: skip


SOURCE_ALARMS = """
[[channel]]
id = "mail"
type = "email"
host = "smtp.gridka.example.org"
sender = "happyface@gridka.example.org"
to = ["shift@gridka.example.org"]

[[alarm]]
id = "batch-collector"
sources = ["batch_*"]
on = ["stale", "unreachable", "recovery"]
for = "30min"
notify = ["mail"]

[[alarm]]
id = "every-source"
sources = ["*"]
notify = ["mail"]
"""


def test_an_alarm_on_sources_loads_with_its_changes_and_duration(
    tmp_path: Path, registry: Registry
) -> None:
    site = load_site(write_site(tmp_path, BASE + SOURCE_ALARMS), registry)
    collector, every = site.alarms.alarms
    assert collector.sources == ["batch_*"] and collector.for_ == 30 * 60
    assert collector.reported == ("stale", "unreachable", "recovery")
    assert every.for_ == 0
    assert every.reported == (
        "stale", "unreachable", "unparseable", "format_changed", "recovery", "flapping"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"sources": ["x"], "modules": ["m"]}, "names no modules or categories"),
        ({"sources": ["x"], "on": ["unhappy"]}, "an alarm on sources reports"),
        ({"modules": ["m"], "on": ["stale"]}, "an alarm on modules and categories reports"),
        ({"sources": ["x"], "for": -300}, "a duration cannot be negative"),
        ({}, "`sources = [...]`"),
    ],
)
def test_an_alarm_mixing_the_two_axes_is_refused(given: dict[str, object], said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        AlarmRule.model_validate({"id": "a", "notify": ["mail"], **given})

"""Loading and validating the site configuration."""

from pathlib import Path

import pytest

from happyface import ConfigError, Source
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.status import Algorithm, Kind
from tests.fixtures.site import write_site

GOOD = """
[site]
title = "GridKa"
interval = "15m"
stale_after = "1h"

[[category]]
id = "batch"
title = "Batch system"
algorithm = "weighted"
order = 2

[[category]]
id = "storage"
title = "Storage"
order = 1

[[module]]
id = "cms_queue"
type = "queue"
category = "batch"
title = "CMS queue"
kind = "rated"
weight = 2
source = "https://batch.example.org/status.json"

[module.settings]
queue = "cms"
"""


def test_a_good_site_loads(tmp_path: Path, registry: Registry) -> None:
    site = load_site(write_site(tmp_path, GOOD), registry)
    assert site.settings.title == "GridKa"
    assert site.settings.interval == 900
    assert site.settings.stale_after == 3600
    assert [c.id for c in site.categories] == ["storage", "batch"]
    assert site.category("batch").algorithm is Algorithm.WEIGHTED
    (module,) = site.modules
    assert module.config.kind is Kind.RATED and module.config.weight == 2
    assert module.module.sources()["main"].url == "https://batch.example.org/status.json"
    assert [r.metric for r in module.rules] == ["waiting"]  # the type's default rule


def test_a_folder_means_its_happyface_toml(tmp_path: Path, registry: Registry) -> None:
    write_site(tmp_path, GOOD)
    assert load_site(tmp_path, registry).settings.title == "GridKa"


def test_relative_sqlite_path_is_relative_to_the_config(tmp_path: Path, registry: Registry) -> None:
    site = load_site(write_site(tmp_path, GOOD), registry)
    assert site.database_url == f"sqlite:///{tmp_path.resolve()}/happyface.db"


def test_conf_d_adds_modules(tmp_path: Path, registry: Registry) -> None:
    extra = """
[[module]]
id = "atlas_queue"
type = "queue"
category = "batch"
title = "ATLAS queue"
sources = { main = { url = "data/queues.json", timeout = 5 } }
settings = { queue = "atlas" }
rules = [{ metric = "waiting", op = ">", critical = 10 }]
"""
    site = load_site(write_site(tmp_path, GOOD, atlas=extra), registry)
    atlas = site.module("atlas_queue")
    assert atlas is not None
    assert atlas.module.sources()["main"] == Source(url="data/queues.json", timeout=5)
    assert atlas.rules[0].critical == 10


def test_syntax_error_names_file_and_line(tmp_path: Path, registry: Registry) -> None:
    path = write_site(tmp_path, '[site]\ntitle = "x"\ninterval = = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_site(path, registry)
    (problem,) = caught.value.problems
    assert str(path) in problem
    assert "line 3" in problem


def test_every_problem_is_reported_at_once(tmp_path: Path, registry: Registry) -> None:
    bad = (
        GOOD.replace('interval = "15m"', 'interval = "often"')
        + """
[[module]]
id = "cms_queue"
type = "queue"
category = "nowhere"
title = "duplicate id, unknown category"
source = "x.json"
settings = { queue = "cms" }

[[module]]
id = "mystery"
type = "no_such_type"
category = "batch"
title = "unknown type"

[[module]]
id = "unsourced"
type = "queue"
category = "batch"
title = "no source, a wrong setting"
settings = { queue = "cms", colour = "red" }

[[module]]
id = "bad id!"
type = "queue"
category = "batch"
title = "bad id"
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_site(write_site(tmp_path, bad), registry)
    text = "\n".join(caught.value.problems)
    assert "site.interval: 'often' is not a duration" in text
    assert "module id 'cms_queue' is already used" in text
    assert "category 'nowhere' does not exist" in text
    assert "unknown module type 'no_such_type'" in text
    assert "settings.colour: unknown setting" in text
    assert "'bad id!' is not a valid id" in text
    assert len(caught.value.problems) >= 6
    # problems point at the line where the offending entry starts
    second_module = [i for i, line in enumerate(bad.splitlines(), 1) if line == "[[module]]"][1]
    assert any(f":{second_module}: module[1] ('cms_queue')" in p for p in caught.value.problems)


def test_missing_source_says_what_to_add(tmp_path: Path, registry: Registry) -> None:
    text = GOOD.replace('source = "https://batch.example.org/status.json"\n', "")
    with pytest.raises(ConfigError, match=r"needs the source\(s\) \'main\'; add `source = "):
        load_site(write_site(tmp_path, text), registry)


def test_site_table_only_in_the_main_file(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match=r"\[site\] belongs in the main happyface.toml only"):
        load_site(write_site(tmp_path, GOOD, extra='[site]\ntitle = "again"\n'), registry)


def test_unknown_top_level_table(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match="unknown table 'modules'"):
        load_site(write_site(tmp_path, GOOD + "\n[modules]\nx = 1\n"), registry)


def test_a_bad_database_url_is_a_config_problem(tmp_path: Path, registry: Registry) -> None:
    bad = GOOD.replace('stale_after = "1h"', 'stale_after = "1h"\ndatabase = "notaurl"')
    with pytest.raises(ConfigError, match=r"site\.database: 'notaurl' is not a database URL"):
        load_site(write_site(tmp_path, bad), registry)


def test_missing_file(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match="no such file; create one with `happyface init DIR`"):
        load_site(tmp_path / "nothing.toml", registry)


def test_secrets_by_reference_only(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_token = GOOD.replace(
        'source = "https://batch.example.org/status.json"',
        'source = { url = "https://batch.example.org/s.json", token = { env = "HF_TEST_TOKEN" } }',
    )
    path = write_site(tmp_path, with_token)
    monkeypatch.delenv("HF_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="environment variable 'HF_TEST_TOKEN' is not set"):
        load_site(path, registry)
    monkeypatch.setenv("HF_TEST_TOKEN", "s3cret")
    assert load_site(path, registry).modules[0].module.sources()["main"].token is not None
    inline = with_token.replace('{ env = "HF_TEST_TOKEN" }', '"s3cret"')
    with pytest.raises(ConfigError, match="token"):
        load_site(write_site(tmp_path / "inline", inline), registry)


def test_credentials_must_be_consistent(tmp_path: Path, registry: Registry) -> None:
    text = GOOD.replace(
        'source = "https://batch.example.org/status.json"',
        'source = { url = "https://x.example.org/", key = "/etc/key.pem" }',
    )
    with pytest.raises(ConfigError, match="`key` given without `cert`"):
        load_site(write_site(tmp_path, text), registry)


@pytest.mark.parametrize("interval", ['"1s"', "9.5", '"0s"'])
def test_an_interval_the_scheduler_cannot_keep_is_refused_at_its_line(
    tmp_path: Path, registry: Registry, interval: str
) -> None:
    path = write_site(tmp_path, f'[site]\ntitle = "x"\n\ninterval = {interval}\n')
    with pytest.raises(ConfigError) as caught:
        load_site(path, registry)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:4: site.interval: ")
    assert "shorter than the minimum of 10 s" in problem


def test_a_setting_of_a_site_subtable_is_located_too(tmp_path: Path, registry: Registry) -> None:
    path = write_site(tmp_path, '[site]\ntitle = "x"\n[site.web]\n\nport = 70000\n')
    with pytest.raises(ConfigError) as caught:
        load_site(path, registry)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:5: site.web.port: ")

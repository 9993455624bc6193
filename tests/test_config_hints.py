"""Configuration mistakes people make: mistyped names get a hint, a web address without its
scheme is caught by `happyface check`, and every problem points at its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from happyface.config.load import load_site
from happyface.errors import ConfigError
from happyface.plugins import Registry
from tests.fixtures.site import write_site

SITE = """\
[site]
title = "Hints"
intervall = 900

[site.web]
prot = 8080

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "jobs"
title = "Jobs"
type = "jobz"
category = "bach"
source = "jobs.xml"

[[modul]]
id = "x"
"""


def _problems(config: Path, **kwargs: bool) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_site(config, Registry(), **kwargs)
    return caught.value.problems


def test_mistyped_settings_tables_types_and_categories_get_a_hint(tmp_path: Path) -> None:
    config = write_site(tmp_path, SITE)
    (tmp_path / "jobs.xml").write_text("<jobs/>")
    problems = _problems(config)
    assert f"{config}:3: site.intervall: unknown setting (did you mean 'interval'?)" in problems
    assert f"{config}:6: site.web.prot: unknown setting (did you mean 'port'?)" in problems
    assert any("unknown table 'modul' (did you mean 'module'?)" in p for p in problems)
    config.write_text(
        SITE.replace("intervall", "interval").replace("prot", "port").split("[[modul]]")[0]
    )
    problems = _problems(config)
    assert any(
        p.startswith(f"{config}:12: module[0] ('jobs')")
        and "category 'bach' does not exist (did you mean 'batch'?)" in p
        for p in problems
    ), problems
    assert any("unknown module type 'jobz' (did you mean 'jobs'?)" in p for p in problems)


def test_a_name_nothing_resembles_gets_no_guess(tmp_path: Path) -> None:
    config = write_site(tmp_path, SITE.replace("intervall", "zzzzzz").split("[site.web]")[0])
    problems = _problems(config)
    assert f"{config}:3: site.zzzzzz: unknown setting" in problems


def test_a_missing_site_setting_points_at_the_site_table(tmp_path: Path) -> None:
    text = "# a comment first\n\n" + SITE.replace('title = "Hints"\n', "").split("[site.web]")[0]
    config = write_site(tmp_path, text.replace("intervall", "interval"))
    assert f"{config}:3: site.title: Field required" in _problems(config)


def test_module_settings_get_hints_from_the_types_own_model(tmp_path: Path) -> None:
    text = SITE.split("[site.web]")[0].replace("intervall", "interval") + (
        '[[category]]\nid = "batch"\ntitle = "Batch"\n\n'
        '[[module]]\nid = "jobs"\ntitle = "Jobs"\ntype = "jobs"\ncategory = "batch"\n'
        'source = "https://batch.example.org/jobs.xml"\n[module.settings]\ngrups = ["atlas"]\n'
    )
    config = write_site(tmp_path, text)
    problems = _problems(config)
    assert any("settings.grups: unknown setting (did you mean 'groups'?)" in p for p in problems)


NO_SCHEME = """\
[site]
title = "No scheme"

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "jobs"
title = "Jobs"
type = "jobs"
category = "batch"
source = "batch.example.org/jobinfo.xml"
"""


def test_a_web_address_without_scheme_is_refused_by_check(tmp_path: Path) -> None:
    config = write_site(tmp_path, NO_SCHEME)
    load_site(config, Registry())  # the site itself loads: the file may appear before a run
    (problem,) = _problems(config, check_sources=True)
    assert problem.startswith(f"{config}:8: module[0] ('jobs'): sources.main:")
    assert "neither a URL with a scheme" in problem
    assert "write `https://batch.example.org/jobinfo.xml` for a web address" in problem
    (tmp_path / "batch.example.org").mkdir()
    (tmp_path / "batch.example.org" / "jobinfo.xml").write_text("<jobs/>")
    load_site(config, Registry(), check_sources=True)  # an existing relative path is fine


def _happyface(config: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "happyface", "-c", str(config), command],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_and_acquire_exit_non_zero_for_an_unreadable_source(tmp_path: Path) -> None:
    config = write_site(tmp_path, NO_SCHEME)
    checked = _happyface(config, "check")
    assert checked.returncode == 2
    assert "neither a URL with a scheme" in checked.stderr
    acquired = _happyface(config, "acquire")
    assert acquired.returncode == 3, acquired.stderr
    assert "run 1 stored: 1 modules (1 error)" in acquired.stdout
    assert "1 module(s) could not read a source at all" in acquired.stderr
    assert "jobs: source 'main'" in acquired.stderr
    assert "Traceback" not in acquired.stderr

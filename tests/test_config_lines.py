"""Configuration problems point at the line where the offending entry starts, in any text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from happyface.config.lines import array_table_lines
from happyface.config.load import load_site
from happyface.errors import ConfigError
from happyface.plugins import Registry
from tests.fixtures.site import write_site
from tests.test_config import GOOD

TRICKY = '''
[site]
title = "x"   # [[module]] in a comment is no header

[[category]]
id = "batch"
description = """
A multi-line string may hold a header-looking line:
[[module]]
and "quotes" and \\""" escaped ones
"""

[[module]]
id = "a"
note = \'\'\'
[[module]]
\'\'\'
title = "[[module]]"
path = 'C:\\x'

  [[ module ]]
id = "b"
text = """one-line""" # [[module]]
[[module]]
id = "c"
quoted = """ends with a quote"""""
[[module]]
id = "d"
'''


def test_headers_are_found_where_the_toml_parser_finds_entries() -> None:
    lines = array_table_lines(TRICKY)
    parsed = tomllib.loads(TRICKY)
    assert [e["id"] for e in parsed["module"]] == ["a", "b", "c", "d"]
    text_lines = TRICKY.split("\n")
    assert len(lines["module"]) == 4
    ids = [text_lines[n].strip() for n in lines["module"]]  # the line after each header
    assert ids == ['id = "a"', 'id = "b"', 'id = "c"', 'id = "d"']
    assert lines["category"] == [5]


@pytest.mark.parametrize("count", [10, 2000])
def test_every_entry_of_a_large_file_gets_its_own_line(count: int) -> None:
    text = "".join(f'[[module]]\nid = "m{i}"\ntitle = """\n[[module]]\n"""\n' for i in range(count))
    lines = array_table_lines(text)
    assert lines["module"] == [1 + 5 * i for i in range(count)]


def test_a_problem_after_a_multi_line_string_points_at_its_own_entry(
    tmp_path: Path, registry: Registry
) -> None:
    quoted = GOOD.replace(
        'title = "Batch system"', 'title = "Batch system"\ndescription = """\n[[module]]\n"""', 1
    )
    bad = quoted + '\n[[module]]\nid = "bad id!"\ntype = "queue"\ncategory = "batch"\n'
    with pytest.raises(ConfigError) as caught:
        load_site(write_site(tmp_path, bad), registry)
    header = [i for i, line in enumerate(bad.splitlines(), 1) if line == "[[module]]"][-1]
    assert any(f":{header}: module[1] ('bad id!')" in p for p in caught.value.problems), (
        caught.value.problems
    )

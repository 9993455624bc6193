"""Where each `[[table]]` entry of a TOML text starts, to point configuration problems at lines.

`tomllib` keeps no positions, so the text is tokenised once with one regular expression that
knows TOML's strings and comments: a header inside a multi-line string (which may well hold a
line `[[module]]`) or a comment is no header, exactly as for the TOML parser itself.
"""

from __future__ import annotations

import re

_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""(?:"{0,2})'  # multi-line basic string
    r"|'''(?:[^']|'(?!''))*'''(?:'{0,2})"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # basic string
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*"  # comment
    r"|^[ \t]*\[\[[ \t]*(?P<table>[A-Za-z0-9_.\-]+)[ \t]*\]\]",  # array-of-tables header
    re.MULTILINE | re.DOTALL,
)


def array_table_lines(text: str) -> dict[str, list[int]]:
    """Table name -> the 1-based line of each of its `[[name]]` headers, in order."""
    found: dict[str, list[int]] = {}
    line, counted = 1, 0
    for token in _TOKENS.finditer(text):
        table = token.group("table")
        if table is None:
            continue
        line += text.count("\n", counted, token.start())
        counted = token.start()
        found.setdefault(table, []).append(line)
    return found

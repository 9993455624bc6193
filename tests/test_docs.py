"""The documentation keeps its promises: generated references are current, examples run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from happyface import ExtractError, RawInput, Result, Status
from happyface.cli.main import build_parser
from happyface.config.reference import render
from happyface.rules import rate
from tests.fixtures.site import DOCS, queue_type

README = DOCS.parent / "README.md"


def test_configuration_reference_is_current() -> None:
    assert (DOCS / "configuration.md").read_text() == render(), (
        "docs/configuration.md is out of date: run "
        "`python -m happyface.config.reference > docs/configuration.md`"
    )


def raw(body: bytes) -> RawInput:
    return RawInput(
        url="https://batch.example.org/status.json", content=body, fetched_at=datetime.now(UTC)
    )


def test_the_documented_module_extracts_and_rates() -> None:
    queue = queue_type()
    module = queue(queue.Settings(queue="cms"), {})
    body = json.dumps({"queues": [{"name": "cms", "waiting": 4000, "running": 7}]}).encode()
    result = module.extract({"main": raw(body)}, datetime.now(UTC))
    assert isinstance(result, Result)
    assert result.metrics == {"waiting": 4000.0, "running": 7.0}
    assert rate(result, queue.default_rules)[0] is Status.UNHAPPY


def test_the_documented_module_explains_bad_input() -> None:
    queue = queue_type()
    module = queue(queue.Settings(queue="cms"), {})
    for body in (b"", b"{", b'{"queues": []}', b"\xff\xfe garbage"):
        try:
            module.extract({"main": raw(body)}, datetime.now(UTC))
        except ExtractError as exc:
            assert "queue 'cms'" in str(exc)
        else:
            raise AssertionError(f"{body!r} was accepted")


def test_every_cli_command_is_in_the_readme() -> None:
    readme = README.read_text()
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = [name for name in commands if f"happyface {name}" not in readme]
    assert missing == [], f"README does not mention: {missing}"


def test_readme_commands_exist() -> None:
    readme = README.read_text()
    assert "./scripts/demo" in readme and "./scripts/test" in readme
    root = README.parent
    assert (root / "scripts" / "demo").exists() and (root / "scripts" / "test").exists()
    ci = (root / ".ci" / "run").read_text()
    assert "./scripts/test" in ci

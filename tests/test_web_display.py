"""A module type's display goes through its own contract: the web knows no type by name."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from jinja2 import Environment

from happyface import Module, Result, Status, Table
from happyface.config.load import load_site
from happyface.display import DetailInput, DetailView
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, open_store
from happyface.web import create_app
from happyface.web.render import loader
from tests.fixtures.site import write_site
from tests.fixtures.web import Client

WEB = Path(__file__).resolve().parents[1] / "src" / "happyface" / "web"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def imported_modules(source: str, package: str) -> set[str]:
    """The absolute names of the modules `source`, a file of `package`, imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


def web_imports() -> dict[str, set[str]]:
    """Each file of happyface.web (its subpackages too) -> the modules it imports."""
    found = {}
    for path in sorted(WEB.rglob("*.py")):
        package = ".".join(("happyface", *path.relative_to(WEB.parent).parent.parts))
        found[str(path.relative_to(WEB))] = imported_modules(path.read_text(), package)
    return found


def is_module_type(name: str) -> bool:
    return name == "happyface.modules" or name.startswith("happyface.modules.")


def test_the_web_imports_no_module_type() -> None:
    imports = web_imports()
    assert len(imports) > 30 and "access/scope.py" in imports
    offenders = {
        f"{path}: {n}" for path, names in imports.items() for n in names if is_module_type(n)
    }
    assert not offenders


@pytest.mark.parametrize(
    ("source", "package"),
    [
        ("from ..modules.plot import image_type", "happyface.web"),
        ("from ...modules import rss", "happyface.web.access"),
        ("from .. import modules", "happyface.web"),
        ("import happyface.modules.jobs", "happyface.web"),
        ("    from happyface.modules.rss import clean_html", "happyface.web"),
    ],
)
def test_the_scan_sees_every_spelling_of_such_an_import(source: str, package: str) -> None:
    code = f"def late():\n{source}\n" if source.startswith(" ") else source
    assert any(is_module_type(n) for n in imported_modules(code, package))


def test_two_packages_templates_of_one_name_never_collide(tmp_path: Path) -> None:
    for package in ("first_types", "second_types"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "view.html").write_text(f"from {package}")
    folders = {p: [tmp_path / p] for p in ("first_types", "second_types")}
    env = Environment(loader=loader(folders), autoescape=True)
    assert env.get_template("first_types/view.html").render() == "from first_types"
    assert env.get_template("second_types/view.html").render() == "from second_types"
    assert "{% macro" in env.loader.get_source(env, "_macros.html")[0]  # the dashboard's own


def test_built_in_templates_are_keyed_by_their_package() -> None:
    from happyface.modules.jobs import Jobs

    assert Jobs.template_name() == "happyface.modules/jobs.html"
    assert Module.template_name() is None


class Fragile(Module):
    """A type whose view hook fails on the stored details it gets."""

    source_names: ClassVar[tuple[str, ...]] = ()
    template: ClassVar[str | None] = "keyvalue.html"

    @classmethod
    def detail_view(cls, given: DetailInput) -> DetailView:
        raise ValueError(f"cannot read {sorted(given.details)}")


CONFIG = """
[site]
title = "Fragile views"
interval = "15m"
database = "sqlite:///display.db"

[[category]]
id = "odd"
title = "Odd"

[[module]]
id = "fragile"
type = "fragile"
category = "odd"
title = "Fragile"
"""


def fragile_client(folder: Path, result: Result) -> tuple[Client, Any]:
    """The app of a site with one `fragile` module whose only run stored `result`."""
    registry = Registry(points=[])
    registry.register("fragile", Fragile)
    site = load_site(write_site(folder, CONFIG), registry)
    store = open_store(site.database_url)
    run = store.begin_run(NOW - timedelta(minutes=1), "test", site.snapshot)
    record = ModuleRecord("fragile", "odd", Status.HAPPY, result.message, result)
    store.finish_run(run, [record], {"odd": Status.HAPPY}, NOW)
    app = create_app(site, store)
    app.state.dashboard.now = lambda: NOW
    return Client(app), store


def test_a_failing_view_hook_shows_the_generic_tables(tmp_path: Path) -> None:
    table = Table("rows", ("name", "value"), (("alpha", 1), ("beta", 2)), title="Stored rows")
    result = Result(message="stored", tables=(table,), details={"odd": True})
    client, store = fragile_client(tmp_path, result)
    try:
        for url in ("/category/odd", "/module/fragile"):
            page = client.get(url)
            assert page.status_code == 200
            assert 'aria-label="Stored rows"' in page.text and "alpha" in page.text
            assert 'class="keyvalue"' not in page.text
        box = client.get("/module/fragile.json").json()["module"]
        assert box["template"] is None and box["view"] is None
    finally:
        store.close()


@pytest.mark.parametrize("query", ["group=a%0Ab", "user=" + "x" * 300])
def test_other_types_ignore_the_jobs_filter(tmp_path: Path, query: str) -> None:
    client, store = fragile_client(tmp_path, Result(message="ok"))
    try:
        assert client.get(f"/module/fragile?{query}").status_code == 200
    finally:
        store.close()

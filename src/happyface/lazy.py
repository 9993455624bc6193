"""Package attributes loaded on first use (PEP 562), so importing a package costs nothing.

`happyface --help` imports the `happyface` package, and any part of `happyface.config`, `alarms` or
`web` imports that package first; none should drag in pydantic models, SQLAlchemy or Alembic just
to exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, whose public `name` lives in `.homes[name]`."""
    namespace = vars(import_module(package))

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{home}", package), name)
        namespace[name] = value  # the next lookup is an ordinary attribute
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return getattr_, dir_

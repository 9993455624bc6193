"""The shift crew's dashboard: pages, live view, time machine, plots, API and exports.

`create_app` loads on first use, so importing one part of the web (a model, a renderer) does not
assemble the whole application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]

__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "app"})

"""The site configuration: `load_site` reads `happyface.toml` and `conf.d/*.toml` into a `Site`.

This package is the one door to configuration: the models of every table (`[site]`, categories and
modules, `[access]`, `[alarms]`), the loader that reports all problems at once with file and line,
and the reference generated from the models. Names load on first use (PEP 562), so importing one
model does not import the loader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .load import CONFIG_NAME, find_config, load_site
    from .settings import SiteSettings
    from .site import ModuleInstance, Site

#: public name -> the module of this package that defines it
_HOMES = {
    "CONFIG_NAME": "load",
    "ModuleInstance": "site",
    "Site": "site",
    "SiteSettings": "settings",
    "find_config": "load",
    "load_site": "load",
}

__all__ = ["CONFIG_NAME", "ModuleInstance", "Site", "SiteSettings", "find_config", "load_site"]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

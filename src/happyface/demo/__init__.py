"""A simulated grid site served on loopback: sources that change over time, and their modules."""

from .modules import demo_module_configs
from .sources import DemoSources

__all__ = ["DemoSources", "demo_module_configs"]

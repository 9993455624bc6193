"""The shift crew's dashboard: pages, live view, time machine and plots."""

from .app import create_app

__all__ = ["create_app"]

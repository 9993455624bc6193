"""Storage: runs, results and metric history in SQLite or PostgreSQL, through one Store."""

from .records import ModuleRecord, Point, ResultRow, Retention, RunInfo
from .store import Store, open_store

__all__ = ["ModuleRecord", "Point", "ResultRow", "Retention", "RunInfo", "Store", "open_store"]

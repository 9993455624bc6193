"""Storage: runs, results and metric history in SQLite or PostgreSQL, through one Store."""

# imported for its side effect: the alarm tables join the schema's MetaData (and its migrations)
from ..settings import RetentionSettings as Retention
from . import alarm_tables as alarm_tables
from . import quality_tables as quality_tables
from .records import ModuleRecord, Point, ResultRow, RunInfo
from .store import Store, open_store

__all__ = ["ModuleRecord", "Point", "ResultRow", "Retention", "RunInfo", "Store", "open_store"]

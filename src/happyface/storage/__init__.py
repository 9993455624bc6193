"""Storage: runs, results and metric history in SQLite or PostgreSQL, through one Store."""

# imported for its side effect: the alarm tables join the schema's MetaData (and its migrations)
from ..config.settings import RetentionSettings as Retention
from . import alarm_tables as alarm_tables
from . import periods as periods
from . import shift_notes as shift_notes
from .quality import tables as quality_tables  # noqa: F401 (its tables join the MetaData too)
from .records import ModuleRecord, Point, ResultRow, RunInfo
from .store import Store, open_store

__all__ = ["ModuleRecord", "Point", "ResultRow", "Retention", "RunInfo", "Store", "open_store"]

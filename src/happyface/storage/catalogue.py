"""Names to small integers: modules, categories, metric series and layouts, each stored once.

Ids never change once given, so they are cached for the life of the store. Ids handed out in a
transaction that then rolls back are forgotten again, since their rows went with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Insert, Table, select, tuple_

from .batches import execute_in_batches, in_batches
from .hashed import content_hash, stored_ids
from .schema import categories, dialect_insert, metric_layouts, modules, series

SeriesKey = tuple[int, str]  # (module id, metric name)


class Catalogue:
    """The cached mapping of names to ids, filled from the database and on demand."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, int]] = {"modules": {}, "categories": {}}
        self._series: dict[SeriesKey, int] = {}
        self._fresh_names: list[tuple[str, str]] = []
        self._fresh_series: list[SeriesKey] = []
        self._layouts: dict[str, int] = {}
        self._fresh_layouts: list[str] = []

    def module_ids(self, conn: Connection, names: Iterable[str]) -> dict[str, int]:
        """The ids of these module names, creating the missing ones."""
        return self._ids(conn, modules, names)

    def category_ids(self, conn: Connection, names: Iterable[str]) -> dict[str, int]:
        """The ids of these category names, creating the missing ones."""
        return self._ids(conn, categories, names)

    def series_ids(self, conn: Connection, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
        """The ids of these (module id, metric) series, creating the missing ones."""
        wanted = set(keys)
        missing = wanted - self._series.keys()
        if missing:
            rows = [{"module_id": m, "name": n} for m, n in sorted(missing)]
            execute_in_batches(conn, _insert_ignoring_duplicates(conn, series), rows)
            for batch in in_batches(sorted(missing)):
                found = conn.execute(
                    select(series.c.module_id, series.c.name, series.c.id).where(
                        tuple_(series.c.module_id, series.c.name).in_(batch)
                    )
                )
                for module_id, name, series_id in found:
                    self._series[(module_id, name)] = series_id
            self._fresh_series.extend(missing)
        return {key: self._series[key] for key in wanted}

    def layout_ids(self, conn: Connection, texts: Iterable[str]) -> dict[str, int]:
        """The ids of these metric layouts (see packing.py), storing the new ones."""
        wanted = set(texts)
        missing = wanted - self._layouts.keys()
        if missing:
            by_hash = {content_hash(text): text for text in missing}
            found = stored_ids(conn, metric_layouts, "layout", by_hash)
            self._layouts.update((t, found[content_hash(t)]) for t in missing)
            self._fresh_layouts.extend(missing)
        return {text: self._layouts[text] for text in wanted}

    def forget_fresh(self) -> None:
        """Drop the ids created in a transaction that rolled back."""
        for table, name in self._fresh_names:
            self._names[table].pop(name, None)
        for key in self._fresh_series:
            self._series.pop(key, None)
        for text in self._fresh_layouts:
            self._layouts.pop(text, None)
        self.keep_fresh()

    def keep_fresh(self) -> None:
        """The transaction committed: the new ids are real."""
        self._fresh_names.clear()
        self._fresh_series.clear()
        self._fresh_layouts.clear()

    def _ids(self, conn: Connection, table: Table, names: Iterable[str]) -> dict[str, int]:
        cache = self._names[table.name]
        wanted = set(names)
        missing = wanted - cache.keys()
        if missing:
            rows = [{"name": name} for name in sorted(missing)]
            execute_in_batches(conn, _insert_ignoring_duplicates(conn, table), rows)
            for batch in in_batches(sorted(missing)):
                found = conn.execute(
                    select(table.c.name, table.c.id).where(table.c.name.in_(batch))
                )
                cache.update({name: id_ for name, id_ in found})
            self._fresh_names.extend((table.name, name) for name in missing)
        return {name: cache[name] for name in wanted}


def _insert_ignoring_duplicates(conn: Connection, table: Table) -> Insert:
    # another process may have added the same name meanwhile; its id is as good as ours
    return dialect_insert(conn, table).on_conflict_do_nothing()

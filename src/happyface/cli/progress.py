"""A progress bar for `happyface acquire` on a terminal; silent otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..storage import ModuleRecord


class RunProgress:
    """Counts finished modules of a run on a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._bar = Progress(
            TextColumn("acquiring"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            disable=not enabled,
            transient=True,
        )
        self._task = self._bar.add_task("", total=total)

    def advance(self, record: ModuleRecord) -> None:
        self._bar.update(self._task, advance=1, description=f"{record.module_id}: {record.status}")

    def __enter__(self) -> RunProgress:
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.stop()

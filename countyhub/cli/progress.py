"""Progress bars for long loads (rows, rows per second and ETA, per stream) and long copies (bytes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


@contextmanager
def load_progress(console: Console) -> Iterator[Callable[..., None]]:
    """Yield a `tick(stream_label, rows, total=None)` callback that drives one progress line per stream."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed:,} rows"), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    tasks: dict[str, int] = {}
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        def tick(label: str, rows: int, total: int | None = None) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=None, rate="")
            task_id = tasks[label]
            if total is not None:
                progress.update(task_id, total=total)
            progress.update(task_id, advance=rows)
            task = progress.tasks[task_id]
            if task.elapsed:
                progress.update(task_id, rate=f"{task.completed / task.elapsed:,.0f} rows/s")
        yield tick


@contextmanager
def copy_progress(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """Yield a `copied(done_bytes, total_bytes)` callback that drives one byte-count progress line."""
    columns = (SpinnerColumn(), TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=None)

        def copied(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)
        yield copied

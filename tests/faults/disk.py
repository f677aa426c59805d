"""The lake's data folder out of space: a small tmpfs mounted over it (we are root in the test sandbox), filled up."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.faults.harness import County, Outcome

FILLER = ".filler"


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def small_lake_folder(county: County, size: str = "20m") -> Iterator[Path]:
    """The trial home's lake/data on its own `size` tmpfs, holding the seeded files; always unmounted after."""
    data = county.home / "lake" / "data"
    kept = county.home / "lake" / "data.seeded"
    data.rename(kept)
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(data)], check=True)
    try:
        shutil.copytree(kept, data, dirs_exist_ok=True)
        yield data
    finally:
        subprocess.run(["umount", str(data)], check=False)
        shutil.rmtree(data, ignore_errors=True)
        kept.rename(data)  # the home as it was: the next trial copies over it anyway


def fill(folder: Path) -> None:
    """Write a filler file until the folder's file system refuses another byte."""
    with (folder / FILLER).open("wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def space_returns(folder: Path) -> None:
    (folder / FILLER).unlink()


def load_on_a_full_disk(county: County, command: tuple[str, ...] = ("load", "aaa")) -> Outcome:
    """The injection: the lake folder full when `command` writes its files."""
    fill(county.home / "lake" / "data")
    return county.countyhub(*command)

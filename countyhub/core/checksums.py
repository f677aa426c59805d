"""File checksums: the sha256 that marks a dropped file as seen and an extension binary as the one pip installed."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_checksum(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so a large drop never sits in memory whole."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

"""Files of a saved index read by position (pread): pages stay in the kernel's cache, not in the process."""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np

# Why not mmap: a mapped page that was touched counts in the process's resident memory, and the kernel maps page
# cache in large folios, so twenty scattered reads of a 75 MB file made 31 MB resident. pread copies what is read.


class Blob:
    """Bytes of a file, sliced as `blob[a:b]` and read whole with `bytes(blob)`; the file stays open."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        weakref.finalize(self, os.close, self.fd)

    def __getitem__(self, part: slice) -> bytes:
        start, stop = part.start or 0, self.size if part.stop is None else part.stop
        return os.pread(self.fd, max(stop - start, 0), start)

    def __bytes__(self) -> bytes:
        return self[0:self.size]

    def __len__(self) -> int:
        return self.size


class FiledArray:
    """A 1-D .npy array read by slices (`arr[a:b]` -> ndarray); only what is sliced is ever in memory."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            self.offset = f.tell()
        if len(shape) != 1 or fortran:
            raise ValueError(f"{path}: expected a 1-D array, found shape {shape}")
        self.dtype, self.length = np.dtype(dtype), shape[0]
        self.blob = Blob(path)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop = part.start or 0, self.length if part.stop is None else min(part.stop, self.length)
        size = self.dtype.itemsize
        raw = self.blob[self.offset + start * size: self.offset + max(stop, start) * size]
        return np.frombuffer(raw, dtype=self.dtype)

"""A table of strings stored as one UTF-8 blob plus offsets, read by position: no Python object per string."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from countyhub.catalog.filed import Blob

SEP = b"\n"


def loaded(path: Path) -> np.ndarray:
    """A small saved array (offsets, orders, pair keys), read whole: a few bytes a document."""
    return np.load(path)


class StringTable:
    """Strings i = blob[offsets[i]:offsets[i+1]-1]. Sorted tables answer exact and prefix lookups by bisection."""

    def __init__(self, blob: bytes | Blob, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets
        self.pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # see save_pairs

    @classmethod
    def build(cls, strings: Iterable[str]) -> StringTable:
        encoded = [s.encode("utf-8") for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            offsets[1:] = np.cumsum([len(b) + 1 for b in encoded])
        return cls(SEP.join(encoded) + (SEP if encoded else b""), offsets)

    def save(self, folder: Path, name: str) -> None:
        (folder / f"{name}.bin").write_bytes(bytes(self.blob))
        np.save(folder / f"{name}.offsets.npy", self.offsets)

    def save_pairs(self, folder: Path, name: str) -> None:
        """Save which entries contain each pair of adjacent non-ASCII characters (户籍 -> every term with 户籍 in
        it), so `containing` on the mapped table looks at those entries instead of scanning the whole blob."""
        keys, rows = [], []
        for row, text in enumerate(self):
            if not text.isascii():
                pairs = {ord(a) << 21 | ord(b) for a, b in itertools.pairwise(text) if ord(a) > 127}
                keys += pairs
                rows += [row] * len(pairs)
        keys_arr, rows_arr = np.array(keys, dtype=np.int64), np.array(rows, dtype=np.int32)
        order = np.argsort(keys_arr, kind="stable")
        unique, start = np.unique(keys_arr[order], return_index=True)
        np.save(folder / f"{name}.pair_keys.npy", unique)
        np.save(folder / f"{name}.pair_start.npy", np.append(start, len(order)).astype(np.int64))
        np.save(folder / f"{name}.pair_rows.npy", rows_arr[order])

    @classmethod
    def open(cls, folder: Path, name: str) -> StringTable:
        table = cls._open(folder, name)
        if (folder / f"{name}.pair_keys.npy").exists():
            table.pairs = tuple(loaded(folder / f"{name}.pair_{part}.npy") for part in ("keys", "start", "rows"))
        return table

    @classmethod
    def _open(cls, folder: Path, name: str) -> StringTable:
        return cls(Blob(folder / f"{name}.bin"), loaded(folder / f"{name}.offsets.npy"))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self.blob[int(self.offsets[i]): int(self.offsets[i + 1]) - 1].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        """Every entry in order: the blob read once and split (no entry holds a newline), not one read each."""
        if not len(self):
            return iter(())
        return iter(bytes(self.blob).decode("utf-8").split("\n")[:-1])

    def find(self, s: str) -> int:
        """Index of `s` in a sorted table, or -1."""
        i = self._left(s)
        return i if i < len(self) and self[i] == s else -1

    def equal_range(self, s: str) -> tuple[int, int]:
        """[start, end) of the entries equal to `s` in a sorted table that may repeat strings."""
        start = self._left(s)
        end = start
        while end < len(self) and self[end] == s:
            end += 1
        return start, end

    def prefixed(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` entries of a sorted table starting with `prefix`, in order."""
        out = []
        i = self._left(prefix)
        while i < len(self) and len(out) < limit:
            s = self[i]
            if not s.startswith(prefix):
                break
            out.append(s)
            i += 1
        return out

    def containing(self, part: str) -> list[int]:
        """Indexes (ascending) of the entries containing `part`: one scan of the blob, no decoding.
        UTF-8 is self-synchronising and no entry holds a newline, so every hit lies inside one entry."""
        if not len(self) or not part:
            return []
        if self.pairs is not None and len(part) >= 2 and ord(part[0]) > 127:
            keys, start, rows = self.pairs
            i = int(np.searchsorted(keys, ord(part[0]) << 21 | ord(part[1])))
            if i == len(keys) or keys[i] != ord(part[0]) << 21 | ord(part[1]):
                return []
            found = sorted(rows[start[i]: start[i + 1]].tolist())
            return found if len(part) == 2 else [r for r in found if part in self[r]]
        needle, blob, hits = part.encode("utf-8"), bytes(self.blob), []  # a saved table: read whole, once
        at = blob.find(needle)
        while at >= 0:  # find() is a memchr-speed scan; the regex engine was four times slower on 10 MB
            hits.append(at)
            at = blob.find(needle, at + len(needle))
        if not hits:
            return []
        rows = np.searchsorted(self.offsets, np.array(hits, dtype=np.int64), side="right") - 1
        return np.unique(rows).tolist()

    def _left(self, s: str) -> int:
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self[mid] < s:
                lo = mid + 1
            else:
                hi = mid
        return lo

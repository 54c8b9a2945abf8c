"""A table of short texts by row (each sentence's or chunk's reading), stored as two
arrays: the UTF-8 bytes of all rows together, and where each row starts. Memory-mapped,
so a question reads only its own rows' bytes."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.arrays import mapped


class TextTableWriter:
    """Collects rows in order; machine arrays, not a Python string per row (an archive
    has millions of sentences)."""

    def __init__(self) -> None:
        self._bytes = bytearray()
        self._ends = array("q")

    def add(self, text: str) -> None:
        """The next row."""
        self._bytes += text.encode("utf-8")
        self._ends.append(len(self._bytes))

    def extend(self, texts: Iterable[str]) -> None:
        """The next rows."""
        for text in texts:
            self.add(text)

    def save(self, folder: Path, name: str) -> None:
        """Write ``name.npy`` (the bytes) and ``name_starts.npy``."""
        np.save(folder / f"{name}.npy", np.frombuffer(self._bytes, dtype=np.uint8))
        starts = np.zeros(len(self._ends) + 1, dtype=np.int64)
        starts[1:] = np.frombuffer(self._ends, dtype=np.int64) if self._ends else []
        np.save(folder / f"{name}_starts.npy", starts)


class TextTable:
    """The rows a ``TextTableWriter`` saved."""

    def __init__(self, data: np.ndarray, starts: np.ndarray) -> None:
        if data.dtype != np.uint8 or starts.dtype != np.int64 or data.ndim != 1:
            raise ValueError("text table arrays of the wrong type")
        if starts.ndim != 1 or not len(starts) or starts[0] != 0 or starts[-1] != len(data) \
                or (np.diff(starts) < 0).any():
            raise ValueError("text table offsets do not fit its bytes")
        # No row may start inside a character (a byte 10xxxxxx continues one).
        if ((data[starts[:-1][starts[:-1] < len(data)]] & 0xC0) == 0x80).any():
            raise ValueError("text table rows start inside a character")
        self._data, self._starts = data, starts

    @classmethod
    def load(cls, folder: Path, name: str) -> TextTable | None:
        """The table saved as ``name`` in ``folder``, or None when there is none. Raises
        ValueError (or OSError) when its files do not fit together."""
        if not (folder / f"{name}.npy").exists():
            return None
        return cls(mapped(folder / f"{name}.npy"), np.load(folder / f"{name}_starts.npy"))

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, row: int) -> str:
        return self._data[self._starts[row]:self._starts[row + 1]].tobytes().decode("utf-8")

    @staticmethod
    def files(name: str) -> tuple[str, str]:
        """The file names of a table saved as ``name``."""
        return f"{name}.npy", f"{name}_starts.npy"

"""Reading stored arrays: memory-mapped as plain arrays, float16 widened by table to the
same bits as numpy."""

from __future__ import annotations

import numpy as np

from index.arrays import TABLE_LIMIT, mapped, rows_float32


def test_every_float16_widens_to_the_bits_numpy_gives():
    every = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    table = rows_float32(every.reshape(-1, 1), slice(None))
    expected = every.astype(np.float32).reshape(-1, 1)
    assert table.dtype == np.float32
    assert np.array_equal(table.view(np.uint32), expected.view(np.uint32))


def test_rows_of_a_matrix_one_row_and_float32_builds():
    rng = np.random.default_rng(3)
    halves = rng.standard_normal((50, 8)).astype(np.float16)
    rows = np.array([3, 7, 7, 41])
    assert np.array_equal(rows_float32(halves, rows), halves[rows].astype(np.float32))
    assert np.array_equal(rows_float32(halves, 5), halves[5].astype(np.float32))
    singles = halves.astype(np.float32)  # a build that stored float32 vectors
    assert np.array_equal(rows_float32(singles, rows), singles[rows])


def test_a_mapped_file_reads_as_a_plain_array(tmp_path):
    stored = np.arange(12, dtype=np.float16).reshape(4, 3)
    np.save(tmp_path / "v.npy", stored)
    found = mapped(tmp_path / "v.npy")
    assert type(found) is np.ndarray and type(found[[0, 2]]) is np.ndarray
    assert not found.flags.writeable
    assert np.array_equal(found, stored)


def test_a_large_read_widens_to_the_same_bits():
    halves = np.random.default_rng(5).standard_normal((TABLE_LIMIT // 64 + 3, 64)).astype(
        np.float16)
    rows = np.arange(len(halves))
    assert np.array_equal(rows_float32(halves, rows).view(np.uint32),
                          halves.astype(np.float32).view(np.uint32))

"""`rank_time_order` is `np.lexsort((seq, times, rank))` whatever order the log comes in."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.intervals import rank_time_order


def shapes(rng: np.random.Generator, n: int):
    rank = rng.integers(0, n // 4 + 1, n)
    times = rng.integers(0, n // 2 + 1, n)  # many equal times: ties broken by file order
    seq = np.arange(n)
    by_time = np.lexsort((seq, times))
    by_item = np.lexsort((seq, times, rank))
    yield "random", rank, times, seq
    yield "time order", rank[by_time], times[by_time], seq
    yield "item order", rank[by_item], times[by_item], seq
    if n >= 4:
        swapped = by_item.copy()
        swapped[[n // 2, n // 2 + 1]] = swapped[[n // 2 + 1, n // 2]]
        yield "item order but two rows", rank[swapped], times[swapped], seq


@pytest.mark.parametrize("n", [0, 1, 2, 3, 50, 2_000])
def test_every_shape_of_log_gives_the_lexsort_order(n):
    rng = np.random.default_rng(n)
    for name, rank, times, seq in shapes(rng, max(n, 0)):
        expected = np.lexsort((seq, times, rank))
        assert np.array_equal(rank_time_order(rank, times, seq), expected), name

"""Event batches: selections are copies, ordering is on the one clock."""

from __future__ import annotations

import numpy as np

from jgod_core.data.events import EventBatch


def test_take_of_a_slice_is_a_copy_not_a_view():
    batch = EventBatch.empty(4)
    batch.symbol[:] = 1
    part = batch.take(slice(None))
    part.symbol[:] = 7
    part.book[0, 0] = 1.0
    assert (batch.symbol == 1).all() and np.isnan(batch.book[0, 0])


def test_sorted_by_exchange_time_keeps_ties_in_their_order():
    batch = EventBatch.empty(4)
    batch.exchange_ns[:] = [3, 1, 3, 1]
    batch.seq[:] = [0, 1, 2, 3]
    assert batch.sorted_by_exchange_time().seq.tolist() == [1, 3, 0, 2]

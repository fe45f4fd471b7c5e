"""Batches of like length (rag/components/runtime/batching.py)."""

from rag.components.runtime.batching import length_batches, padded_cost


def test_short_inputs_are_not_padded_to_a_long_ones_length():
    lengths = [160, 40, 41, 158, 39] + [40] * 20
    batches = length_batches(lengths, batch_size=32, pad_rows=True, pad_tokens=32)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # each once
    long = {0, 3}
    assert set(batches[-1]) == long  # the two long ones alone, last
    assert all(not long & set(b) for b in batches[:-1])


def test_batches_are_at_most_batch_size_and_shortest_first():
    lengths = [10] * 70
    batches = length_batches(lengths, batch_size=32)
    assert all(len(b) <= 32 for b in batches) and sum(map(len, batches)) == 70
    assert length_batches([], 32) == []


def test_a_cut_must_save_more_than_a_pass_costs():
    # Two lengths close together: one batch (a second pass would cost more than the padding).
    assert len(length_batches([30, 34, 33, 31], batch_size=32, pass_cost=256)) == 1
    assert len(length_batches([30, 34, 33, 31], batch_size=32, pass_cost=0)) > 1


def test_padded_cost_pads_rows_to_a_power_of_two_and_tokens_to_a_multiple():
    assert padded_cost(5, 33, pad_rows=True, pad_tokens=32) == 8 * 64
    assert padded_cost(5, 33, pad_rows=False, pad_tokens=0) == 5 * 33

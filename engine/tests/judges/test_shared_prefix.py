"""Packing questions behind their shared opening (judges/shared_prefix.py): where the prefix stops, and a
mask under which each question's tail sees the prefix and itself, causally, and never another tail."""

from __future__ import annotations

import torch

from dualproc_engine.judges.shared_prefix import mask_format, pack, shared_prefix_length


def _rows() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Three rows sharing 4 tokens; row 1 is one token shorter (right-padded with 0)."""
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 8, 9, 0], [1, 2, 3, 4, 5, 9, 7]])
    attention = (torch.arange(7)[None] < torch.tensor([[7], [6], [7]])).long()
    target = torch.zeros(3, 7, dtype=torch.bool)
    target[0, 5] = target[1, 4] = target[2, 5] = True  # each row's last token is its answer
    return ids, attention, target


def test_the_prefix_stops_where_rows_differ_or_one_is_scored() -> None:
    ids, attention, target = _rows()
    assert shared_prefix_length(ids, attention, target) == 4
    target[2, 3] = True  # a row scored inside the shared part: its hidden state is needed per row
    assert shared_prefix_length(ids, attention, target) == 3
    assert shared_prefix_length(ids[:1], attention[:1], target[:1]) == 0  # one question: nothing to share


def test_each_tail_sees_the_prefix_and_itself_and_no_other_tail() -> None:
    ids, attention, target = _rows()
    packed = pack(ids, attention, target, 4)
    assert (packed.prefix, packed.tail) == (4, 3)
    mask = packed.mask[0, 0]
    assert mask.shape == (4 + 3 * 3, 4 + 3 * 3)
    assert torch.equal(mask[:4, :4], torch.ones(4, 4, dtype=torch.bool).tril())  # the prefix is causal
    assert not mask[:4, 4:].any()  # the prefix never sees a tail
    for q in range(3):
        block = slice(4 + 3 * q, 7 + 3 * q)
        assert mask[block, :4].all()
        own = mask[block, block]
        real = attention[q, 4:].bool()
        assert torch.equal(own, torch.ones(3, 3, dtype=torch.bool).tril() & real[None, :])
        others = torch.ones(13, dtype=torch.bool)
        others[:4] = others[block] = False
        assert not mask[block][:, others].any()
    # scored positions and the tokens they predict, taken from each row's own tokens
    assert packed.question.tolist() == [0, 1, 2]
    assert packed.scored.tolist() == [4 + 1, 4 + 3 + 0, 4 + 6 + 1]
    assert packed.next_ids.tolist() == [7, 9, 7]


def test_packing_lays_out_the_first_prefix_then_every_tail() -> None:
    ids, attention, target = _rows()
    packed = pack(ids, attention, target, 4)
    values = ids[None, :, :, None].float()  # (1, Q, T, 1)
    assert packed.sequence(values)[0, :, 0].long().tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 5, 9, 7]
    additive = packed.attention_mask(2, torch.float32, "additive")
    assert additive.shape == (2, 1, 13, 13)
    assert torch.equal(additive[0, 0] == 0, packed.mask[0, 0])


def test_only_kernels_that_take_a_custom_mask_pack() -> None:
    assert mask_format("sdpa") == "bool" and mask_format("eager") == "additive"
    assert mask_format("flash_attention_2") is None

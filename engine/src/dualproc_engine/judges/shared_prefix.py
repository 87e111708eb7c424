"""Questions about one image that share their opening tokens, packed into one sequence.

A chat VLM reads each question as [system turn, image tokens, question, answer]. Asked Q questions about one
picture, the plain way runs Q sequences that repeat the same opening (hundreds of image tokens) Q times.
Packed, one sequence holds the common prefix once and the Q differing tails after it; a 4-D attention mask
lets each tail see the prefix and, causally, itself, never another tail. Every tail keeps the rotary
positions it has in its own sequence, so each answer token sees exactly the keys, values and positions it
would alone: the scores equal the plain ones (up to float rounding), and the language model reads P + Q * S
tokens instead of Q * (P + S).

The mask is handed to a `transformers` decoder as a prepared 4-D mask, which `sdpa` (boolean) and `eager`
(additive) attention take as is; other attention kernels take no custom mask (`mask_format` says None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

MIN_SHARED_TOKENS = 8
"""Below this many shared tokens packing saves too little to be worth a custom mask."""


def mask_format(attn_implementation: str | None) -> str | None:
    """How the decoder wants a prepared 4-D mask: "bool" (sdpa: True attends), "additive" (eager: 0 or the
    dtype's minimum, added to the scores), or None when its kernel takes no custom mask."""
    if attn_implementation in (None, "sdpa"):
        return "bool"
    if attn_implementation == "eager":
        return "additive"
    return None


def shared_prefix_length(ids: Tensor, attention: Tensor, target: Tensor) -> int:
    """How many opening tokens all Q rows share, stopping before the first position any row is scored at
    (the prefix's hidden states are computed once, so none of them may be needed per row)."""
    if ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(dim=0) & attention.bool().all(dim=0)
    first_differing = int(same.logical_not().nonzero()[0]) if not bool(same.all()) else ids.shape[1]
    scored = target.any(dim=0).nonzero()
    first_scored = int(scored[0]) if scored.numel() else ids.shape[1]
    return min(first_differing, first_scored)


@dataclass
class Packed:
    """One image's Q questions as one sequence of P + Q * S tokens."""

    prefix: int
    """P: tokens shared by every question."""
    tail: int
    """S: tokens of each question's tail (right-padded to the longest)."""
    mask: Tensor
    """(1, 1, L, L) bool: query i may attend to key j."""
    scored: Tensor
    """(N,) packed positions whose hidden state predicts an answer token."""
    question: Tensor
    """(N,) the question each scored position belongs to."""
    next_ids: Tensor
    """(N,) the answer token each scored position predicts."""
    origin: Tensor
    """(L,) each packed token's position in its own question's sequence."""

    def sequence(self, per_question: Tensor) -> Tensor:
        """(..., Q, T, X) per-question values -> (..., P + Q * S, X) packed: the first question's prefix, then
        every question's tail. Works for embeddings (B, Q, T, D) and positions (3, Q, T, 1) alike."""
        head = per_question[..., 0, : self.prefix, :]
        tails = per_question[..., self.prefix :, :]
        return torch.cat([head, tails.flatten(-3, -2)], dim=-2)

    def attention_mask(
        self, batch: int, dtype: torch.dtype, fmt: str, sliding_window: int | None = None
    ) -> Tensor:
        """The mask for `batch` packed sequences in the decoder's format (`mask_format`); with a sliding
        window, keys also within `sliding_window` positions behind the query, counted in its own sequence."""
        mask = self.mask
        if sliding_window is not None:
            mask = mask & (self.origin[None, :] > self.origin[:, None] - sliding_window)
        mask = mask.expand(batch, 1, -1, -1)
        if fmt == "bool":
            return mask
        blocked = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=mask.device)
        return torch.where(mask, torch.zeros((), dtype=dtype, device=mask.device), blocked)


def pack(
    ids: Tensor, attention: Tensor, target: Tensor, prefix: int, both_ways: Tensor | None = None
) -> Packed:
    """The packing of Q right-padded rows (ids, attention, target: (Q, T)) that share `prefix` tokens.

    `both_ways` (prefix,) bool: prefix tokens that also see each other ahead (Gemma 3's image tokens)."""
    q, t = ids.shape
    tail = t - prefix
    length = prefix + q * tail
    device = ids.device
    position = torch.arange(length, device=device)
    in_tail = position >= prefix
    # which question's tail each packed position is in (-1: the prefix), and where in that tail
    owner = torch.where(in_tail, (position - prefix) // max(tail, 1), torch.full_like(position, -1))
    offset = torch.where(in_tail, (position - prefix) % max(tail, 1), position)
    tail_attention = attention[:, prefix:].bool()  # (Q, S)
    key_real = torch.ones(length, dtype=torch.bool, device=device)
    key_real[prefix:] = tail_attention.flatten()
    causal_prefix = ~in_tail[None, :] & (position[None, :] <= position[:, None])  # a prefix key, not ahead
    prefix_key_for_tail = ~in_tail[None, :] & in_tail[:, None]  # every tail sees the whole prefix
    own_tail = (
        in_tail[None, :]
        & (owner[None, :] == owner[:, None])
        & (offset[None, :] <= offset[:, None])
        & key_real[None, :]
    )
    mask = causal_prefix | prefix_key_for_tail | own_tail
    if both_ways is not None:
        mask[:prefix, :prefix] |= both_ways[:, None] & both_ways[None, :]
    mask = mask[None, None]
    rows, cols = target[:, prefix:].nonzero(as_tuple=True)
    return Packed(
        prefix=prefix,
        tail=tail,
        mask=mask,
        scored=prefix + rows * tail + cols,
        question=rows,
        next_ids=ids[rows, prefix + cols + 1],
        origin=torch.where(in_tail, prefix + offset, position),
    )


def packed_logprob(
    language_model: Any,
    lm_head: Any,
    embeds: Tensor,
    positions: Tensor,
    tokens: tuple[Tensor, Tensor, Tensor],
    prefix: int,
    fmt: str,
    both_ways: Tensor | None = None,
) -> Tensor:
    """(B, Q) summed log-probabilities of each question's answer tokens, each image's Q questions run as one
    packed sequence through a `transformers` decoder.

    embeds (B, Q, T, D): every question's input embeddings after image b; positions (..., Q, T): each token's
    position in its own sequence ((Q, T) for 1-D positions, (3, Q, T) for M-RoPE); tokens: (ids, attention,
    target), each (Q, T), as `encode_texts` gives them; both_ways: as `pack` takes it."""
    b, q = embeds.shape[:2]
    packed = pack(*tokens, prefix, both_ways)
    sequence = packed.sequence(embeds)  # (B, L, D)
    where = packed.sequence(positions[..., None]).squeeze(-1)  # (..., L)
    full = packed.attention_mask(b, sequence.dtype, fmt)
    mask: Tensor | dict[str, Tensor] = full
    window = getattr(language_model.config, "sliding_window", None)
    if "sliding_attention" in (getattr(language_model.config, "layer_types", None) or []) and window:
        # layers of both kinds (Gemma 3): each gets its own mask
        sliding = packed.attention_mask(b, sequence.dtype, fmt, int(window))
        mask = {"full_attention": full, "sliding_attention": sliding}
    hidden = language_model(
        inputs_embeds=sequence,
        attention_mask=mask,
        position_ids=where.unsqueeze(-2).expand(*where.shape[:-1], b, where.shape[-1]),
    ).last_hidden_state
    # logits only where an answer token is predicted: the full-vocabulary softmax is still exact there
    logits = lm_head(hidden[:, packed.scored]).float()  # (B, N, vocab)
    next_ids = packed.next_ids[None, :, None].expand(b, -1, 1)
    token_logprob = torch.log_softmax(logits, dim=-1).gather(2, next_ids).squeeze(2)  # (B, N)
    out = torch.zeros(b, q, dtype=token_logprob.dtype, device=token_logprob.device)
    return out.index_add(1, packed.question, token_logprob)


def packable_prefix(language_model: Any, tokens: tuple[Tensor, Tensor, Tensor]) -> tuple[int, str | None]:
    """(shared prefix length, mask format) when packing is worth it for this decoder, else (0, None)."""
    fmt = mask_format(getattr(language_model.config, "_attn_implementation", None))
    if fmt is None:
        return 0, None
    prefix = shared_prefix_length(*tokens)
    return (prefix, fmt) if prefix >= MIN_SHARED_TOKENS else (0, None)

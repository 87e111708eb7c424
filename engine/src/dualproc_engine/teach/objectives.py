"""The objective: teacher-forced -log P(wanted answer | image, question), weighted over questions.

The judge returns log P(answer tokens) summed over the answer's tokens (full-vocabulary softmax,
judges/base.py);
the paper's loss for a question is its negative, its score exp(-loss), and its total the plain mean over
questions (here a weighted mean; equal weights give the paper's). Kept apart from the loop so the same
functions score training steps, evaluation grids and the benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def answer_nll(logprob: Tensor) -> Tensor:
    """(B, Q) -log P(answer q | image b, question q)."""
    return -logprob


def question_weights(weights: Sequence[float], device: torch.device | None = None) -> Tensor:
    """(Q,) weights normalised to sum to 1 (the paper: 1/Q each)."""
    w = torch.tensor([float(x) for x in weights], dtype=torch.float32, device=device)
    if w.ndim != 1 or not bool((w >= 0).all()) or not float(w.sum()) > 0:
        raise ValueError(f"weights: expected non-negative numbers with a positive sum, got {list(weights)}")
    return w / w.sum()


def weighted_loss(nll: Tensor, weights: Tensor) -> Tensor:
    """Scalar: sum_q w_q * mean_b nll[b, q] with normalised weights (mean over the batch)."""
    return (nll.mean(dim=0) * weights.to(nll.device, nll.dtype)).sum()


def question_losses(nll: Tensor) -> Tensor:
    """(Q,) per-question loss, the batch mean of -log P."""
    return nll.detach().mean(dim=0)


def scores(nll: Tensor) -> Tensor:
    """(Q,) per-question score exp(-loss) (the paper's logged score; 1 = the judge is sure of the answer)."""
    return torch.exp(-question_losses(nll))

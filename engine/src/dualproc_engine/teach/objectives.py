"""The objective: teacher-forced -log P(wanted answer | image, question), weighted over questions.

The judge returns log P(answer tokens) summed over the answer's tokens (full-vocabulary softmax,
judges/base.py);
the paper's loss for a question is its negative, its score exp(-loss), and its total the plain mean over
questions (here a weighted mean; equal weights give the paper's). Kept apart from the loop so the same
functions score training steps, evaluation grids and the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
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


def weighted_loss(nll: Tensor, weights: Tensor, asked: Tensor | None = None) -> Tensor:
    """Scalar: the mean over images of each image's weighted mean nll over the questions asked of it.

    `asked` (B, Q) is 1 where question q is asked of image b (a question about the prompt's own slot values
    is asked only of its prompts' images); None: every question of every image, which gives
    sum_q w_q * mean_b nll[b, q] with normalised weights (the paper's mean when weights are equal)."""
    return per_image_weighted_mean(nll, weights, asked).mean()


def per_image_weighted_mean(values: Tensor, weights: Tensor, asked: Tensor | None = None) -> Tensor:
    """(B,) each image's weighted mean of its (B, Q) values over the questions asked of it (NaN for an image
    asked none). An unasked value may be NaN (`QuestionSet.logprob` leaves it uncomputed), so it is left
    out with `where`, not multiplied by a zero weight."""
    w = weights.to(values.device, values.dtype).expand_as(values)
    if asked is None:
        return (values * w).sum(dim=1) / w.sum(dim=1)
    mask = asked.to(values.device, torch.bool)
    w = w * mask
    weighted = torch.where(mask, values * w, torch.zeros_like(values))
    return weighted.sum(dim=1) / w.sum(dim=1)


def yes_against_no(logprob: Tensor) -> Tensor:
    """(B, 2K) log-probabilities of the answers of `TeachConfig.keep_questions` (each question answered Yes,
    then No) -> (B, K) log-odds of Yes against No: the judge's two-way answer (a judge may spread probability
    over other words; those are left out)."""
    return (logprob[:, 0::2] - logprob[:, 1::2]).float()


def kept_answers_loss(taught: Tensor, base: Tensor, weights: Tensor) -> Tensor:
    """Scalar: how far the judge's answers about the taught images moved from its answers about the base
    model's images, for the recipe's keep questions.

    `taught` and `base` are (B, 2K) log-probabilities of the answers of `TeachConfig.keep_questions`;
    `weights` (K,) normalised. The loss is the KL divergence of the taught image's two-way answer
    (`yes_against_no`) from the base image's, weighted over the questions and averaged over images: 0 when
    every answer is as it was, whatever the answer was."""
    logit_taught = yes_against_no(taught)
    logit_base = yes_against_no(base).detach()
    p_base = torch.sigmoid(logit_base)
    cross = F.binary_cross_entropy_with_logits(logit_taught, p_base, reduction="none")
    entropy = F.binary_cross_entropy_with_logits(logit_base, p_base, reduction="none")
    return ((cross - entropy) * weights.to(cross.device)).sum(dim=1).mean()


def question_losses(nll: Tensor, asked: Tensor | None = None) -> Tensor:
    """(Q,) per-question loss, the mean of -log P over the images it was asked of (NaN: asked of none)."""
    nll = nll.detach()
    if asked is None:
        return nll.mean(dim=0)
    mask = asked.to(nll.device, torch.bool)
    total = torch.where(mask, nll, torch.zeros_like(nll)).sum(dim=0)
    count = mask.sum(dim=0)
    return torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, float("nan")))


def scores(nll: Tensor, asked: Tensor | None = None) -> Tensor:
    """(Q,) per-question score exp(-loss) (the paper's logged score; 1 = the judge is sure of the answer;
    NaN for a question asked of none of the images)."""
    return torch.exp(-question_losses(nll, asked))


def finite_or_none(values: list[float]) -> list[float | None]:
    """JSON-safe per-question numbers: None for a question that was not asked (NaN)."""
    return [v if math.isfinite(v) else None for v in values]

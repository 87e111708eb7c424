"""One optimiser step of dual-process distillation: generator -> images -> judge -> loss -> LoRA update.

`Run` holds what is fixed for a whole run (encoded prompts, the noise pool, the schedule, the questions);
`train_step` draws its batch from the run's `random.Random` (so a checkpoint of that state replays exactly),
accumulates gradients over micro-batches, clips, and steps AdamW unless the loss or the gradient is not
finite (then nothing changes and the caller counts a NaN step).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..generators.base import PromptEmbeds
from .adapters import autocast, judge_checkpointing
from .config import TrainingConfig
from .objectives import (
    answer_nll,
    kept_answers_loss,
    question_losses,
    question_weights,
    scores,
    weighted_loss,
)
from .path import (
    base_target,
    diversity_loss,
    draw_window,
    images_with_grad,
    layout_loss,
    palette_loss,
    preserve_loss,
)
from .questions import QuestionSet
from .views import random_views


@dataclass
class Run:
    gen: Any
    questions: QuestionSet
    training: TrainingConfig
    prompt_embeds: PromptEmbeds
    """(P, ...) every training prompt, encoded once (a tensor, or token + pooled embeddings)."""
    noise_pool: Tensor
    """(noise_pool_size, ...) the fixed training noises, from the run's seed."""
    sigmas: Tensor
    weights: Tensor
    params: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    device: torch.device
    preserve_embeds: PromptEmbeds | None = None
    scaler: Any = None
    judge_logprob: Any = None
    """(images, asked or None) -> (B, Q); default `questions.logprob` (the benchmark swaps in others)."""
    asked: Tensor | None = None
    """(P, Q) 1 where question q is asked of training prompt p's images; None: every question of every one."""
    keep: QuestionSet | None = None
    """The recipe's keep questions bound to the training judge (`TeachConfig.keep_questions`); None: none."""
    checkpointing: frozenset[str] = field(init=False)
    """The parts checkpointed: some of generator, decoder, judge (`TrainingConfig.checkpointed`)."""

    def __post_init__(self) -> None:
        self.checkpointing = self.training.checkpointed
        if self.judge_logprob is None:
            self.judge_logprob = self.questions.logprob


@dataclass
class StepResult:
    loss: float
    """The weighted judge loss, mean over micro-batches (NaN when it was not finite)."""
    question_losses: list[float]
    """Per question; NaN for a question asked of none of this step's images."""
    scores: list[float]
    grad_norm: float
    preserve_loss: float | None
    palette_loss: float | None
    layout_loss: float | None
    diversity_loss: float | None
    keep_loss: float | None
    skipped: bool


@dataclass
class MicroBatch:
    """One micro-batch's losses, with a graph to the LoRA (a regulariser that is off is None)."""

    judge_loss: Tensor
    nll: Tensor
    """(B, Q) minus the log-probability of each wanted answer."""
    asked: Tensor | None
    preserve: Tensor | None
    palette: Tensor | None
    layout: Tensor | None
    diversity: Tensor | None
    keep: Tensor | None

    def total(self, t: TrainingConfig) -> Tensor:
        total = self.judge_loss
        for value, weight in (
            (self.preserve, t.preserve_weight),
            (self.palette, t.preserve_palette_weight),
            (self.layout, t.preserve_layout_weight),
            (self.diversity, t.preserve_diversity_weight),
            (self.keep, t.keep_weight),
        ):
            if value is not None:
                total = total + weight * value
        return total


def micro_batch_loss(run: Run, rng: random.Random) -> MicroBatch:
    t = run.training
    prompt_idx = [rng.randrange(run.prompt_embeds.shape[0]) for _ in range(t.train_batch_size)]
    noise_idx = [rng.randrange(run.noise_pool.shape[0]) for _ in range(t.train_batch_size)]
    window = draw_window(t.num_inference_steps, t.backprop_steps, rng)
    noise = run.noise_pool[noise_idx]
    with autocast(run.device, t.mixed_precision):
        with judge_checkpointing(run.questions.judge, "judge" in run.checkpointing):
            images = images_with_grad(
                run.gen, run.prompt_embeds[prompt_idx], noise, run.sigmas, window, run.checkpointing
            )
            asked = run.asked[prompt_idx] if run.asked is not None else None
            logprob = run.judge_logprob(random_views(images, t.judge_augment, rng), asked)
        nll = answer_nll(logprob.float())
        loss = weighted_loss(nll, run.weights, asked)
        kept = None
        if run.preserve_embeds is not None and t.preserve_weight > 0:
            k = rng.randrange(run.preserve_embeds.shape[0])
            embeds = run.preserve_embeds[[k] * t.train_batch_size]
            kept = preserve_loss(run.gen, embeds, noise, run.sigmas, window, t.lora_scale, run.checkpointing)
            kept = kept.float()
        palette = layout = diversity = keep = None
        compared = (t.preserve_palette_weight, t.preserve_layout_weight, t.preserve_diversity_weight)
        if any(w > 0 for w in compared) or run.keep is not None:
            embeds = run.prompt_embeds[prompt_idx]
            target = base_target(run.gen, embeds, noise, run.sigmas, window, t.lora_scale)
            palette = palette_loss(images, target) if t.preserve_palette_weight > 0 else None
            layout = layout_loss(images, target) if t.preserve_layout_weight > 0 else None
            diversity = diversity_loss(images, target) if t.preserve_diversity_weight > 0 else None
            if run.keep is not None:
                keep = keep_loss(run.keep, images, target, "judge" in run.checkpointing)
    return MicroBatch(loss, nll, asked, kept, palette, layout, diversity, keep)


def keep_loss(keep: QuestionSet, images: Tensor, target: Tensor, checkpointed: bool) -> Tensor:
    """The keep questions asked of the taught images (with gradient) and of the base model's (without): how
    far the judge's answers moved (`kept_answers_loss`). The judge sees the images as they are: views are
    for the control's own questions."""
    with judge_checkpointing(keep.judge, checkpointed):
        taught = keep.logprob(images)
    with torch.no_grad():
        base = keep.logprob(target.to(images.dtype))
    weights = question_weights(keep.weights[0::2], images.device)
    return kept_answers_loss(taught, base, weights)


def train_step(run: Run, rng: random.Random) -> StepResult:
    t = run.training
    run.optimizer.zero_grad(set_to_none=True)
    judge_losses, nlls, askeds = [], [], []
    regularisers: dict[str, list[float]] = {
        "preserve": [],
        "palette": [],
        "layout": [],
        "diversity": [],
        "keep": [],
    }
    for _ in range(t.gradient_accumulation_steps):
        batch = micro_batch_loss(run, rng)
        scaled = batch.total(t) / t.gradient_accumulation_steps
        (run.scaler.scale(scaled) if run.scaler is not None else scaled).backward()
        judge_losses.append(float(batch.judge_loss.detach()))
        nlls.append(batch.nll.detach())
        if batch.asked is not None:
            askeds.append(batch.asked)
        for name, values in regularisers.items():
            value = getattr(batch, name)
            if value is not None:
                values.append(float(value.detach()))
    if run.scaler is not None:
        run.scaler.unscale_(run.optimizer)
    # clip_grad_norm_ returns the norm before clipping: what we log, and where a NaN shows up
    grad_norm = float(torch.nn.utils.clip_grad_norm_(run.params, t.max_grad_norm))  # CPU-GPU sync point
    loss = sum(judge_losses) / len(judge_losses)
    skipped = not (math.isfinite(loss) and math.isfinite(grad_norm))
    if skipped:
        run.optimizer.zero_grad(set_to_none=True)
        if run.scaler is not None:
            run.scaler.update()
    elif run.scaler is not None:
        run.scaler.step(run.optimizer)
        run.scaler.update()
    else:
        run.optimizer.step()
    all_nll = torch.cat(nlls)
    all_asked = torch.cat(askeds) if askeds else None
    return StepResult(
        loss=loss,
        question_losses=question_losses(all_nll, all_asked).tolist(),
        scores=scores(all_nll, all_asked).tolist(),
        grad_norm=grad_norm,
        preserve_loss=_mean_or_none(regularisers["preserve"]),
        palette_loss=_mean_or_none(regularisers["palette"]),
        layout_loss=_mean_or_none(regularisers["layout"]),
        diversity_loss=_mean_or_none(regularisers["diversity"]),
        keep_loss=_mean_or_none(regularisers["keep"]),
        skipped=skipped,
    )


def _mean_or_none(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None

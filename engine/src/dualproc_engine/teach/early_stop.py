"""Early stopping on the held-out judge: the training judge's score is what the loop optimises, so it keeps
rising even while the generator learns to fool it; the held-out judge (another tower, seed and wording) is
the one to watch. At each evaluation it scores the evaluation images at the trained scale; the LoRA of the
best evaluation is kept aside (`best-lora.safetensors`), and training stops after `patience` evaluations
without a gain. The final LoRA is then the best one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from .objectives import per_image_weighted_mean
from .questions import QuestionSet

BEST_LORA = "best-lora.safetensors"
MIN_GAIN = 1e-4
"""A rise smaller than this (in probability) is not a gain."""


class HeldoutWatch:
    def __init__(self, questions: QuestionSet, patience: int, out: Path):
        self.questions, self.patience, self.path = questions, patience, out / BEST_LORA
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.waited = 0
        self.last_score: float | None = None

    def score(self, images: Tensor, asked: Tensor | None = None) -> float:
        """Mean over images of the weighted mean probability of the wanted answers asked of each (`asked`
        (B, Q): which questions each image was asked; None: all; an image asked none counts for nothing)."""
        device = getattr(self.questions.judge, "device", None)
        with torch.no_grad():
            probabilities = self.questions.logprob(images.to(device), asked).float().exp()
        weights = torch.tensor(self.questions.weights, dtype=probabilities.dtype)
        per_image = per_image_weighted_mean(probabilities, weights, asked)
        kept = ~torch.isnan(per_image)
        return float(per_image[kept].mean()) if bool(kept.any()) else 0.0

    def update(
        self, step: int, images: Tensor, params: list[torch.nn.Parameter], asked: Tensor | None = None
    ) -> bool:
        """Record the evaluation at `step`; True when training should stop."""
        score = self.last_score = self.score(images, asked)
        if self.best_score is None or score > self.best_score + MIN_GAIN:
            self.best_score, self.best_step, self.waited = score, step, 0
            save_file(
                {f"lora.{i}": p.detach().cpu().contiguous() for i, p in enumerate(params)}, str(self.path)
            )
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self, params: list[torch.nn.Parameter]) -> None:
        """Put the best evaluation's LoRA back into `params`."""
        lora = load_file(str(self.path))
        with torch.no_grad():
            for i, p in enumerate(params):
                p.copy_(lora[f"lora.{i}"])

    def state(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_step": self.best_step, "waited": self.waited}

    def load_state(self, state: dict[str, Any]) -> None:
        self.best_score, self.best_step, self.waited = (
            state["best_score"],
            state["best_step"],
            state["waited"],
        )

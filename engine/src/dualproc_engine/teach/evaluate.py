"""Evaluation during a run: the same prompts and seeds at each adapter scale, as a grid and judge scores.

Image (prompt p, seed s) uses `make_noise(1, s)` at every scale and step, so grids of one run compare
like with like. Rows are (scale, prompt) with scales in the recipe's order (0 first: the base model),
columns are seeds. Scale-0 images never change during a run and are computed once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .objectives import answer_nll, finite_or_none, scores
from .outputs import save_grid
from .questions import QuestionSet


class Evaluator:
    def __init__(self, gen: Any, prompts: list[str], seeds: list[int], scales: list[float], steps: int):
        self.gen, self.prompts, self.seeds, self.scales, self.steps = gen, prompts, seeds, scales, steps
        with torch.no_grad():
            embeds = gen.encode_prompt(prompts)
        self.embeds = embeds.repeat_interleave(len(seeds), dim=0)
        self.noise = torch.cat([gen.make_noise(1, s) for s in seeds]).repeat(len(prompts), *[1] * 3)
        self._cache: dict[float, Tensor] = {}

    def images(self, scale: float, restore_scale: float) -> Tensor:
        """(P * S, 3, H, W) prompt-major images at adapter `scale`."""
        if scale == 0 and 0.0 in self._cache:
            return self._cache[0.0]
        self.gen.set_lora_scale(scale)
        try:
            with torch.no_grad():
                out = torch.cat(
                    [
                        self.gen.sample(self.embeds[k : k + 64], self.noise[k : k + 64], self.steps).cpu()
                        for k in range(0, self.embeds.shape[0], 64)
                    ]
                )
        finally:
            self.gen.set_lora_scale(restore_scale)
        if scale == 0:
            self._cache[0.0] = out
        return out

    def asked(self, questions: QuestionSet) -> Tensor | None:
        """(P * S, Q) which questions are asked of each evaluation image; None: all of all."""
        if not questions.conditional:
            return None
        return questions.asked(self.prompts).repeat_interleave(len(self.seeds), dim=0)

    def run(
        self, step: int, out_dir: Path, questions: QuestionSet, restore_scale: float
    ) -> tuple[Path, dict[float, list[float | None]], dict[float, Tensor]]:
        """Write grids/step-N.png; return it, the training judge's per-question scores at each scale (None
        for a question asked of no evaluation prompt), and the images at each scale."""
        per_scale = {s: self.images(s, restore_scale) for s in self.scales}
        judged: dict[float, list[float | None]] = {}
        device = getattr(questions.judge, "device", None)
        asked = self.asked(questions)
        with torch.no_grad():
            for s, imgs in per_scale.items():
                nll = answer_nll(questions.logprob(imgs.to(device), asked).float())
                judged[s] = finite_or_none(scores(nll, asked).tolist())
        grid = torch.cat(list(per_scale.values()))
        path = save_grid(
            grid, rows=len(self.scales) * len(self.prompts), path=out_dir / "grids" / f"step-{step}.png"
        )
        return path, judged, per_scale

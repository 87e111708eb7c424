"""`preserve_diversity_weight`: keeps the taught images of a batch as different from one another as the base
model's images from the same prompts and noises, against the collapse of every picture to one look."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import PROMPT, recipe
from test_palette_preservation import BRIGHT

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import TrainingConfig
from dualproc_engine.teach.loop import teach
from dualproc_engine.teach.path import diversity_loss


def _spread(images: torch.Tensor) -> float:
    """Mean absolute pixel difference over every two images."""
    i, j = torch.triu_indices(len(images), len(images), offset=1)
    return float((images[i] - images[j]).abs().mean())


def test_only_a_loss_of_spread_costs():
    base = torch.rand(4, 3, 8, 8)
    assert float(diversity_loss(base, base)) == 0.0
    assert float(diversity_loss(2 * base - 0.5, base)) == 0.0  # further apart than the base: free
    collapsed = base.mean(0, keepdim=True).expand(4, -1, -1, -1)  # one look for all four
    assert float(diversity_loss(collapsed, base)) == pytest.approx(_spread(base) ** 2, rel=0.05)
    halfway = (base + collapsed) / 2
    assert 0 < float(diversity_loss(halfway, base)) < float(diversity_loss(collapsed, base))


def test_the_spread_passes_gradients_to_the_pixels():
    base = torch.rand(3, 3, 8, 8)
    taught = (base.mean(0, keepdim=True) + 0.01 * torch.rand(3, 3, 8, 8)).requires_grad_()
    diversity_loss(taught, base).backward()
    assert taught.grad is not None and float(taught.grad.abs().sum()) > 0


def test_the_weight_needs_two_images_a_batch_and_a_number_at_least_zero():
    with pytest.raises(UserError, match="preserve_diversity_weight"):
        TrainingConfig(preserve_diversity_weight=-1.0)
    with pytest.raises(UserError, match="train_batch_size"):
        TrainingConfig(preserve_diversity_weight=1.0, train_batch_size=1)
    TrainingConfig(preserve_diversity_weight=1.0, train_batch_size=2)


class OneLookJudge:
    """'Yes' the nearer every pixel is to mid-grey: a judge that rewards painting every picture alike."""

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        z = -20.0 * (images - 0.5).abs().mean(dim=(1, 2, 3))
        return torch.stack([torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers], dim=1)


def _images(gen, scale: float) -> torch.Tensor:
    embeds = gen.encode_prompt([PROMPT] * 4)
    noise = gen.make_noise(4, 321)
    gen.set_lora_scale(scale)
    with torch.no_grad():
        return gen.sample(embeds, noise, 1)


def test_the_regulariser_keeps_the_spread_a_one_look_judge_takes_away(make_generator, tmp_path):
    runs = {}
    # the loss is the squared shrink, and the tiny generator's shrinks are about 0.02: a weight this large
    # is what makes them count against this judge here (on the Scenes generator 10-30 does: docs/teach.md)
    for name, weight in (("free", 0.0), ("kept", 1000.0)):
        runs[name] = make_generator()
        training = {
            **BRIGHT,
            "max_train_steps": 30,
            "train_batch_size": 4,
            "preserve_diversity_weight": weight,
        }
        teach(recipe(**training), tmp_path / name, generator=runs[name], judge=OneLookJudge())
    base = _spread(_images(runs["free"], 0.0))
    free, kept = _spread(_images(runs["free"], 1.0)), _spread(_images(runs["kept"], 1.0))
    # the tiny generator's LoRA moves slowly: 30 steps of the judge alone take about a seventh of the spread
    assert free < 0.92 * base, (base, free)
    assert kept > free + 0.5 * (base - free), (base, free, kept)  # the regulariser keeps most of it
    rows = [json.loads(x) for x in (tmp_path / "kept" / "metrics.jsonl").read_text().splitlines()]
    assert all("diversity_loss" in r for r in rows)
    assert "diversity_loss" not in json.loads(
        (tmp_path / "free" / "metrics.jsonl").read_text().splitlines()[0]
    )

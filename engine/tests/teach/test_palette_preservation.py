"""`preserve_palette_weight`: a colour-statistics match to the base model on the taught prompts themselves.
On a problem whose judge only wants brighter images, the regulariser must hold the brightness back."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import PROMPT, BrightnessJudge, recipe

from dualproc_engine.teach.loop import teach
from dualproc_engine.teach.path import colour_statistics

BRIGHT = {
    "num_inference_steps": 1,
    "learning_rate": 3e-2,
    "lora_scale": 1.0,
    "noise_pool_size": 4,
    # the UNet's last GroupNorm removes any mean shift made upstream: brightness is conv_out's to change
    "lora_target_modules": ["conv_out", "to_q", "to_k", "to_v", "to_out.0"],
}


def test_colour_statistics_are_per_channel_mean_and_spread():
    images = torch.zeros(2, 3, 4, 4)
    images[1, 0] = 1.0
    images[1, 2, :2] = 1.0
    stats = colour_statistics(images)
    assert stats.shape == (2, 6)
    assert torch.allclose(stats[0], torch.zeros(6))
    assert stats[1, :3].tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert stats[1, 3:5].tolist() == pytest.approx([0.0, 0.0]) and stats[1, 5] > 0.4


def _brightness_change(gen) -> float:
    """Mean brightness with the LoRA minus without it, on fixed noises of the training prompt."""
    embeds = gen.encode_prompt([PROMPT] * 4)
    noise = gen.make_noise(4, 123)
    with torch.no_grad():
        gen.set_lora_scale(1.0)
        taught = gen.sample(embeds, noise, 1).mean()
        gen.set_lora_scale(0.0)
        base = gen.sample(embeds, noise, 1).mean()
    return float(taught - base)


def test_the_palette_regulariser_holds_the_colours_back(make_generator, tmp_path):
    free, held = make_generator(), make_generator()
    teach(recipe(max_train_steps=12, **BRIGHT), tmp_path / "free", generator=free, judge=BrightnessJudge())
    teach(
        recipe(max_train_steps=12, preserve_palette_weight=300.0, **BRIGHT),
        tmp_path / "held",
        generator=held,
        judge=BrightnessJudge(),
    )
    free_change, held_change = _brightness_change(free), _brightness_change(held)
    assert free_change > 0.05, free_change  # the judge alone pulls the images brighter
    assert held_change < 0.5 * free_change, (free_change, held_change)
    rows = [json.loads(x) for x in (tmp_path / "held" / "metrics.jsonl").read_text().splitlines()]
    assert all("palette_loss" in r for r in rows)
    assert "palette_loss" not in json.loads((tmp_path / "free" / "metrics.jsonl").read_text().splitlines()[0])

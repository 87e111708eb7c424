"""`preserve_palette_weight`: a colour-distribution match to the base model on the taught prompts themselves.
On a problem whose judge only wants brighter images, the regulariser must hold the brightness back."""

from __future__ import annotations

import json

import torch
from conftest import PROMPT, BrightnessJudge, recipe

from dualproc_engine.teach.loop import teach
from dualproc_engine.teach.path import colour_quantiles

BRIGHT = {
    "num_inference_steps": 1,
    "learning_rate": 3e-2,
    "lora_scale": 1.0,
    "noise_pool_size": 4,
    # the UNet's last GroupNorm removes any mean shift made upstream: brightness is conv_out's to change
    "lora_target_modules": ["conv_out", "to_q", "to_k", "to_v", "to_out.0"],
}


def _distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((colour_quantiles(a) - colour_quantiles(b)).square().mean())


def test_colours_rearranged_are_the_same_colours():
    image = torch.rand(1, 3, 8, 8)
    rearranged = image.flatten(2)[:, :, torch.randperm(64)].reshape(1, 3, 8, 8)
    assert _distance(image, rearranged) < 1e-12
    assert _distance(image, (image + 0.2).clamp(0, 1)) > 1e-3


def test_red_and_green_differ_from_yellow_and_black():
    """Same histogram on every channel, and the same per-channel mean and spread; other colours."""
    red_green = torch.zeros(1, 3, 2, 2)
    red_green[0, 0, 0] = 1.0  # top row red
    red_green[0, 1, 1] = 1.0  # bottom row green
    yellow_black = torch.zeros(1, 3, 2, 2)
    yellow_black[0, :2, 0] = 1.0  # top row yellow, bottom row black
    for c in range(3):
        a, b = red_green[0, c].flatten(), yellow_black[0, c].flatten()
        assert torch.equal(a.sort().values, b.sort().values)
    assert _distance(red_green, yellow_black) > 0.05


def test_quantiles_pass_gradients_to_every_pixel():
    image = torch.rand(2, 3, 4, 4, requires_grad=True)
    loss = (colour_quantiles(image) - colour_quantiles(torch.zeros(2, 3, 4, 4))).square().mean()
    loss.backward()
    assert image.grad is not None and bool((image.grad.abs() > 0).all())


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

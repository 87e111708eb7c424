"""`preserve_layout_weight`: keeps where light and dark sit in each taught image (the base model's image
from the same prompt and noise) while its colours are free: the counterpart of `preserve_palette_weight`
for a control of colour."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import PROMPT, recipe
from test_palette_preservation import BRIGHT

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import TrainingConfig
from dualproc_engine.teach.loop import teach
from dualproc_engine.teach.path import layout_loss, lightness_layout


def _landscape(horizon_row: int, sky: tuple[float, float, float], ground: tuple[float, float, float]):
    image = torch.empty(1, 3, 32, 32)
    image[0, :, :horizon_row] = torch.tensor(sky)[:, None, None]
    image[0, :, horizon_row:] = torch.tensor(ground)[:, None, None]
    return image


def test_a_recoloured_picture_keeps_its_layout_and_a_moved_horizon_does_not():
    scene = _landscape(12, (0.6, 0.7, 0.9), (0.2, 0.4, 0.1))  # lightness 0.69 over 0.34
    recoloured = _landscape(12, (0.95, 0.8, 0.4), (0.75, 0.38, 0.3))  # new colours, 0.80 over 0.45
    moved = _landscape(22, (0.6, 0.7, 0.9), (0.2, 0.4, 0.1))
    # nearly the same layout (the same lightness step from sky to ground), far from a moved horizon
    assert float(layout_loss(recoloured, scene)) < 0.05 * float(layout_loss(moved, scene))
    flat = torch.full((1, 3, 32, 32), 0.9)  # a wash of one colour has no layout at all
    assert float(lightness_layout(flat).abs().max()) < 1e-4
    assert float(layout_loss(flat, scene)) > 0.5


def test_a_faint_copy_of_the_layout_costs_as_a_flattened_scene_would():
    """The lightness steps are kept as well as their places: a recolouring that keeps what is lighter than
    what but squeezes it into a quarter of the contrast costs most of what a flat wash costs, so a palette
    LoRA cannot pass a scene off in one colour at two nearly equal lightnesses."""
    scene = _landscape(12, (0.6, 0.7, 0.9), (0.2, 0.4, 0.1))
    faint = _landscape(12, (0.82, 0.8, 0.6), (0.72, 0.72, 0.5))  # the same step, a quarter as tall
    flat = torch.full((1, 3, 32, 32), 0.9)
    assert float(layout_loss(faint, scene)) > 0.4 * float(layout_loss(flat, scene))
    # scaled down, not moved: far less than the wash, which has no layout left at all
    assert float(layout_loss(faint, scene)) < 0.8 * float(layout_loss(flat, scene))


def test_the_layout_passes_gradients_to_the_pixels():
    image = torch.rand(2, 3, 16, 16, requires_grad=True)
    layout_loss(image, torch.rand(2, 3, 16, 16)).backward()
    assert image.grad is not None and bool((image.grad.abs() > 0).all())


def test_the_layout_weight_must_be_a_number_at_least_zero():
    with pytest.raises(UserError, match="preserve_layout_weight"):
        TrainingConfig(preserve_layout_weight=-1.0)


class TopDarkJudge:
    """'Yes' the more the top half is darker than the bottom half: a judge that wants the layout moved."""

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        half = images.shape[-2] // 2
        z = 20.0 * (images[:, :, half:].mean(dim=(1, 2, 3)) - images[:, :, :half].mean(dim=(1, 2, 3)) - 0.3)
        return torch.stack([torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers], dim=1)


class RedderJudge:
    """'Yes' the more red than blue the image is: a judge that wants other colours, not another layout."""

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        z = 20.0 * (images[:, 0].mean(dim=(1, 2)) - images[:, 2].mean(dim=(1, 2)) - 0.2)
        return torch.stack([torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers], dim=1)


def _taught_and_base(gen) -> tuple[torch.Tensor, torch.Tensor]:
    embeds = gen.encode_prompt([PROMPT] * 4)
    noise = gen.make_noise(4, 123)
    with torch.no_grad():
        gen.set_lora_scale(1.0)
        taught = gen.sample(embeds, noise, 1)
        gen.set_lora_scale(0.0)
        return taught, gen.sample(embeds, noise, 1)


def _layout_change(gen) -> float:
    return float(layout_loss(*_taught_and_base(gen)))


def test_the_layout_regulariser_holds_the_layout_back_and_leaves_the_colours_free(make_generator, tmp_path):
    runs = {}
    # 30: strong against these toy judges (the free top-dark run moves the layout by about 7 base spreads)
    # yet not so strong that 12 steps cannot recolour; 10-50 pass alike
    for name, judge, weight in (
        ("free", TopDarkJudge(), 0.0),
        ("held", TopDarkJudge(), 30.0),
        ("red", RedderJudge(), 0.0),
        ("red-held", RedderJudge(), 30.0),
    ):
        runs[name] = make_generator()
        training = {**BRIGHT, "max_train_steps": 12, "preserve_layout_weight": weight}
        teach(recipe(**training), tmp_path / name, generator=runs[name], judge=judge)
    free, held = _layout_change(runs["free"]), _layout_change(runs["held"])
    assert free > 0.05, free  # the judge alone moves light and dark about
    assert held < 0.5 * free, (free, held)
    # a colour is not a layout: with the layout held, the colour judge still gets what it asks for (the
    # free run overshoots to a flat red, which is where its layout goes)
    taught, _ = _taught_and_base(runs["red-held"])
    p_yes = RedderJudge().logprob(taught, [""], ["Yes"]).exp()
    assert float(p_yes.mean()) > 0.9, p_yes
    assert _layout_change(runs["red-held"]) < 0.5 * _layout_change(runs["red"])
    rows = [json.loads(x) for x in (tmp_path / "held" / "metrics.jsonl").read_text().splitlines()]
    assert all("layout_loss" in r for r in rows)

"""Early stopping on the held-out judge: when what the loop optimises (the training judge) and what is held
out disagree, training stops after `patience` evaluations without a held-out gain and keeps the best LoRA."""

from __future__ import annotations

import pytest
import torch
from conftest import BrightnessJudge, recipe
from safetensors.torch import load_file

from dualproc_engine.errors import UserError
from dualproc_engine.reporting import Reporter
from dualproc_engine.teach.loop import teach

BRIGHT = {
    "num_inference_steps": 1,
    "learning_rate": 3e-2,
    "lora_scale": 1.0,
    "noise_pool_size": 4,
    "checkpointing_steps": 2,
    # the UNet's last GroupNorm removes any mean shift made upstream: brightness is conv_out's to change
    "lora_target_modules": ["conv_out", "to_q", "to_k", "to_v", "to_out.0"],
}


def test_stops_when_the_heldout_judge_stops_agreeing_and_keeps_the_best_lora(
    make_generator, tmp_path
) -> None:
    # The training judge wants bright images; the held-out one wants them dark: once the LoRA brightens the
    # images, every evaluation is worse for it, so it stops `patience` evaluations after its best one.
    r = recipe(max_train_steps=20, early_stopping_patience=2, **BRIGHT)
    out = teach(r, tmp_path, generator=make_generator(), judge=BrightnessJudge(target=0.8),
                heldout_judge=BrightnessJudge(target=0.2))  # fmt: skip
    stopping = out["early_stopping"]
    assert out["steps"] < 20 and stopping["stopped_at"] == out["steps"]
    assert stopping["waited"] == 2 and stopping["best_step"] == out["steps"] - 2 * 2  # 2 evaluations, 2 apart
    final = load_file(str(tmp_path / "pytorch_lora_weights.safetensors"))
    best = load_file(
        str(tmp_path / "checkpoints" / f"step-{stopping['best_step']}" / "pytorch_lora_weights.safetensors")
    )
    assert final.keys() == best.keys()
    for key in final:
        torch.testing.assert_close(final[key], best[key])


def test_runs_to_the_end_while_the_heldout_judge_agrees(make_generator, tmp_path) -> None:
    r = recipe(max_train_steps=6, early_stopping_patience=1, **BRIGHT)
    out = teach(r, tmp_path, generator=make_generator(), judge=BrightnessJudge(target=0.8),
                heldout_judge=BrightnessJudge(target=0.8))  # fmt: skip
    assert out["steps"] == 6 and out["early_stopping"]["best_step"] == 6


def test_watches_the_lora_at_the_scale_it_is_used_at(make_generator, tmp_path) -> None:
    """training.use_scale: the held-out judge scores the LoRA at that scale, also where the evaluation grids
    (eval.lora_scales, here 0 and 1) do not draw it."""
    r = recipe(max_train_steps=4, early_stopping_patience=5, use_scale=0.5, **BRIGHT)
    metrics: list[str] = []

    class Names(Reporter):
        def on_metric(self, name, value, step):
            metrics.append(name)

    teach(r, tmp_path, generator=make_generator(), judge=BrightnessJudge(target=0.8),
          heldout_judge=BrightnessJudge(target=0.8), reporter=Names())  # fmt: skip
    assert "heldout_score@0.5" in metrics and "heldout_score@1" not in metrics


def test_needs_a_heldout_judge() -> None:
    r = recipe(early_stopping_patience=2)
    r["heldout_judge"] = None
    with pytest.raises(UserError, match="early stopping watches the held-out judge"):
        teach(r, "/nonexistent", generator=object(), judge=object())

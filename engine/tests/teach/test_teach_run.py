"""A teach run end to end: the loss falls, seeds reproduce, resume == uninterrupted, cancel saves a
checkpoint, NaN steps are skipped and counted, the LoRA file reloads, run folder contents."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import BrightnessJudge, recipe
from safetensors import safe_open
from safetensors.torch import load_file

from dualproc_engine.errors import JobCancelled
from dualproc_engine.reporting import Reporter
from dualproc_engine.teach.loop import TeachDiverged, teach

BRIGHT = {
    "num_inference_steps": 1,
    "learning_rate": 3e-2,
    "lora_scale": 1.0,
    "noise_pool_size": 4,
    # the UNet's last GroupNorm removes any mean shift made upstream: brightness is conv_out's to change
    "lora_target_modules": ["conv_out", "to_q", "to_k", "to_v", "to_out.0"],
}


class Recorder(Reporter):
    """Keeps every event; asks to stop once `stop_at` steps have been reported."""

    def __init__(self, stop_at: int | None = None):
        super().__init__(should_stop=lambda: self.stop)
        self.stop_at, self.stop = stop_at, False
        self.events: list[tuple] = []

    def on_progress(self, done, total, unit, message):
        self.events.append(("progress", done, total, unit))

    def on_metric(self, name, value, step):
        self.events.append(("metric", name, value, step))
        if self.stop_at is not None and name == "loss" and step >= self.stop_at:
            self.stop = True

    def on_artifact(self, path, kind, description):
        self.events.append(("artifact", path, kind))

    def on_log(self, level, message):
        self.events.append(("log", level, message))


def _lora_file(out) -> dict[str, torch.Tensor]:
    return load_file(str(out / "pytorch_lora_weights.safetensors"))


def _rows(out) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_loss_falls_on_a_brightness_problem(make_generator, tmp_path):
    out = teach(
        recipe(max_train_steps=12, **BRIGHT), tmp_path, generator=make_generator(), judge=BrightnessJudge()
    )
    losses = [r["loss"] for r in _rows(tmp_path)]
    assert len(losses) == 12 and out["steps"] == 12
    assert sum(losses[-3:]) / 3 < 0.2 * sum(losses[:3]) / 3, losses
    assert out["scores"][0] > _rows(tmp_path)[0]["scores"][0]


def test_same_seed_same_lora_other_seed_other_lora(make_generator, tiny_judge, tmp_path):
    r = recipe(max_train_steps=2, train_batch_size=2, gradient_accumulation_steps=2)
    teach(r, tmp_path / "a", generator=make_generator(), judge=tiny_judge)
    teach(r, tmp_path / "b", generator=make_generator(), judge=tiny_judge)
    other = recipe(max_train_steps=2, train_batch_size=2, gradient_accumulation_steps=2, seed=1)
    teach(other, tmp_path / "c", generator=make_generator(), judge=tiny_judge)
    a, b, c = (_lora_file(tmp_path / k) for k in "abc")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_cancel_saves_a_checkpoint_and_resume_equals_an_uninterrupted_run(
    make_generator, tiny_judge, tmp_path
):
    r = recipe(max_train_steps=4, num_inference_steps=2, checkpointing_steps=3)
    r["questions"].append({"question": "Is it night?", "answer": "No", "weight": 0.5})
    teach(r, tmp_path / "whole", generator=make_generator(), judge=tiny_judge)

    stopper = Recorder(stop_at=2)
    with pytest.raises(JobCancelled):
        teach(r, tmp_path / "cut", generator=make_generator(), judge=tiny_judge, reporter=stopper)
    assert (tmp_path / "cut" / "checkpoints" / "step-2" / "state.json").is_file()
    assert not (tmp_path / "cut" / "pytorch_lora_weights.safetensors").exists()
    assert [r["step"] for r in _rows(tmp_path / "cut")] == [1, 2]

    resumed = Recorder()
    out = teach(
        r, tmp_path / "cut", resume=True, generator=make_generator(), judge=tiny_judge, reporter=resumed
    )
    assert out["resumed_from_step"] == 2 and out["steps"] == 4
    whole, cut = _lora_file(tmp_path / "whole"), _lora_file(tmp_path / "cut")
    assert all(torch.equal(whole[k], cut[k]) for k in whole)
    assert [r["step"] for r in _rows(tmp_path / "cut")] == [1, 2, 3, 4]
    assert [r["loss"] for r in _rows(tmp_path / "cut")] == [r["loss"] for r in _rows(tmp_path / "whole")]
    assert ("progress", 4, 4, "steps") in resumed.events


def test_resume_refuses_a_changed_recipe(make_generator, tiny_judge, tmp_path):
    from dualproc_engine.errors import UserError

    teach(recipe(max_train_steps=1), tmp_path, generator=make_generator(), judge=tiny_judge)
    with pytest.raises(UserError, match="different recipe"):
        teach(
            recipe(max_train_steps=2, lora_rank=2),
            tmp_path,
            resume=True,
            generator=make_generator(),
            judge=tiny_judge,
        )


def test_saved_lora_reloads_with_metadata(make_generator, tiny_judge, tmp_path):
    gen = make_generator()
    teach(recipe(max_train_steps=2, learning_rate=1e-2), tmp_path, generator=gen, judge=tiny_judge)
    path = tmp_path / "pytorch_lora_weights.safetensors"
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    assert meta["dualproc.steps"] == "2" and meta["dualproc.base_model"] == "tiny"
    assert meta["dualproc.recipe"] == "test" and "lora_adapter_metadata" in meta

    fresh = make_generator()
    fresh.load_lora(path)
    fresh.set_lora_scale(1.0)
    gen.set_lora_scale(1.0)
    emb, noise = gen.encode_prompt(["At midday, a desert"]), gen.make_noise(1, 5)
    with torch.no_grad():
        trained, reloaded = gen.sample(emb, noise, 2), fresh.sample(emb, noise, 2)
        gen.set_lora_scale(0.0)
        base = gen.sample(emb, noise, 2)
    torch.testing.assert_close(trained, reloaded, rtol=0, atol=1e-6)
    assert not torch.equal(trained, base)


def test_the_lora_says_the_scale_it_is_used_at(make_generator, tiny_judge, tmp_path):
    """training.use_scale: trained at lora_scale, used (and so labelled, and early-stopped) at use_scale."""
    from dualproc_engine.errors import UserError

    teach(recipe(max_train_steps=1, use_scale=0.7), tmp_path, generator=make_generator(), judge=tiny_judge)
    with safe_open(str(tmp_path / "pytorch_lora_weights.safetensors"), "pt") as f:
        assert f.metadata()["dualproc.lora_scale"] == "0.7"
    for wrong in (0, -1, "0.7", True):
        with pytest.raises(UserError, match="training.use_scale: expected a number > 0 or null"):
            teach(recipe(use_scale=wrong), tmp_path / "bad", generator=make_generator(), judge=tiny_judge)


class FlakyJudge(BrightnessJudge):
    """NaN on the calls listed (0-based), else the brightness judge."""

    def __init__(self, nan_calls: set[int] | None = None):
        super().__init__()
        self.nan_calls = nan_calls

    def logprob(self, images, questions, answers):
        call = self.calls
        out = super().logprob(images, questions, answers)
        return out * float("nan") if self.nan_calls is None or call in self.nan_calls else out


def test_nan_step_is_skipped_with_a_warning(make_generator, tmp_path):
    rec = Recorder()
    gen = make_generator()
    out = teach(
        recipe(max_train_steps=3, **BRIGHT), tmp_path, generator=gen, judge=FlakyJudge({1}), reporter=rec
    )
    rows = _rows(tmp_path)
    assert [r["skipped"] for r in rows] == [False, True, False]
    assert rows[1]["loss"] is None and out["nan_steps"] == 1
    assert any(e[0] == "log" and e[1] == "warning" and "not finite" in e[2] for e in rec.events)
    assert all(torch.isfinite(p).all() for p in gen.lora_parameters())


def test_nan_every_step_stops_after_max_nan_steps(make_generator, tmp_path):
    with pytest.raises(TeachDiverged, match="not finite in 2 steps"):
        teach(
            recipe(max_train_steps=5, max_nan_steps=2, **BRIGHT),
            tmp_path,
            generator=make_generator(),
            judge=FlakyJudge(),
        )
    assert len(_rows(tmp_path)) == 2
    assert (tmp_path / "checkpoints" / "step-2" / "state.json").is_file()


def test_run_folder_and_events(make_generator, tiny_judge, tmp_path):
    rec = Recorder()
    r = recipe(max_train_steps=2, checkpointing_steps=1)
    r["prompts"] = ["At sunset, a desert with a house", "An outline drawing of a star in thick lines"]
    out = teach(r, tmp_path, generator=make_generator(), judge=tiny_judge, reporter=rec)
    assert out["mode"] == "distillation"
    row = _rows(tmp_path)[0]
    assert {"step", "loss", "scores", "question_losses", "grad_norm", "lr", "time_s"} <= row.keys()
    assert row["lr"] == pytest.approx(1e-3)
    from PIL import Image

    grid = Image.open(tmp_path / "grids" / "step-2.png")
    # rows: 2 scales x 1 eval prompt; columns: 2 seeds; 16 px tiles with 2 px gutters
    assert grid.size == (2 * 18 + 2, 2 * 18 + 2)
    evals = [json.loads(x) for x in (tmp_path / "eval.jsonl").read_text().splitlines()]
    assert {(e["step"], e["scale"]) for e in evals} == {(1, 0), (1, 1.0), (2, 0), (2, 1.0)}
    names = {e[1] for e in rec.events if e[0] == "metric"}
    assert {"loss", "score/0", "grad_norm"} <= names
    kinds = {e[2] for e in rec.events if e[0] == "artifact"}
    assert {"checkpoint", "image", "weights"} <= kinds
    from dualproc_engine import protocol

    for kind in kinds:  # every artifact the loop reports must be one the app accepts
        assert protocol.validation_error("event", protocol.artifact("j", "f", kind, None)) is None, kind
    assert ("progress", 2, 2, "steps") in rec.events
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-1", "step-2"]
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind

"""A few training steps end to end (flow, pairs, reflow), stop and resume; generate_files on disk."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from dualproc_engine.generators.embedded import EmbeddedGenerator
from dualproc_engine.generators.generate import generate_files
from dualproc_engine.world.train_generator import train_generator

SMOKE = dict(
    batch_size=4, reflow_pairs=4, teacher_steps=1, reflow_steps=2, warmup_steps=1, checkpoint_every=1
)


def test_training_smoke_stops_resumes_and_ships_a_pipeline(tmp_path):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    metrics: list[tuple[str, float, int | None]] = []

    def record(name: str, value: float, step: int | None) -> None:
        metrics.append((name, value, step))

    first = train_generator(str(tmp_path), max_steps=3, should_stop=stop, on_metric=record, **SMOKE)
    assert first["stopped"] and first["phase"] == "flow" and first["step"] == 1
    assert (tmp_path / "checkpoint.pt").is_file()

    done = train_generator(str(tmp_path), max_steps=3, on_metric=record, **SMOKE)
    assert not done["stopped"] and done["phase"] == "done"
    assert {name for name, _, _ in metrics} >= {"flow_loss", "reflow_loss"}
    assert all(v == v for _, v, _ in metrics)  # no NaN
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["phase"] == "flow"

    gen = EmbeddedGenerator.from_pretrained(done["final"])
    images = gen.sample(gen.encode_prompt(["a lake at dusk"]), gen.make_noise(1, 0), 1)
    assert images.shape == (1, 3, 64, 64)


def test_generate_files_writes_pngs_and_a_grid(tiny_generator, tmp_path):
    tiny_generator.pipeline.save_pretrained(tmp_path / "pipe")
    result = generate_files(
        "a lake at dusk", 5, 0, str(tmp_path / "out"), 2, generator=str(tmp_path / "pipe")
    )
    assert result == {
        "out_dir": str(tmp_path / "out"),
        "count": 5,
        "grid": str(tmp_path / "out" / "grid.png"),
    }
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["000000.png", "000001.png", "000002.png", "000003.png", "000004.png", "grid.png"]
    assert Image.open(tmp_path / "out" / "000000.png").size == (16, 16)
    again = generate_files(
        "a lake at dusk", 5, 0, str(tmp_path / "again"), 2, generator=str(tmp_path / "pipe")
    )
    assert Image.open(again["grid"]).tobytes() == Image.open(result["grid"]).tobytes()


def test_generate_files_names_the_prompts_words_the_generator_does_not_know(tiny_generator, tmp_path):
    tiny_generator.pipeline.save_pretrained(tmp_path / "pipe")
    warnings: list[str] = []
    for prompt in ["a lake at dusk", "a cat on a sofa at dusk"]:
        generate_files(
            prompt, 1, 0, str(tmp_path / "out"), 1, str(tmp_path / "pipe"), on_warning=warnings.append
        )
    assert warnings == ["the generator reads 'cat', 'sofa' as unknown words (not in its vocabulary)"]


def test_generate_and_ask_load_their_models_on_the_device_teach_picks(tiny_generator, tmp_path, monkeypatch):
    # a GPU when there is one (the CPU here): `generate` and `ask` used to leave every model on the CPU
    from dualproc_engine.judges import ask
    from dualproc_engine.teach import adapters

    asked: list[str] = []

    def picking() -> torch.device:
        asked.append("picked")
        return torch.device("cpu")

    monkeypatch.setattr(adapters, "pick_device", picking)
    tiny_generator.pipeline.save_pretrained(tmp_path / "pipe")
    generate_files("a lake at dusk", 1, 0, str(tmp_path / "out"), 1, generator=str(tmp_path / "pipe"))
    assert asked == ["picked"]
    monkeypatch.setattr(ask, "_LOADED", {})
    ask.get_judge("scenes-judge")
    assert asked == ["picked", "picked"]


def test_scene_kind_trains_on_one_kind_of_scene(tmp_path):
    from dualproc_engine.generators.embedded import images_to_latents
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes
    from dualproc_engine.world.train_generator import TrainGeneratorConfig, _batch_seed, _Trainer

    def batch(kind: str) -> torch.Tensor:
        config = TrainGeneratorConfig(max_steps=1, batch_size=6, caption_dropout=0, scene_kind=kind)
        trainer = _Trainer(tmp_path / kind, 0, config, None, None, lambda: False)
        return trainer._flow_batch(0)[0]

    lineart = sample_scenes(_batch_seed(0, 0), 6, "lineart")
    assert torch.equal(batch("lineart"), images_to_latents(render(lineart)))
    mixed = sample_scenes(_batch_seed(0, 0), 6)
    assert {s.kind for s in mixed} == {"landscape", "lineart"}  # the default mixes, so the test can fail
    assert torch.equal(batch("mix"), images_to_latents(render(mixed)))


def test_scene_kind_must_be_a_kind():
    from dualproc_engine.world.train_generator import TrainGeneratorConfig

    with pytest.raises(ValueError, match="scene_kind"):
        TrainGeneratorConfig(scene_kind="portrait")


def test_only_given_weights_may_skip_the_flow_phase_and_band_noise_is_a_strength():
    from dualproc_engine.world.train_generator import TrainGeneratorConfig

    with pytest.raises(ValueError, match="max_steps >= 1"):
        TrainGeneratorConfig(max_steps=0)
    assert TrainGeneratorConfig(max_steps=0, init_from="weights.pt").max_steps == 0
    with pytest.raises(ValueError, match="band_noise"):
        TrainGeneratorConfig(band_noise=-0.1)

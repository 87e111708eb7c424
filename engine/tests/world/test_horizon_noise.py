"""Noise with a step at the horizon (world/horizon_noise.py), and the reflow pairs drawn from it."""

from __future__ import annotations

import json

import torch

from dualproc_engine.world.horizon_noise import (
    PairSpec,
    horizon_shaped,
    names_band,
    pair_specs,
    sky_ground_directions,
)
from dualproc_engine.world.scene import sample_scenes


def _landscapes(named: bool, n: int = 2) -> list:
    found = [s for s in sample_scenes(7, 60, kind="landscape") if names_band(s) == named]
    assert len(found) >= n  # both kinds of caption occur, so the test can fail
    return found[:n]


def test_the_step_runs_along_the_sky_colour_above_the_horizon_and_against_it_below():
    named, plain = _landscapes(True), _landscapes(False)
    line_art = sample_scenes(7, 1, kind="lineart")
    scenes = named + plain + line_art
    directions = {kind: torch.linspace(-1, 1, 12) for kind in ("day", "sunset", "night", "overcast")}
    noise = torch.zeros(len(scenes), 12, 32, 32)
    specs = pair_specs(scenes, every_band=False)
    assert [p.noise_of for p in specs] == list(range(len(scenes)))
    shaped = horizon_shaped(noise, specs, 0.5, directions)
    for i, scene in enumerate(named):
        row = int(scene.horizon * 32)
        sky, ground = shaped[i, :, : row - 2].mean((1, 2)), shaped[i, :, row + 2 :].mean((1, 2))
        assert torch.allclose(sky, 0.5 * directions[scene.sky], atol=0.02)
        assert torch.allclose(ground, -0.5 * directions[scene.sky], atol=0.02)
    assert torch.equal(shaped[len(named) :], noise[len(named) :])  # no band named, or no horizon: as it was
    assert torch.equal(horizon_shaped(noise, specs, 0.0, directions), noise)


def test_every_band_asks_the_same_noise_for_all_three_bands_in_words_only():
    from dualproc_engine.world.captions import HORIZON_PHRASES, horizon_band

    named, plain = _landscapes(True, 1), _landscapes(False, 1)
    specs = pair_specs(named + plain, every_band=True)
    assert [p.noise_of for p in specs] == [0, 0, 0, 1]
    three = specs[:3]
    assert three[0] == PairSpec(0, named[0].caption, named[0].horizon, named[0].sky)
    assert sorted(horizon_band(p.horizon) for p in three) == ["high", "low", "middle"]
    for p in three:  # each caption names the band its horizon is in, and says nothing else new
        band = horizon_band(p.horizon)
        assert any(phrase in p.caption.lower() for phrase in HORIZON_PHRASES[band])
        assert len({p.sky for p in three}) == 1
    assert specs[3] == PairSpec(1, plain[0].caption)


def test_skies_are_lighter_than_their_ground_by_day_and_darker_at_night():
    directions = sky_ground_directions(n=160)
    assert set(directions) == {"day", "sunset", "night", "overcast"}
    assert directions["day"].mean() > 0.05 and directions["night"].mean() < -0.05


def test_reflow_pairs_from_shaped_noise_differ_only_where_the_caption_names_a_band(tmp_path):
    from dualproc_engine.world.train_generator import (
        TrainGeneratorConfig,
        _pair_seed,
        _Trainer,
        train_generator,
    )

    torch.set_num_threads(1)
    # the pairs' teacher: a fresh model's weights (max_steps 0: no flow phase, the weights teach as they are)
    fresh = _Trainer(tmp_path / "fresh", 0, TrainGeneratorConfig(max_steps=1), None, None, lambda: False)
    torch.save({"model": fresh.modules.state_dict()}, tmp_path / "init.pt")
    small = dict(
        max_steps=0, init_from=str(tmp_path / "init.pt"), batch_size=6, reflow_pairs=6, teacher_steps=1,
        guidance_scale=1.0, reflow_steps=1, warmup_steps=1, scene_kind="landscape", seed=3,
    )  # fmt: skip
    for strength in (0.0, 0.8):
        train_generator(str(tmp_path / f"band-{strength}"), band_noise=strength, every_band=False, **small)
    plain, shaped = (torch.load(tmp_path / f"band-{s}" / "pairs.pt")["images"] for s in (0.0, 0.8))
    named = torch.tensor([names_band(s) for s in sample_scenes(_pair_seed(3), 6, "landscape")])
    assert 0 < int(named.sum()) < 6  # both kinds among the pairs, so the test can fail
    differs = (plain != shaped).flatten(1).any(1)
    assert torch.equal(differs, named)


def test_every_band_pairs_share_their_scene_noise_in_reflow(tmp_path):
    from dualproc_engine.world.train_generator import TrainGeneratorConfig, _pair_seed, _Trainer

    torch.set_num_threads(1)
    config = TrainGeneratorConfig(
        max_steps=1, batch_size=4, reflow_pairs=6, teacher_steps=1, band_noise=0.8, scene_kind="landscape"
    )
    trainer = _Trainer(tmp_path, 3, config, None, None, lambda: False)
    trainer._make_pairs()
    trainer.pairs = torch.load(tmp_path / "pairs.pt")
    named = [names_band(s) for s in sample_scenes(_pair_seed(3), 6, "landscape")]
    expected = [i for i, n in enumerate(named) for _ in range(3 if n else 1)]
    assert trainer.pairs["noise_of"].tolist() == expected and len(expected) > 6
    noise = trainer.gen.make_noise(6, _pair_seed(3))
    for pair, scene in enumerate(expected):
        assert torch.equal(trainer._pair_noise(int(trainer.pairs["noise_of"][pair]), 64), noise[scene])


def test_fresh_pairs_are_drawn_per_step_from_the_teacher_and_the_same_on_a_resume(tmp_path):
    from dualproc_engine.world.train_generator import TrainGeneratorConfig, _Trainer, train_generator

    torch.set_num_threads(1)
    fresh = _Trainer(tmp_path / "fresh", 0, TrainGeneratorConfig(max_steps=1), None, None, lambda: False)
    torch.save({"model": fresh.modules.state_dict()}, tmp_path / "init.pt")
    options = dict(
        max_steps=0, init_from=str(tmp_path / "init.pt"), batch_size=3, reflow_pairs=3, teacher_steps=1,
        guidance_scale=1.0, reflow_steps=2, warmup_steps=1, band_noise=0.8, fresh_pairs=True, seed=3,
    )  # fmt: skip
    done = train_generator(str(tmp_path / "run"), **options)
    assert done["phase"] == "done" and not (tmp_path / "run" / "pairs.pt").exists()
    config = TrainGeneratorConfig(**{k: v for k, v in options.items() if k != "seed"})
    again = _Trainer(tmp_path / "run", 3, config, None, None, lambda: False)
    first, second = again._fresh_reflow_batch(0), again._fresh_reflow_batch(0)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))  # seeded by the step
    assert not torch.equal(first[1], again._fresh_reflow_batch(1)[1])  # fresh noise at every step
    assert first[0].shape == first[1].shape and first[0].abs().max() <= 1


def test_the_spread_term_costs_a_student_whose_pictures_are_closer_together_than_its_targets(tmp_path):
    from dualproc_engine.world.train_generator import TrainGeneratorConfig, _Trainer, train_generator

    torch.set_num_threads(1)
    config = TrainGeneratorConfig(max_steps=1, spread_weight=10.0)
    trainer = _Trainer(tmp_path / "unit", 0, config, None, None, lambda: False)
    trainer.phase = "reflow"
    x = torch.rand(4, *trainer.gen.make_noise(1, 0).shape[1:]) * 2 - 1  # four far-apart targets
    z, ids, s = trainer.gen.make_noise(4, 1), trainer.gen.tokenize(["a meadow"] * 4), torch.ones(4)
    with torch.no_grad():
        with_spread = float(trainer._flow_loss(x, z, ids, s))
        trainer.config = TrainGeneratorConfig(max_steps=1)
        without = float(trainer._flow_loss(x, z, ids, s))
    assert with_spread > without + 1e-4
    assert trainer._last_spread > 0

    torch.save({"model": trainer.modules.state_dict()}, tmp_path / "init.pt")
    options = dict(
        max_steps=0, init_from=str(tmp_path / "init.pt"), batch_size=3, reflow_pairs=3, teacher_steps=1,
        guidance_scale=1.0, reflow_steps=2, warmup_steps=1, fresh_pairs=True, spread_weight=10.0,
    )  # fmt: skip
    train_generator(str(tmp_path / "run"), **options)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert any("spread_loss" in row for row in rows)

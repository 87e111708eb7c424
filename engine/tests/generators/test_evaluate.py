"""The generator evaluation's diversity across noises and the caption twins it is compared with."""

from __future__ import annotations

import torch

from dualproc_engine.generators import evaluate
from dualproc_engine.generators.evaluate import (
    caption_twins,
    diversity_across_noises,
    mean_pairwise_difference,
)
from dualproc_engine.world.captions import horizon_band, stroke_band
from dualproc_engine.world.horizon_noise import named_band
from dualproc_engine.world.scene import sample_scenes


def _first(scenes, keep):
    return next(s for s in scenes if keep(s))


def test_twins_keep_what_a_landscape_caption_states_and_draw_the_rest_again():
    scenes = sample_scenes(5, 60, "landscape")
    scene = _first(scenes, lambda s: named_band(s) and not s.palette.name)
    twins = caption_twins(scene, 6)
    assert len(twins) == 6
    for twin in twins:
        assert twin.caption == scene.caption
        assert (twin.kind, twin.sky, twin.ground, twin.celestial) == (
            scene.kind,
            scene.sky,
            scene.ground,
            scene.celestial,
        )
        assert sorted(o.kind for o in twin.objects) == sorted(o.kind for o in scene.objects)
        assert horizon_band(twin.horizon) == horizon_band(scene.horizon)
    assert len({t.horizon for t in twins}) == 6  # anywhere within the band, not the scene's own place
    assert len({t.palette.colors for t in twins}) > 1  # the caption names no palette: any will do


def test_twins_keep_a_named_palette_and_leave_an_unnamed_band_free():
    scenes = sample_scenes(6, 200, "landscape")
    scene = _first(
        scenes,
        lambda s: not named_band(s) and s.palette.name and s.palette.name.replace("_", " ") in s.caption,
    )
    twins = caption_twins(scene, 8)
    assert all(t.palette == scene.palette for t in twins)
    assert len({horizon_band(t.horizon) for t in twins}) > 1


def test_line_art_twins_keep_a_named_stroke_band():
    scenes = sample_scenes(7, 60, "lineart")
    named = _first(scenes, lambda s: any(w in s.caption for w in ("lines", "strokes", "outlines")))
    for twin in caption_twins(named, 6):
        assert stroke_band(twin.stroke_width_px, 64) == stroke_band(named.stroke_width_px, 64)
        assert sorted(o.kind for o in twin.objects) == sorted(o.kind for o in named.objects)


def test_mean_pairwise_difference():
    same = torch.rand(2, 1, 3, 4, 4).expand(2, 3, 3, 4, 4)  # two groups, each one picture three times
    assert mean_pairwise_difference(same) == 0.0
    black_white = torch.stack([torch.zeros(3, 2, 2), torch.ones(3, 2, 2), torch.zeros(3, 2, 2)])[None]
    assert abs(mean_pairwise_difference(black_white) - 2 / 3) < 1e-6  # pairs (0,1), (0,2), (1,2): 1, 0, 1


def test_diversity_across_noises_sees_a_generator_that_ignores_its_noise(tiny_generator, monkeypatch):
    monkeypatch.setattr(evaluate, "DIVERSITY_CAPTIONS", 3)
    monkeypatch.setattr(evaluate, "DIVERSITY_NOISES", 3)
    reading = diversity_across_noises(tiny_generator, (1, 2))
    assert reading["renders"]["landscape"] > 0.05 and reading["renders"]["lineart"] > 0.05
    assert reading["steps_1"]["landscape"] > 0 and reading["steps_2"]["lineart"] > 0

    make_noise = tiny_generator.make_noise
    monkeypatch.setattr(tiny_generator, "make_noise", lambda n, seed: make_noise(n, 0))
    ignoring = diversity_across_noises(tiny_generator, (1,))
    assert ignoring["steps_1"] == {"landscape": 0.0, "lineart": 0.0}
    assert ignoring["renders"] == reading["renders"]

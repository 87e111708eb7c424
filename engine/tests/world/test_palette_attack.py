"""Palette pictures pushed to change the judge's answer (world/palette_attack.py): the push moves the judge,
and the answer is the pushed pixels', whatever the judge thought."""

import random

import pytest
import torch

from dualproc_engine.judges.embedded import load_judge
from dualproc_engine.prompts import apply_overlay
from dualproc_engine.world.judge_data import scenes_qa
from dualproc_engine.world.palette_attack import attacked_palette_records, push_towards, with_overlays
from dualproc_engine.world.qa.palette import visible_fit, visible_truth


@pytest.fixture(scope="module")
def palette_qa():
    data = scenes_qa(57, 24, "train", families=["palette_match"])
    records = [r for r in data.records if r["family"] == "palette_match"][:12]
    return data.images[[r["scene_index"] for r in records]], records


def p_yes(judge, images, records) -> torch.Tensor:
    with torch.no_grad():
        return judge.logprob_pairs(images, [r["question"] for r in records], ["Yes"] * len(records)).exp()


def test_a_push_raises_the_judges_yes_and_keeps_pixels_in_range(palette_qa):
    images, records = palette_qa
    judge = load_judge("scenes-judge")
    shown = with_overlays(images, records)
    yes = ["Yes"] * len(records)
    pushed = push_towards(judge, images, records, yes, steps=4, grid=4, step_size=0.6, seed=0)
    assert pushed.shape == images.shape and not pushed.requires_grad
    assert float(pushed.min()) >= 0.0 and float(pushed.max()) <= 1.0
    assert float((pushed - images).abs().mean()) > 0.02  # it moved the picture
    pushed_shown = with_overlays(pushed, records)
    before, after = p_yes(judge, shown, records), p_yes(judge, pushed_shown, records)
    assert float(after.mean()) > float(before.mean()) + 0.1
    again = push_towards(judge, images, records, yes, steps=4, grid=4, step_size=0.6, seed=0)
    assert torch.equal(pushed, again)  # a function of its seed (resumable training)


def test_pushed_pictures_are_answered_by_their_pixels_with_the_strip_drawn(palette_qa):
    images, records = palette_qa
    judge = load_judge("scenes-judge")
    shown, pushed = attacked_palette_records(judge, images, records, 3, random.Random(1))
    assert 0 < len(pushed) <= len(records) and shown.shape[0] == len(pushed)
    assert all(r["family"] == "palette_match" and r["params"]["attacked"]["steps"] == 3 for r in pushed)
    first_answer = {(r["question"], tuple(r["params"]["colors"])): r["answer"] for r in records}
    for record in pushed:  # each pushed towards the answer it did not have
        assert (
            record["params"]["attacked"]["towards"]
            != first_answer[(record["question"], tuple(record["params"]["colors"]))]
        )
    for picture, record in zip(shown, pushed, strict=True):
        on_black = apply_overlay(torch.zeros(1, 3, 64, 64), record["overlay"])[0]
        assert torch.allclose(picture[:, 56:], on_black[:, 56:], atol=1e-6)  # the opaque strip, on top
        # the answer is the pixels' above the strip, not the judge's (which the push made say Yes)
        assert visible_truth(visible_fit(picture.numpy(), record["params"]["colors"])) is (
            record["answer"] == "Yes"
        )
    assert any(r["answer"] == "No" for r in pushed)

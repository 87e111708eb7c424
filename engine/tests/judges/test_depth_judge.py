"""The shipped depth judge (`scenes-judge-depth`): the training judge fine-tuned on generated pictures whose
relative-depth answers the depth measurer gave (docs/judge.md). On a plain picture of sky over ground it
orders points as ground-plane perspective does, where the judge it was fine-tuned from mostly does not."""

from __future__ import annotations

import pytest
import torch

from dualproc_engine.local_models import embedded_weights_dir

needs_shipped = pytest.mark.skipif(
    not (embedded_weights_dir("scenes-judge-depth") / "config.json").is_file(), reason="no shipped judge"
)
QUESTION = "Is point A closer to the viewer than point B?"
CASES = [  # A, B, the answer by ground-plane depth
    ((0.3, 0.85), (0.7, 0.2), "Yes"),  # ground near the bottom / sky
    ((0.7, 0.2), (0.3, 0.85), "No"),  # sky / ground: the sky is nearer than nothing
    ((0.2, 0.15), (0.7, 0.25), "No"),  # both sky: neither is nearer
    ((0.3, 0.9), (0.7, 0.55), "Yes"),  # both ground: the lower is nearer
    ((0.7, 0.55), (0.3, 0.9), "No"),
]


def _sky_over_ground(horizon: float, sky: tuple, ground: tuple) -> torch.Tensor:
    image = torch.empty(3, 64, 64)
    row = round(horizon * 64)
    image[:, :row] = torch.tensor(sky)[:, None, None]
    image[:, row:] = torch.tensor(ground)[:, None, None]
    return image


def _right_answers(name: str) -> int:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.prompts.spec import PointsSpec

    pictures = [
        _sky_over_ground(0.4, (0.45, 0.7, 0.95), (0.3, 0.6, 0.2)),
        _sky_over_ground(0.45, (0.9, 0.6, 0.4), (0.5, 0.4, 0.3)),
        _sky_over_ground(0.35, (0.6, 0.6, 0.65), (0.8, 0.8, 0.85)),
    ]
    judge = load_judge(name)
    right = 0
    for a, b, answer in CASES:
        shown = torch.stack([apply_overlay(p[None], PointsSpec(a=a, b=b))[0] for p in pictures])
        asked = [QUESTION] * len(pictures)
        with torch.no_grad():
            yes = judge.logprob_pairs(shown, asked, ["Yes"] * len(pictures)).exp()
            no = judge.logprob_pairs(shown, asked, ["No"] * len(pictures)).exp()
        right += int(((yes > no) == (answer == "Yes")).sum())
    return right


@needs_shipped
def test_the_depth_judge_orders_points_by_ground_plane_depth() -> None:
    torch.set_num_threads(1)
    depth, training = _right_answers("scenes-judge-depth"), _right_answers("scenes-judge")
    assert depth >= 13, depth  # of 15 (the shipped one: 14)
    assert depth > training, (depth, training)  # (9: it says Yes to most pairs whatever their order)

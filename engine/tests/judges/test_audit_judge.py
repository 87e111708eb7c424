"""The shipped audit judge (`scenes-judge-audit`): an embedded Scenes judge trained apart from the others,
from scratch on every Scenes phrasing with pools of the generator's own pictures, that only ever evaluates.
A recipe taught by both other Scenes judges together (`co_judges`, line-weight) is checked by it, so it must
read the recipe's stroke question in either judge's words and tell a sample stroke of the drawing's width
from a wider one."""

from __future__ import annotations

import pytest
import torch

from dualproc_engine.local_models import embedded_weights_dir

needs_shipped = pytest.mark.skipif(
    not (embedded_weights_dir("scenes-judge-audit") / "config.json").is_file(), reason="no shipped judge"
)
TRAINING_WORDS = "Are the lines in the drawing as thick as the sample stroke at the bottom?"
HELDOUT_WORDS = "Is the drawing's line weight the same as the stroke shown below?"


def _p_yes(judge, images: torch.Tensor, question: str, width_px: float) -> torch.Tensor:
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.prompts.spec import StrokeSpec

    shown = apply_overlay(images, StrokeSpec(width_px=width_px))
    with torch.no_grad():
        return judge.logprob_pairs(shown, [question] * len(images), ["Yes"] * len(images)).exp()


@needs_shipped
def test_the_audit_judge_learned_every_phrasing() -> None:
    from dualproc_engine.judges.embedded import load_judge

    judge = load_judge("scenes-judge-audit")
    assert judge.phrasing_split == "all"  # so it is asked every Scenes question as written


@needs_shipped
def test_the_audit_judge_tells_a_matching_stroke_sample_from_a_wider_one_in_both_judges_words() -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    torch.set_num_threads(1)
    judge = load_judge("scenes-judge-audit")
    images = render(sample_scenes(515151, 16, kind="lineart", stroke_width_px=2.0))
    for question in (TRAINING_WORDS, HELDOUT_WORDS):
        matching, wider = _p_yes(judge, images, question, 2.0), _p_yes(judge, images, question, 5.0)
        # The matching sample is the likelier Yes on every drawing, and the answers are right on at least
        # 90% of the 32 questions (measured: 30 of 32 in both wordings; scenes-judge-heldout 25 of 32).
        assert bool((matching > wider).all()), (question, matching, wider)
        right = int((matching > 0.5).sum()) + int((wider < 0.5).sum())
        assert right >= 29, (question, matching, wider)

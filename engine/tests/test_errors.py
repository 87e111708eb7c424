"""Error messages that name a misspelt model say which name was probably meant."""

from __future__ import annotations

import pytest

from dualproc_engine.errors import UserError, did_you_mean


def test_did_you_mean_suggests_a_near_name_and_nothing_for_a_far_one() -> None:
    names = ["scenes-judge", "scenes-judge-heldout", "qwen2.5-vl-7b"]
    assert did_you_mean("scenes-judg", names) == " (did you mean 'scenes-judge'?)"
    assert did_you_mean("qwen2.5-vl-7B", names) == " (did you mean 'qwen2.5-vl-7b'?)"
    assert did_you_mean("blip2-opt-2.7b", names) == ""


def test_unknown_judge_and_generator_names_suggest_the_preset_meant() -> None:
    from dualproc_engine.generators.load import load_generator
    from dualproc_engine.judges.load import load_judge

    with pytest.raises(UserError, match=r"unknown judge 'scenes-judg' \(did you mean 'scenes-judge'\?\)"):
        load_judge("scenes-judg")
    with pytest.raises(
        UserError, match=r"unknown generator 'scenes-generatr' \(did you mean 'scenes-generator'\?\)"
    ):
        load_generator("scenes-generatr")
    with pytest.raises(UserError, match=r"unknown generator 'dall-e'; generators are"):
        load_generator("dall-e")

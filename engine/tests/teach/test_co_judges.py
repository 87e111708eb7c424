"""Several judges teaching together (a recipe's `co_judges`): their log-probabilities averaged."""

from __future__ import annotations

import pytest
import torch
from conftest import QUESTION, TINY_JUDGE, BrightnessJudge, recipe

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import Question, parse_recipe
from dualproc_engine.teach.loop import fingerprint, teach
from dualproc_engine.teach.questions import QuestionSet, averaged_logprob


def test_the_teachers_answers_are_averaged_per_image_and_question() -> None:
    images = torch.rand(3, 3, 16, 16)
    questions = [Question(QUESTION), Question("Is it night-time?", answer="No")]
    dark, bright = (QuestionSet(BrightnessJudge(target=t), questions) for t in (0.2, 0.9))
    both = averaged_logprob([dark, bright])(images, None)
    assert torch.allclose(both, (dark.logprob(images) + bright.logprob(images)) / 2)
    # the wanted answers of the two judges pull apart: the average lies strictly between them
    assert bool(((both - dark.logprob(images)) * (both - bright.logprob(images)) < 0).all())


def test_a_teaching_judge_cannot_be_the_held_out_one_nor_teach_twice() -> None:
    base = recipe()
    assert parse_recipe({**base, "co_judges": ["other"], "heldout_judge": "third"}).co_judges == ["other"]
    for co, message in [
        (["held"], "is the held-out judge"),
        (["tiny"], "each judge may teach once"),
        (["a", "a"], "each judge may teach once"),
        ("a", "expected a list of judge names"),
    ]:
        with pytest.raises(UserError, match=message):
            parse_recipe({**base, "co_judges": co, "heldout_judge": "held"})


def test_runs_without_co_judges_keep_their_fingerprint_so_old_checkpoints_resume() -> None:
    plain = parse_recipe(recipe())
    assert fingerprint(plain) == fingerprint(parse_recipe({**recipe(), "co_judges": []}))
    assert fingerprint(plain) != fingerprint(parse_recipe({**recipe(), "co_judges": ["other"]}))


def test_a_run_taught_by_two_judges_differs_from_one_taught_by_one(
    make_generator, tiny_judge, tmp_path
) -> None:  # noqa: ANN001
    from safetensors.torch import load_file

    from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_judge_files

    other = tmp_path / "other-judge"
    other.mkdir()
    model, _ = build_judge_files(other, JudgeArchitecture(vision="bit", **TINY_JUDGE), "train", 1)
    model.save_pretrained(str(other))
    alone, both = tmp_path / "alone", tmp_path / "both"
    teach(recipe(), alone, generator=make_generator(), judge=tiny_judge)
    teach(
        {**recipe(), "co_judges": [str(other)]},
        tmp_path / "both",
        generator=make_generator(),
        judge=tiny_judge,
    )
    lora = [load_file(str(out / "pytorch_lora_weights.safetensors")) for out in (alone, both)]
    assert lora[0].keys() == lora[1].keys()
    assert any(not torch.equal(lora[0][k], lora[1][k]) for k in lora[0])


def test_a_co_judge_that_is_not_there_stops_the_run_before_its_folder_is_made(
    make_generator, tiny_judge, tmp_path
) -> None:  # noqa: ANN001
    out = tmp_path / "run"
    with pytest.raises(UserError, match="no-such-judge"):
        teach({**recipe(), "co_judges": ["no-such-judge"]}, out, generator=make_generator(), judge=tiny_judge)
    assert not out.exists()

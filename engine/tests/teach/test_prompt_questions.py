"""Questions asked only of some prompts' images (the app's `when` and {slot}): the loss, the logged scores,
the evaluation during a run and `dualproc eval` leave each question out where it is not asked."""

from __future__ import annotations

import json
import math
import random

import pytest
import torch
from conftest import PROMPT, BrightnessJudge, recipe

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import parse_recipe
from dualproc_engine.teach.loop import build_run, teach
from dualproc_engine.teach.objectives import question_losses, question_weights, weighted_loss
from dualproc_engine.teach.questions import QuestionSet
from dualproc_engine.teach.step import micro_batch_loss

OTHER = "At midday, a desert with trees"


def _two_prompt_recipe(**training) -> dict:
    """Two training prompts; the second question is asked only of the first prompt's images."""
    r = recipe(**training)
    r["prompts"] = [PROMPT, OTHER]
    r["questions"].append({"question": "Is it night?", "answer": "No", "weight": 1.0, "prompts": [PROMPT]})
    return r


def test_the_weighted_loss_averages_each_image_over_the_questions_asked_of_it() -> None:
    nll = torch.tensor([[1.0, 3.0], [2.0, 5.0]])
    w = question_weights([1.0, 1.0])
    asked = torch.tensor([[True, True], [True, False]])
    # image 0: (1 + 3) / 2; image 1 is asked only question 0: 2
    assert float(weighted_loss(nll, w, asked)) == pytest.approx(((1 + 3) / 2 + 2) / 2)
    # asked of every image: the paper's sum_q w_q mean_b nll
    assert float(weighted_loss(nll, w, torch.ones(2, 2, dtype=torch.bool))) == pytest.approx(
        float(weighted_loss(nll, w))
    )
    losses = question_losses(nll, torch.tensor([[True, False], [True, False]]))
    assert losses[0] == pytest.approx(1.5) and math.isnan(float(losses[1]))


def test_the_question_set_says_which_prompt_is_asked_what(tiny_judge) -> None:
    cfg = parse_recipe(_two_prompt_recipe())
    qs = QuestionSet(tiny_judge, cfg.questions)
    assert qs.conditional
    assert qs.asked([PROMPT, OTHER, "a held-out prompt"]).tolist() == [
        [True, True],
        [True, False],
        [True, False],
    ]


def test_a_training_step_puts_no_gradient_through_a_question_not_asked(make_generator) -> None:
    """With only the other prompt in the batch, the second question's answer does not reach the loss."""

    class Counting(BrightnessJudge):
        def logprob(self, images, questions, answers):  # noqa: ANN001, ANN201
            out = super().logprob(images, questions, answers)
            return out * torch.tensor([1.0] + [1000.0] * (len(questions) - 1))  # the second is loud

    r = _two_prompt_recipe(train_batch_size=2)
    r["prompts"] = [OTHER, PROMPT]  # index 0 is the prompt the second question is not asked of
    cfg = parse_recipe(r)
    judge = Counting()
    run = build_run(cfg, make_generator(), QuestionSet(judge, cfg.questions), torch.device("cpu"))
    assert run.asked is not None
    rng = random.Random(0)
    while True:  # a batch of the first prompt only
        state = rng.getstate()
        if all(rng.randrange(2) == 0 for _ in range(2)):
            rng.setstate(state)
            break
    loss, nll, asked, _, _ = micro_batch_loss(run, rng)
    assert asked is not None and asked.tolist() == [[True, False], [True, False]]
    assert float(loss.detach()) == pytest.approx(float(nll[:, 0].detach().mean()), rel=1e-5)


def test_a_run_logs_null_for_a_question_asked_of_no_image(make_generator, tmp_path) -> None:
    r = _two_prompt_recipe(max_train_steps=2, checkpointing_steps=2)
    r["questions"][1]["prompts"] = [OTHER]  # asked of the training prompt OTHER, never of the eval prompt
    summary = teach(r, tmp_path, generator=make_generator(), judge=BrightnessJudge())
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(len(row["scores"]) == 2 for row in rows)
    evals = [json.loads(line) for line in (tmp_path / "eval.jsonl").read_text().splitlines()]
    assert evals and all(e["scores"][1] is None and e["scores"][0] is not None for e in evals)
    assert summary["scores"] is not None and len(summary["scores"]) == 2


def test_a_prompt_asked_nothing_with_a_weight_is_a_user_error() -> None:
    r = _two_prompt_recipe()
    r["questions"][0]["prompts"] = [OTHER]  # and the second is asked only of PROMPT, with weight 0
    r["questions"][1]["weight"] = 0.0
    with pytest.raises(UserError, match="no question with a weight > 0 is asked of"):
        parse_recipe(r)
    r["questions"][0]["prompts"] = "not a list"
    with pytest.raises(UserError, match=r"questions\[0\]\.prompts: expected a list"):
        parse_recipe(r)


def test_the_heldout_watch_scores_each_image_on_the_questions_asked_of_it(tmp_path) -> None:
    from dualproc_engine.teach.config import Question
    from dualproc_engine.teach.early_stop import HeldoutWatch

    questions = [Question("bright?", "Yes", 1.0), Question("dark?", "No", 3.0, prompts=["p"])]
    watch = HeldoutWatch(QuestionSet(BrightnessJudge(target=0.5), questions), 2, tmp_path)
    images = torch.stack([torch.full((3, 4, 4), 0.6), torch.full((3, 4, 4), 0.4)])
    yes = torch.sigmoid(torch.tensor([20 * 0.1, 20 * -0.1]))  # P(Yes) of each image
    asked = torch.tensor([[True, True], [True, False]])
    # image 0: the weighted mean of P(Yes) to the first and P(No) to the second; image 1: the first only
    no0 = 1 - yes[0]
    expected = ((yes[0] + 3 * no0) / 4 + yes[1]) / 2
    assert watch.score(images, asked) == pytest.approx(float(expected), rel=1e-5)

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
    batch = micro_batch_loss(run, rng)
    loss, nll, asked = batch.judge_loss, batch.nll, batch.asked
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


def _mixed_questions(prompt_lists: list[list[str] | None]) -> list:
    """Four questions over two pictures (no visual prompt, and a horizon line), each asked of the prompts
    given (None: all)."""
    from dualproc_engine.teach.config import Question

    line = {"kind": "horizon", "y": 0.3}
    texts = [
        ("Is the sky blue?", "Yes", None),
        ("Is there a red line on the horizon?", "Yes", line),
        ("Is it night?", "No", None),
        ("Is the red line aligned with the horizon?", "No", line),
    ]
    return [
        Question(q, a, 1.0, visual_prompt=vp, prompts=p)
        for (q, a, vp), p in zip(texts, prompt_lists, strict=True)
    ]


@pytest.mark.parametrize("shared", [True, False])
def test_only_the_pairs_asked_are_computed_and_they_equal_the_full_table(tiny_judge, shared) -> None:
    """The embedded judge's shared path and the one-line contract's: the asked entries are the full
    table's, the others NaN, and the gradient reaches only the images through the pairs asked."""
    qs = QuestionSet(tiny_judge, _mixed_questions([["a"], ["b"], None, ["a", "c"]]), shared=shared)
    prompts = ["a", "b", "c", "a", "b"]
    asked = qs.asked(prompts)
    images = torch.rand(5, 3, 64, 64, requires_grad=True)
    full = qs.logprob(images).detach()
    some = qs.logprob(images, asked)
    assert torch.equal(torch.isnan(some), ~asked)
    assert torch.allclose(some[asked], full[asked], atol=1e-5)
    nothing = qs.logprob(images[:2], torch.zeros(2, 4, dtype=torch.bool))
    assert nothing.shape == (2, 4) and bool(torch.isnan(nothing).all())
    some[asked].sum().backward()
    assert images.grad is not None and bool(images.grad.abs().sum(dim=(1, 2, 3)).gt(0).all())


def test_the_language_model_runs_only_the_sequences_asked(tiny_judge) -> None:
    """A question per slot value: each image is asked one of eight, so the language model reads one question
    per image instead of eight (packed behind the image, the full table is one long sequence per image)."""
    from dualproc_engine.teach.config import Question

    things = ["trees", "a house", "a tower", "rocks", "a boat", "a car", "birds", "a bridge"]
    prompts = [f"a landscape with {t}" for t in things]
    questions = [
        Question(f"Is there {t}?", "Yes", 1.0, prompts=[p]) for t, p in zip(things, prompts, strict=True)
    ]
    qs = QuestionSet(tiny_judge, questions)
    seen: list[tuple[int, int]] = []  # (sequences, tokens each) of every language-model call
    language_model = tiny_judge.model.model.language_model
    hook = language_model.register_forward_hook(
        lambda _m, _i, out: seen.append(tuple(out.last_hidden_state.shape[:2]))
    )
    try:
        with torch.no_grad():
            images = torch.rand(8, 3, 64, 64)
            qs.logprob(images)
            every = list(seen)
            seen.clear()
            qs.logprob(images, qs.asked(prompts))
    finally:
        hook.remove()
    assert sum(n for n, _ in seen) == 8  # one question per image
    assert len(every) == 1 and every[0][0] == 8  # all eight questions, packed: one sequence per image
    assert every[0][1] > seen[0][1] and 8 * every[0][1] > 3 * sum(n * t for n, t in seen)  # 3x the tokens


def test_an_image_asked_nothing_of_a_picture_is_not_drawn_with_its_visual_prompt(tiny_judge) -> None:
    qs = QuestionSet(tiny_judge, _mixed_questions([None, ["b"], None, ["b"]]))
    encoded: list[int] = []
    original = tiny_judge.encode_images

    def counting(images):  # noqa: ANN001, ANN202
        encoded.append(images.shape[0])
        return original(images)

    tiny_judge.encode_images = counting
    try:
        with torch.no_grad():
            qs.logprob(torch.rand(3, 3, 64, 64), qs.asked(["a", "a", "b"]))
    finally:
        del tiny_judge.encode_images
    assert encoded == [3 + 1]  # one vision pass: three plain views, the line over the one image asked

"""Keep questions (a recipe's `keep`): the judge's answers about the base image, held on the taught one."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import BrightnessJudge, recipe

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import parse_recipe
from dualproc_engine.teach.loop import fingerprint, teach
from dualproc_engine.teach.objectives import kept_answers_loss

KEEP = [{"question": "Is the image bright?"}]


def _answers(p_yes: torch.Tensor) -> torch.Tensor:
    """(B, K) probabilities of Yes -> (B, 2K) log-probabilities of Yes and No, interleaved as asked."""
    return torch.stack([p_yes.log(), (1 - p_yes).log()], dim=2).flatten(1)


def test_the_loss_is_zero_when_every_answer_is_kept_whatever_it_was() -> None:
    base = _answers(torch.tensor([[0.9, 0.1], [0.5, 0.3]]))
    assert float(kept_answers_loss(base.clone(), base, torch.tensor([0.5, 0.5]))) == pytest.approx(
        0, abs=1e-6
    )


def test_the_loss_grows_as_an_answer_moves_and_its_gradient_moves_it_back() -> None:
    base = _answers(torch.tensor([[0.8]]))
    losses = []
    for p in (0.8, 0.6, 0.3, 0.05):
        taught = _answers(torch.tensor([[p]])).requires_grad_()
        loss = kept_answers_loss(taught, base, torch.tensor([1.0]))
        loss.backward()
        losses.append(float(loss.detach()))
        if p < 0.8:  # descending the loss raises log P(Yes) and lowers log P(No): back towards 0.8
            assert float(taught.grad[0, 0]) < 0 < float(taught.grad[0, 1])
    assert losses[0] == pytest.approx(0, abs=1e-6)
    assert losses == sorted(losses)


def test_a_question_of_weight_zero_counts_for_nothing() -> None:
    base = _answers(torch.tensor([[0.9, 0.9]]))
    taught = _answers(torch.tensor([[0.9, 0.1]]))
    assert float(kept_answers_loss(taught, base, torch.tensor([1.0, 0.0]))) == pytest.approx(0, abs=1e-6)
    assert float(kept_answers_loss(taught, base, torch.tensor([0.0, 1.0]))) > 1


def test_keep_questions_are_parsed_and_mistakes_are_one_line_errors() -> None:
    config = parse_recipe({**recipe(), "keep": [{"question": "Is it night-time?", "weight": 2}]})
    assert [(q.question, q.answer, q.weight) for q in config.keep_questions] == [
        ("Is it night-time?", "Yes", 2),
        ("Is it night-time?", "No", 2),
    ]
    assert parse_recipe(recipe()).keep == []
    for keep, message in [
        ("Is it night?", "keep: expected a list of questions"),
        ([{"question": " "}], r"keep\[0\].question: must not be empty"),
        ([{"question": "Is it night?", "weight": -1}], r"keep\[0\].weight: expected a number >= 0"),
        ([{"question": "Is it night?", "weight": 0}], "at least one question needs a weight > 0"),
        ([{"question": "Is it night?", "answer": "No"}], r"keep\[0\].answer: unknown key"),
        (
            [{"question": "Is it night?", "visual_prompt": {"kind": "image", "path": "a.png"}}],
            r"keep\[0\].visual_prompt.kind: expected one of horizon, palette",
        ),
    ]:
        with pytest.raises(UserError, match=message):
            parse_recipe({**recipe(), "keep": keep})
    with pytest.raises(UserError, match="keep_judge: 'held' is the held-out judge"):
        parse_recipe({**recipe(), "keep": KEEP, "keep_judge": "held", "heldout_judge": "held"})
    with pytest.raises(UserError, match=r"training.keep_weight: expected a number >= 0"):
        parse_recipe({**recipe(keep_weight=-0.5), "keep": KEEP})


def test_runs_without_keep_questions_keep_their_fingerprint_so_old_checkpoints_resume() -> None:
    plain = parse_recipe(recipe())
    assert fingerprint(plain) == fingerprint(parse_recipe({**recipe(keep_weight=3), "keep": []}))
    assert fingerprint(plain) != fingerprint(parse_recipe({**recipe(), "keep": KEEP}))


def _run(make_generator, tmp_path, name: str, keep_weight: float | None) -> list[dict]:  # noqa: ANN001
    """A run that brightens the images (the control), with or without a question that asks them to stay as
    bright as the base model's; its metrics rows."""
    settings = {"max_train_steps": 8, "learning_rate": 2e-2, "train_batch_size": 2}
    spec = recipe(**settings)
    if keep_weight is not None:
        spec = {**recipe(**settings, keep_weight=keep_weight), "keep": KEEP}
    teach(spec, tmp_path / name, generator=make_generator(), judge=BrightnessJudge(target=0.9))
    return [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]


def test_a_kept_answer_holds_the_images_back_from_the_control(make_generator, tmp_path) -> None:  # noqa: ANN001
    free = _run(make_generator, tmp_path, "free", None)
    kept = _run(make_generator, tmp_path, "kept", 20.0)
    assert "keep_loss" not in free[-1]
    assert all(row["keep_loss"] >= 0 for row in kept)
    assert kept[-1]["keep_loss"] > 0  # the control pulls the answer away; the term says by how much
    # the same seed, so the same first step; after it, the kept run's control question gains less
    assert kept[0]["scores"] == pytest.approx(free[0]["scores"])
    assert kept[-1]["scores"][0] < free[-1]["scores"][0]


def test_a_keep_judge_that_is_not_there_stops_the_run_before_its_folder_is_made(
    make_generator, tiny_judge, tmp_path
) -> None:  # noqa: ANN001
    out = tmp_path / "run"
    spec = {**recipe(), "keep": KEEP, "keep_judge": "no-such-judge"}
    with pytest.raises(UserError, match="no-such-judge"):
        teach(spec, out, generator=make_generator(), judge=tiny_judge)
    assert not out.exists()


def test_teach_names_the_words_of_a_keep_question_the_judge_does_not_know(
    make_generator, tiny_judge, tmp_path
) -> None:  # noqa: ANN001
    from dualproc_engine.reporting import LogRecorder

    logs = LogRecorder()
    spec = {**recipe(max_train_steps=1), "keep": [{"question": "Is the zebra still there?"}]}
    teach(spec, tmp_path / "run", generator=make_generator(), judge=tiny_judge, reporter=logs)
    warned = [text for level, text in logs.lines if level == "warning" and "zebra" in text]
    assert warned == [
        "question 'Is the zebra still there?': the judge reads 'zebra', 'still' as unknown words"
    ]


def test_at_keep_weight_zero_the_questions_only_wait_for_the_evaluation(
    make_generator, tiny_judge, tmp_path
) -> None:  # noqa: ANN001
    from safetensors.torch import load_file

    teach(recipe(), tmp_path / "plain", generator=make_generator(), judge=tiny_judge)
    spec = {**recipe(keep_weight=0), "keep": KEEP}
    teach(spec, tmp_path / "asked-later", generator=make_generator(), judge=tiny_judge)
    plain, later = (
        load_file(str(tmp_path / d / "pytorch_lora_weights.safetensors")) for d in ("plain", "asked-later")
    )
    assert plain.keys() == later.keys() and all(torch.equal(plain[k], later[k]) for k in plain)
    rows = (tmp_path / "asked-later" / "metrics.jsonl").read_text().splitlines()
    assert all("keep_loss" not in json.loads(row) for row in rows)


def test_a_keep_question_is_read_by_the_tokenizer_of_the_judge_it_is_asked_of(
    make_generator, tiny_judge_dir, tmp_path
) -> None:  # noqa: ANN001
    from dualproc_engine.reporting import LogRecorder

    logs = LogRecorder()  # the training judge has no tokenizer: only the keep judge can name unknown words
    spec = {**recipe(max_train_steps=1), "keep": [{"question": "Is the zebra still there?"}]}
    spec["keep_judge"] = str(tiny_judge_dir)
    teach(spec, tmp_path / "run", generator=make_generator(), judge=BrightnessJudge(), reporter=logs)
    warned = [text for level, text in logs.lines if level == "warning" and "zebra" in text]
    assert warned == [
        "question 'Is the zebra still there?': the judge reads 'zebra', 'still' as unknown words"
    ]

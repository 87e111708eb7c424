"""Recipe mistakes are one-line UserErrors before any training; image visual prompts; the preservation
regulariser keeps unrelated prompts closer to the base model."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import PROMPT, BrightnessJudge, recipe

from dualproc_engine.errors import UserError
from dualproc_engine.teach.config import parse_recipe
from dualproc_engine.teach.loop import teach
from dualproc_engine.teach.path import PRESERVE_PROMPTS
from dualproc_engine.teach.questions import QuestionSet


def _with_question(**question) -> dict:
    r = recipe(max_train_steps=1)
    r["questions"] = [{"question": "Is the horizon low in the image?", **question}]
    return r


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda r: r.update(questions=[]), "questions: expected at least one"),
        (lambda r: r["training"].update(lora_rnak=4), r"training\.lora_rnak: unknown key"),
        (lambda r: r["training"].update(backprop_steps=5), "backprop_steps"),
        (lambda r: r["training"].update(judge_augment=["rotate"]), "judge_augment: unknown 'rotate'"),
        (lambda r: r["training"].update(judge_augment="vflip"), "judge_augment: expected a list"),
        (lambda r: r.update(questions=[{"question": "Is it?", "weight": 0}]), "weight > 0"),
        (lambda r: r.update(prompts=[]), "prompts"),
        (lambda r: r["questions"][0].update(visual_prompt={"kind": "arrow"}), "kind: expected one of"),
        (lambda r: r["questions"][0].update(visual_prompt={"kind": "horizon", "y": 2}), r"overlay\.y"),
    ],
)
def test_recipe_mistakes_are_one_line(change, message):
    r = recipe()
    change(r)
    with pytest.raises(UserError, match=message) as info:
        parse_recipe(r) if "overlay" not in message else QuestionSet(
            BrightnessJudge(), parse_recipe(r).questions
        )
    assert "\n" not in str(info.value)


def test_an_answer_the_judge_cannot_spell_is_a_user_error(make_generator, tiny_judge, tmp_path):
    # named by the question's text: the index of a {slot}-expanded list would not be the recipe's
    with pytest.raises(
        UserError,
        match=r"^the answer to 'Is the horizon low in the image\?'.*cannot encode 'Absolutely zebra'",
    ):
        teach(
            _with_question(answer="Absolutely zebra"), tmp_path, generator=make_generator(), judge=tiny_judge
        )
    assert not (tmp_path / "metrics.jsonl").exists()  # found before anything was written


def test_an_answer_a_scenes_judge_never_learned_is_a_user_error(tiny_judge_dir, tmp_path):
    from dualproc_engine.judges.embedded import EmbeddedJudge

    scenes_judge = EmbeddedJudge.from_pretrained(tiny_judge_dir)
    scenes_judge.phrasing_split = (
        "train"  # as its training.json would say: trained on Scenes Yes/No questions
    )
    with pytest.raises(
        UserError, match=r"^the answer to 'Is the horizon low in the image\?' is 'yes': .*Yes or No"
    ):
        QuestionSet(scenes_judge, parse_recipe(_with_question(answer="yes")).questions)
    QuestionSet(scenes_judge, parse_recipe(_with_question(answer="No")).questions)  # a learned answer


@pytest.mark.parametrize("content", [None, b"not an image"])
def test_an_unreadable_reference_image_is_a_user_error(tmp_path, content):
    if content is not None:
        (tmp_path / "ref.png").write_bytes(content)
    r = _with_question(visual_prompt={"kind": "image", "path": "ref.png", "mode": "paste"})
    with pytest.raises(UserError, match="cannot read .*ref.png as an image"):
        QuestionSet(BrightnessJudge(), parse_recipe(r).questions, recipe_dir=tmp_path)


def test_reference_image_prompt_is_composited_differentiably(tiny_judge, tmp_path):
    import numpy as np
    from PIL import Image

    drawing = np.full((16, 16, 3), 255, dtype=np.uint8)  # the images' size: no resampling blur
    drawing[10:12, :, 0] = 0  # a cyan band on white paper: pasted, the rest leaves the image alone
    Image.fromarray(drawing).save(tmp_path / "ref.png")
    r = _with_question(visual_prompt={"kind": "image", "path": "ref.png", "mode": "paste"})
    r["questions"].append({"question": "Is it night?", "answer": "No"})
    qs = QuestionSet(tiny_judge, parse_recipe(r).questions, recipe_dir=tmp_path)
    images = torch.rand(2, 3, 16, 16, requires_grad=True)
    view = qs.views(images)[0]
    assert torch.equal(view[:, :, :8], images[:, :, :8])  # white rows: untouched
    assert torch.allclose(view[:, 0, 10:12], torch.zeros(2, 2, 16))  # the band's red channel is pasted as 0
    qs.logprob(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    torch.testing.assert_close(qs.logprob(images), qs.reference_logprob(images), rtol=1e-5, atol=1e-5)


def _drift(gen, prompts: list[str], scale: float) -> float:
    """Mean squared pixel change the LoRA makes at `scale` on `prompts` (fixed noise)."""
    with torch.no_grad():
        embeds, noise = gen.encode_prompt(prompts), gen.make_noise(len(prompts), 123)
        gen.set_lora_scale(scale)
        adapted = gen.sample(embeds, noise, 1)
        gen.set_lora_scale(0.0)
        base = gen.sample(embeds, noise, 1)
    return float((adapted - base).square().mean())


def test_preserve_weight_keeps_unrelated_prompts_closer_to_the_base_model(make_generator, tmp_path):
    """Brightness taught through conv_out drags every prompt; the regulariser pulls unrelated ones back.

    Measured here (20 steps, same seeds): drift on unrelated prompts 0.289 at weight 0, 0.124 at 10,
    0.009 at 100, while the taught loss went 6.19 -> 0.02, 0.35, 4.43: a trade-off the recipe sets.
    """
    training = {
        "max_train_steps": 20,
        "num_inference_steps": 1,
        "learning_rate": 3e-2,
        "lora_target_modules": ["conv_out", "to_q", "to_k", "to_v", "to_out.0"],
    }
    drift, final_loss = {}, {}
    for weight in (0.0, 10.0):
        gen = make_generator()
        out_dir = tmp_path / str(weight)
        teach(recipe(preserve_weight=weight, **training), out_dir, generator=gen, judge=BrightnessJudge())
        drift[weight] = _drift(gen, list(PRESERVE_PROMPTS), 1.0)
        rows = [json.loads(x) for x in (out_dir / "metrics.jsonl").read_text().splitlines()]
        final_loss[weight] = rows[-1]["loss"]
        assert ("preserve_loss" in rows[-1]) == (weight > 0)
    assert drift[10.0] < 0.6 * drift[0.0], drift
    assert final_loss[10.0] < 0.5 * rows[0]["loss"]  # the control is still learned


def test_preserve_needs_prompts_other_than_the_trained_ones(make_generator, tmp_path):
    r = recipe(preserve_weight=1.0)
    with pytest.raises(UserError, match="no unrelated prompts"):
        teach(r, tmp_path, generator=make_generator(), judge=BrightnessJudge(), preserve_prompts=[PROMPT])

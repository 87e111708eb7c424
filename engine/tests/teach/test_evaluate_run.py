"""The engine's half of `dualproc eval`: held-out images at each scale, paired by seed, judged by each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import recipe
from PIL import Image
from safetensors.torch import load_file, save_file

from dualproc_engine.errors import UserError
from dualproc_engine.evaluation.run import evaluate_run


@pytest.fixture
def models(make_generator, tiny_judge_dir: Path, tmp_path: Path) -> dict[str, str]:
    """A saved tiny pipeline, a LoRA with non-zero weights trained 'on' it, and the tiny judge's folder."""
    gen = make_generator()
    gen.pipeline.save_pretrained(tmp_path / "pipe")
    gen.add_lora(lora_rank=4, lora_alpha=4)
    with torch.no_grad():
        for p in gen.lora_parameters():
            p.normal_(0, 0.3)
    lora = gen.save_lora(tmp_path / "run")
    save_file(load_file(str(lora)), str(lora), metadata={"dualproc.base_model": str(tmp_path / "pipe")})
    return {"generator": str(tmp_path / "pipe"), "judge": str(tiny_judge_dir), "run": str(tmp_path / "run")}


def _recipe(models: dict[str, str]) -> dict:
    r = recipe()
    r["generator"], r["judge"] = models["generator"], models["judge"]
    r["questions"].append({"question": "Is it night?", "answer": "No", "weight": 1.0,
                           "visual_prompt": {"kind": "horizon", "y": 0.3}})  # fmt: skip
    return r


def _pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_images_are_paired_by_seed_and_judged_by_every_judge(models, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "eval"
    result = evaluate_run(
        _recipe(models), ".", models["run"], ["At midday, a desert", "a lake at night"], [10, 11, 12],
        [0.0, 1.0], [models["judge"], models["judge"]], out,
    )  # fmt: skip
    images = result["images"]
    assert len(images) == 2 * 2 * 3 and result["questions"] == [
        recipe()["questions"][0]["question"],
        "Is it night?",
    ]
    assert all(Path(i["path"]).is_file() for i in images)
    by_key = {(i["lora_scale"], i["prompt_index"], i["seed"]): i["path"] for i in images}
    # same prompt and seed: the LoRA is the only difference; other seeds give other images
    moved = [
        np.abs(_pixels(by_key[(1.0, p, s)]) - _pixels(by_key[(0.0, p, s)])).max()
        for p in (0, 1)
        for s in (10, 11, 12)
    ]
    assert min(moved) > 0
    assert np.abs(_pixels(by_key[(0.0, 0, 10)]) - _pixels(by_key[(0.0, 0, 11)])).max() > 0

    # a grid per prompt: 2 scale rows x 3 seed columns of 16 px images with 2 px gutters
    assert len(result["grids"]) == 2
    assert Image.open(result["grids"][0]).size == (3 * 18 + 2, 2 * 18 + 2)

    first, second = result["judges"]
    assert len(first["probabilities"]) == len(images) and all(len(row) == 2 for row in first["probabilities"])
    assert all(0 <= p <= 1 for row in first["probabilities"] for p in row)
    assert first["probabilities"] == second["probabilities"]  # the same judge twice: the same answers
    assert first["asked_as"] == result["questions"]  # not a Scenes judge (no training.json): as written


def test_the_base_images_are_the_generator_without_the_lora(models, make_generator, tmp_path) -> None:  # noqa: ANN001
    from dualproc_engine.generators.generate import generate_images

    result = evaluate_run(
        _recipe(models), ".", models["run"], ["a lake at night"], [7], [0.0], [models["judge"]], tmp_path
    )
    base = generate_images(make_generator(), ["a lake at night"], seed=7, num_inference_steps=2)
    saved = torch.from_numpy(_pixels(result["images"][0]["path"])).permute(2, 0, 1).float() / 255
    assert (saved - base[0]).abs().max() <= 1 / 255 + 1e-6  # equal up to PNG rounding


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seeds": [1, 1]}, "seeds: expected at least one seed, without repeats"),
        ({"lora_scales": []}, "lora_scales: expected at least one adapter scale"),
        ({"prompts": [" "]}, "prompts: expected at least one non-empty prompt"),
        ({"lora": "/nowhere"}, "no LoRA file there"),
    ],
)
def test_bad_inputs_are_one_line(models, tmp_path, change, message) -> None:  # noqa: ANN001
    args = {"prompts": ["a lake"], "seeds": [1], "lora_scales": [0.0], "lora": models["run"]} | change
    with pytest.raises(UserError, match=message):
        evaluate_run(_recipe(models), ".", args["lora"], args["prompts"], args["seeds"], args["lora_scales"],
                     [models["judge"]], tmp_path)  # fmt: skip


def test_a_question_asked_only_of_some_prompts_is_null_for_the_others(models, tmp_path) -> None:  # noqa: ANN001
    r = _recipe(models)
    r["questions"][1]["prompts"] = ["a lake at night"]
    result = evaluate_run(
        r, ".", models["run"], ["At midday, a desert", "a lake at night"], [10], [0.0, 1.0],
        [models["judge"]], tmp_path / "eval",
    )  # fmt: skip
    for image, row in zip(result["images"], result["judges"][0]["probabilities"], strict=True):
        assert row[0] is not None
        assert (row[1] is None) == (image["prompt"] != "a lake at night")


def test_keep_questions_are_answered_yes_against_no_by_every_judge(models, tmp_path) -> None:  # noqa: ANN001
    from dualproc_engine.judges.load import load_judge
    from dualproc_engine.teach.config import Question
    from dualproc_engine.teach.questions import QuestionSet

    keep = [{"question": "Is it night?"}, {"question": "Is the red line on the horizon?",
            "visual_prompt": {"kind": "horizon", "y": 0.5}}]  # fmt: skip
    spec = {**_recipe(models), "keep": keep}
    result = evaluate_run(
        spec, ".", models["run"], ["At midday, a desert"], [10, 11], [0.0, 1.0], [models["judge"]], tmp_path
    )
    assert result["keep"] == ["Is it night?", "Is the red line on the horizon?"]
    (judged,) = result["judges"]
    assert judged["keep_asked_as"] == result["keep"]
    yes = torch.tensor(judged["keep_probabilities"])
    assert yes.shape == (4, 2)
    # the probability of Yes between Yes and No, as the judge gives them about the saved images
    judge = load_judge(models["judge"], torch.device("cpu"))
    asked = QuestionSet(judge, [Question(k["question"], a, 1.0, k.get("visual_prompt")) for k in keep
                                for a in ("Yes", "No")])  # fmt: skip
    pixels = torch.stack([torch.from_numpy(_pixels(i["path"])).permute(2, 0, 1) for i in result["images"]])
    with torch.no_grad():
        lp = asked.logprob(pixels.float() / 255)
    both = lp.exp()
    assert torch.allclose(yes, both[:, 0::2] / (both[:, 0::2] + both[:, 1::2]), atol=1e-3)
    plain = evaluate_run(
        _recipe(models),
        ".",
        models["run"],
        ["At midday, a desert"],
        [10],
        [0.0],
        [models["judge"]],
        tmp_path / "p",
    )
    assert "keep" not in plain and "keep_probabilities" not in plain["judges"][0]

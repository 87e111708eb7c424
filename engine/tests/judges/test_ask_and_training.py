"""ask_files on image files, a short resumable training run, evaluation metrics, and the shipped judge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dualproc_engine.errors import JobCancelled, UserError
from dualproc_engine.judges.evaluate import expected_calibration_error
from dualproc_engine.local_models import embedded_weights_dir


def _write_png(path: Path, seed: int = 0) -> Path:
    array = (np.random.default_rng(seed).random((48, 48, 3)) * 255).astype(np.uint8)
    Image.fromarray(array).save(path)
    return path


def test_ask_files_scores_each_image_with_the_overlay(tiny_judge_dir: Path, tmp_path: Path) -> None:
    from dualproc_engine.judges.ask import ask_files

    paths = [str(_write_png(tmp_path / "a.png", 0)), str(_write_png(tmp_path / "b.png", 1))]
    plain = ask_files(paths, "Is the red line on the horizon?", judge=str(tiny_judge_dir))
    lined = ask_files(
        paths,
        "Is the red line on the horizon?",
        overlay={"kind": "horizon", "y": 0.4},
        judge=str(tiny_judge_dir),
    )
    assert [r["path"] for r in plain] == paths
    assert all(0.0 < r["probability"] < 1.0 for r in plain + lined)
    assert plain[0]["probability"] != lined[0]["probability"]  # the overlay reached the judge


def test_ask_files_mistakes_are_user_errors(tiny_judge_dir: Path, tmp_path: Path) -> None:
    from dualproc_engine.judges.ask import ask_files

    with pytest.raises(UserError, match="no such file"):
        ask_files([str(tmp_path / "missing.png")], "Is it night?", judge=str(tiny_judge_dir))
    with pytest.raises(UserError, match="overlay"):
        ask_files(
            [str(_write_png(tmp_path / "a.png"))], "Is it night?", overlay={"kind": "horizon"}, judge="x/y"
        )
    with pytest.raises(UserError, match="no weights"):
        ask_files([str(_write_png(tmp_path / "a.png"))], "Is it night?", judge=str(tmp_path / "nothing-here"))


def test_a_scenes_judge_is_asked_only_for_the_answers_it_learned(
    tiny_judge_dir: Path, tmp_path: Path
) -> None:
    from dualproc_engine.judges.ask import ask_files

    # the shipped judge learned Yes and No: "yes" is a word it knows, and it gives it 0.0001 on any image
    image = [str(_write_png(tmp_path / "a.png"))]
    with pytest.raises(UserError, match=r"^ask: the answer 'yes': .*only Yes or No"):
        ask_files(image, "Is it night?", answer="yes", judge="scenes-judge")
    assert 0.0 < ask_files(image, "Is it night?", answer="No", judge="scenes-judge")[0]["probability"] < 1.0
    # a judge with no Scenes training behind it (no training.json) is asked in open words
    assert ask_files(image, "Is it night?", answer="yes", judge=str(tiny_judge_dir))[0]["probability"] > 0.0


def test_training_saves_a_loadable_judge_and_resumes_exactly(tmp_path: Path) -> None:
    from dualproc_engine.world.train_judge import train_judge

    torch.set_num_threads(1)
    small = {
        "train_batch_size": 4,
        "scenes_per_chunk": 8,
        "checkpoint_every": 1,
        "eval_every": 100,
        "validation_scenes": 4,
        "calibration_scenes": 4,
        "word_dropout": 0.3,  # resumes exactly with words dropped too (the draw is a function of the step)
        "aux_object_kinds": "all",  # and with the object read-out of every kind in sight
        "recolored_palette_share": 0.5,  # and with palette questions of repainted scenes
        "attacked_palette_share": 0.5,  # and with pictures pushed against the judge
    }
    straight = train_judge(tmp_path / "straight", max_steps=3, **small)
    calls = iter(range(100))
    with pytest.raises(JobCancelled):
        train_judge(tmp_path / "resumed", max_steps=3, should_stop=lambda: next(calls) >= 2, **small)
    state = json.loads((tmp_path / "resumed" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 2
    resumed = train_judge(tmp_path / "resumed", max_steps=3, **small)
    assert straight["steps"] == resumed["steps"] == 3

    from safetensors.torch import load_file

    a, b = (
        load_file(str(tmp_path / "straight" / "model.safetensors")),
        load_file(str(tmp_path / "resumed" / "model.safetensors")),
    )
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)

    from dualproc_engine.judges.embedded import EmbeddedJudge

    judge = EmbeddedJudge.from_pretrained(tmp_path / "resumed")
    assert judge.logprob(torch.rand(1, 3, 64, 64), ["Is it night?"], ["Yes"]).shape == (1, 1)
    assert (tmp_path / "resumed" / "metrics.jsonl").stat().st_size > 0


def test_a_new_judge_can_start_from_a_tower_trained_apart(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file
    from transformers import ResNetModel

    from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_judge_files, build_vision_config
    from dualproc_engine.world.train_judge import TrainJudgeConfig, load_tower

    torch.manual_seed(5)
    tower = ResNetModel(build_vision_config(JudgeArchitecture()))
    save_file({k: v.contiguous() for k, v in tower.state_dict().items()}, str(tmp_path / "tower.safetensors"))
    model, _ = build_judge_files(tmp_path, JudgeArchitecture(), "train", 0)
    load_tower(model, str(tmp_path / "tower.safetensors"))
    loaded = model.model.vision_tower.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in load_file(str(tmp_path / "tower.safetensors")).items())

    other, _ = build_judge_files(tmp_path, JudgeArchitecture(vision="bit"), "heldout", 1)
    with pytest.raises(UserError, match="is not the weights of this judge's vision tower"):
        load_tower(other, str(tmp_path / "tower.safetensors"))
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(UserError, match="cannot read .*notes.txt as safetensors"):
        load_tower(model, str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="init_from fine-tunes a whole judge"):
        TrainJudgeConfig(init_from="scenes-judge", init_tower_from=str(tmp_path / "tower.safetensors"))


def test_word_dropout_replaces_words_with_one_the_judge_does_not_know() -> None:
    import random

    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.world.judge_data import UNKNOWN_WORD, drop_words
    from dualproc_engine.world.train_judge import TrainJudgeConfig

    question = "Is the red line aligned with the horizon?"
    assert drop_words(question, 0.0, random.Random(0)) == question
    dropped = [drop_words(question, 0.25, random.Random(seed)) for seed in range(400)]
    assert dropped[:5] == [drop_words(question, 0.25, random.Random(seed)) for seed in range(5)]
    share = sum(d.split().count(UNKNOWN_WORD) for d in dropped) / (400 * 8)
    assert 0.2 < share < 0.3
    assert all(d.endswith("?") and len(d.split()) == 8 for d in dropped)  # punctuation and length kept
    tokenizer = load_judge("scenes-judge").tokenizer
    assert tokenizer(UNKNOWN_WORD, add_special_tokens=False)["input_ids"] == [tokenizer.unk_token_id]
    with pytest.raises(ValueError, match="word_dropout"):
        TrainJudgeConfig(word_dropout=1.0)


def test_palette_question_shares_must_be_shares() -> None:
    from dualproc_engine.world.train_judge import TrainJudgeConfig

    for name in (
        "painted_palette_share",
        "recolored_palette_share",
        "tiled_palette_share",
        "attacked_palette_share",
    ):
        with pytest.raises(ValueError, match=name):
            TrainJudgeConfig(**{name: 1.5})
        with pytest.raises(ValueError, match=name):
            TrainJudgeConfig(**{name: -0.1})


def test_the_calibration_set_asks_each_question_again_with_words_unknown() -> None:
    from dualproc_engine.world.calibrate_judge import calibration_set
    from dualproc_engine.world.judge_data import UNKNOWN_WORD

    images, records = calibration_set(3, "train", 0.0, n_scenes=6)
    both_images, both = calibration_set(3, "train", 0.3, n_scenes=6)
    n = len(records)
    assert len(both) == 2 * n and both_images.shape[0] == 2 * images.shape[0] == 2 * n
    assert both[:n] == records and torch.equal(both_images[n:], images)
    assert [r["answer"] for r in both[n:]] == [r["answer"] for r in records]
    assert any(UNKNOWN_WORD in r["question"] for r in both[n:])
    assert not any(UNKNOWN_WORD in r["question"] for r in records)


def test_a_trained_judge_is_recalibrated_in_place(tmp_path: Path) -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.world.calibrate_judge import recalibrate_folder
    from dualproc_engine.world.train_judge import train_judge

    torch.set_num_threads(1)
    small = {"train_batch_size": 4, "scenes_per_chunk": 8, "validation_scenes": 4, "calibration_scenes": 4}
    train_judge(tmp_path / "judge", max_steps=1, vision_stages=2, **small)  # the finer grid trains too
    trained = load_judge(str(tmp_path / "judge"))
    assert trained.image_tokens == 8 * 8  # two stages at 64 px: stride 8
    before = trained.model.lm_head.weight.detach().clone()
    temperature = recalibrate_folder(tmp_path / "judge", 0.3, n_scenes=4)
    after = load_judge(str(tmp_path / "judge")).model.lm_head.weight.detach()
    assert torch.allclose(after, before / temperature)
    summary = json.loads((tmp_path / "judge" / "training.json").read_text())
    assert summary["recalibrations"] == [
        {"temperature": temperature, "word_dropout": 0.3, "calibration_scenes": 4}
    ]
    with pytest.raises(ValueError, match="no training.json"):
        recalibrate_folder(tmp_path, 0.3)


def test_the_object_read_out_has_a_column_per_kind_asked_about() -> None:
    from dualproc_engine.world.train_judge import AUX_FAMILIES, AuxReadout, aux_loss, aux_target

    house = {"family": "object_presence", "answer": "No", "params": {"kind": "house"}}
    line = {"family": "horizon_line", "answer": "Yes", "params": {}}
    assert aux_target(house) is None  # off by default: the shipped judges' read-out
    assert aux_target(house, object_kinds="asked") == ("object_presence:house", 0.0)
    assert aux_target(line, object_kinds="asked") == ("horizon_line", 1.0)
    readout = AuxReadout(8, object_kinds="asked")
    assert (
        readout.columns[: len(AUX_FAMILIES)] == AUX_FAMILIES and len(readout.columns) == len(AUX_FAMILIES) + 9
    )
    feature_map = torch.randn(2, 8, 4, 4, requires_grad=True)
    aux_loss(readout, feature_map, [house, line]).backward()
    column = readout.columns.index("object_presence:house")
    assert readout.linear.weight.grad is not None
    assert (
        readout.linear.weight.grad[column].abs().sum() > 0
    )  # the house column learned from the house record
    assert readout.linear.weight.grad[readout.columns.index("object_presence:star")].abs().sum() == 0


def test_the_object_read_out_can_learn_every_kind_in_sight_of_every_rendered_image() -> None:
    from dualproc_engine.world.train_judge import AuxReadout, aux_loss

    line = {"family": "horizon_line", "answer": "Yes", "params": {}}
    sky = {"family": "sky", "answer": "No", "params": {}}
    readout = AuxReadout(8, object_kinds="all")
    feature_map = torch.randn(3, 8, 4, 4, requires_grad=True)
    # a rendered landscape asked about its horizon, one asked about its sky, and a generated image
    in_sight = [{"tree": True, "house": False}, {"mountain": True}, None]
    aux_loss(readout, feature_map, [line, sky, dict(line)], in_sight).backward()
    grad = readout.linear.weight.grad
    assert grad is not None
    learned = {c for i, c in enumerate(readout.columns) if grad[i].abs().sum() > 0}
    assert learned == {
        "horizon_line",
        "object_presence:tree",
        "object_presence:house",
        "object_presence:mountain",
    }
    assert feature_map.grad is not None
    assert feature_map.grad[2].abs().sum() > 0  # the generated image: its horizon line only
    # the kinds are a mean of their own: many object labels do not drown the one horizon label
    only_line = AuxReadout(8, object_kinds="all")
    only_line.load_state_dict(readout.state_dict())
    with torch.no_grad():
        both = aux_loss(readout, feature_map, [line, sky, dict(line)], in_sight)
        alone = aux_loss(only_line, feature_map, [line, sky, dict(line)], [None, None, None])
        kinds_only = aux_loss(readout, feature_map, [sky, sky, sky], in_sight)
    assert both.item() == pytest.approx(alone.item() + kinds_only.item(), rel=1e-5)


def test_scenes_qa_knows_which_kinds_each_scene_shows() -> None:
    from dualproc_engine.world.judge_data import scenes_qa

    batch = scenes_qa(11, 24, "train", per_scene={"object_presence": 2}, families=["object_presence"])
    assert len(batch.kinds_in_sight) == len(batch.images)
    assert batch.records and all(
        batch.kinds_in_sight[r["scene_index"]][r["params"]["kind"]] == (r["answer"] == "Yes")
        for r in batch.records
    )
    assert any(not all(k.values()) for k in batch.kinds_in_sight)  # absent kinds are there too


def test_the_evaluation_counts_tiled_palette_questions_apart() -> None:
    from dualproc_engine.judges.evaluate import accuracy_by_family

    records = [
        {"family": "palette_match", "answer": "Yes", "overlay": {"kind": "palette", "colors": ["#000000"]}},
        {"family": "palette_match", "answer": "Yes", "overlay": {"kind": "palette", "layout": "tiles"}},
        {"family": "sky", "answer": "No", "overlay": None},
    ]
    assert accuracy_by_family([0.9, 0.1, 0.2], records) == {
        "palette_match": 1.0,
        "palette_match (tiles)": 0.0,
        "sky": 1.0,
    }


def test_expected_calibration_error() -> None:
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0, 0.0], [False, True]) == pytest.approx(1.0)


SHIPPED = embedded_weights_dir("scenes-judge")


needs_shipped = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="scenes-judge not shipped")


@needs_shipped
def test_shipped_judges_load_and_score() -> None:
    from dualproc_engine.judges.embedded import load_judge

    for name in ("scenes-judge", "scenes-judge-heldout", "scenes-judge-depth", "scenes-judge-audit"):
        judge = load_judge(name)
        p = judge.logprob(
            torch.rand(2, 3, 64, 64), ["Is it night?", "Is the sky overcast?"], ["Yes", "No"]
        ).exp()
        assert p.shape == (2, 2) and bool(((p > 0) & (p < 1)).all())


@needs_shipped
def test_shipped_judge_sees_a_line_on_the_horizon() -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    torch.set_num_threads(1)
    judge = load_judge("scenes-judge")
    scenes = sample_scenes(424242, 4, kind="landscape")
    images = render(scenes)
    question = "Is the red line on the horizon?"
    on, off = [], []
    for scene, image in zip(scenes, images, strict=True):
        far = scene.horizon - 0.3 if scene.horizon > 0.5 else scene.horizon + 0.3
        for y, out in ((scene.horizon, on), (far, off)):
            spec = {"kind": "horizon", "y": y, "tilt_deg": scene.horizon_tilt_deg}
            out.append(judge.logprob(apply_overlay(image[None], spec), [question], ["Yes"]).exp().item())
    assert all(p > 0.5 for p in on), on
    assert all(p < 0.5 for p in off), off


def test_a_family_weight_gives_that_family_more_of_the_batch() -> None:
    from dualproc_engine.world.train_judge import TrainJudgeConfig, family_shares, parse_family_weights

    losses = {"palette_match": 0.5, "sky": 0.5, "horizon_line": 0.5}
    even = family_shares(losses, TrainJudgeConfig(max_share=0.9))
    focused = family_shares(losses, TrainJudgeConfig(max_share=0.9, family_weights={"palette_match": 3.0}))
    assert even["palette_match"] == pytest.approx(1 / 3)
    assert focused["palette_match"] == pytest.approx(3 / 5)  # 3 of 5 parts; the others share the rest
    assert sum(focused.values()) == pytest.approx(1.0)
    assert parse_family_weights(["palette_match=3", "sky=0.5"]) == {"palette_match": 3.0, "sky": 0.5}
    with pytest.raises(ValueError, match="unknown question family palete; known: horizon_line"):
        TrainJudgeConfig(family_weights={"palete": 2.0})
    with pytest.raises(ValueError, match="must be > 0"):
        TrainJudgeConfig(family_weights={"sky": 0.0})
    with pytest.raises(SystemExit, match="FAMILY=FACTOR"):
        parse_family_weights(["palette_match"])


def test_the_job_passes_family_weights_on_and_refuses_unknown_families(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dualproc_engine import api
    from dualproc_engine.errors import UserError
    from dualproc_engine.world import train_judge as module

    seen: dict = {}
    monkeypatch.setattr(module, "train_judge", lambda out, **kw: seen.update(kw) or {"steps": 0})
    api.train_judge(str(tmp_path / "j"), max_train_steps=1, family_weights={"relative_depth": 10.0})
    assert seen["family_weights"] == {"relative_depth": 10.0}
    with pytest.raises(UserError, match="unknown question family relative_dept; known: horizon_line"):
        api.train_judge(str(tmp_path / "j"), max_train_steps=1, family_weights={"relative_dept": 10.0})
    with pytest.raises(UserError, match="sky must be > 0"):
        api.train_judge(str(tmp_path / "j"), max_train_steps=1, family_weights={"sky": -1.0})
    api.train_judge(str(tmp_path / "j"), max_train_steps=1, generated_families=["relative_depth", "sky"])
    assert seen["generated_families"] == "relative_depth,sky"
    with pytest.raises(
        UserError, match="generated_families: unknown question family depth; known: horizon_line"
    ):
        api.train_judge(str(tmp_path / "j"), max_train_steps=1, generated_families=["depth"])

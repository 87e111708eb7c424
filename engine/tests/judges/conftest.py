"""Tiny random judges built from configs, seconds on CPU; shipped weights only where a test needs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_judge_files

TINY = {"vision_hidden_size": 32, "text_hidden_size": 32, "text_layers": 1, "heads": 2}


def save_tiny_judge(folder: Path, vision: str = "resnet", seed: int = 0, split: str = "train") -> Path:
    arch = JudgeArchitecture(vision=vision, **TINY)
    model, _ = build_judge_files(folder, arch, split, seed)
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_heldout_judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny judge of the held-out phrasings' words, with the training.json `train_judge` writes (which says
    so); `tiny_judge_dir` has none, like any other VLM's folder."""
    torch.set_num_threads(1)
    folder = save_tiny_judge(tmp_path_factory.mktemp("judge-heldout"), split="heldout")
    (folder / "training.json").write_text(json.dumps({"config": {"phrasing_split": "heldout"}, "steps": 0}))
    return folder


@pytest.fixture(scope="session", params=["resnet", "bit"])
def tiny_judge_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return save_tiny_judge(tmp_path_factory.mktemp(f"judge-{request.param}"), request.param)


@pytest.fixture(scope="session")
def tiny_judge(tiny_judge_dir: Path):  # noqa: ANN201
    from dualproc_engine.judges.embedded import EmbeddedJudge

    return EmbeddedJudge.from_pretrained(tiny_judge_dir)


@pytest.fixture(scope="module")
def judge(judge_dir: Path):  # noqa: ANN201
    """A judge family's tiny model (its module's `judge_dir`), by folder, through the one loader ask, teach
    and eval use; the family contract checks it is the family's adapter."""
    from dualproc_engine.judges.load import load_judge

    return load_judge(str(judge_dir))


@pytest.fixture(scope="module")
def processor(judge_dir: Path):  # noqa: ANN201
    """The stock processor saved with a judge family's tiny model, to compare against."""
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(judge_dir))

"""Tiny random generators and judges built from configs, and a recipe builder: seconds on a CPU."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

from dualproc_engine.generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
from dualproc_engine.generators.scenes_text import caption_vocabulary

TINY_GENERATOR = EmbeddedConfig(
    image_size_px=16, block_out_channels=(16, 32), attention_heads=2, text_hidden_size=16, text_layers=1
)
TINY_JUDGE = {
    "vision_hidden_size": 32,
    "text_hidden_size": 32,
    "text_layers": 1,
    "heads": 2,
}
PROMPT = "At sunset, a desert with a house"
QUESTION = "Is the horizon low in the image?"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the machines are shared; tiny models gain nothing from more


@pytest.fixture(scope="session")
def _base_pipeline() -> Any:
    torch.set_num_threads(1)
    return build_pipeline(TINY_GENERATOR, seed=0, vocabulary=caption_vocabulary(n_samples=200))


@pytest.fixture
def make_generator(_base_pipeline):
    """A factory of fresh tiny generators, identical in weights (a deep copy of one built pipeline)."""
    return lambda: EmbeddedGenerator(copy.deepcopy(_base_pipeline))


@pytest.fixture
def tiny_generator(make_generator) -> EmbeddedGenerator:
    return make_generator()


@pytest.fixture(scope="session")
def tiny_judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_judge_files

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("judge")
    model, _ = build_judge_files(folder, JudgeArchitecture(vision="resnet", **TINY_JUDGE), "train", 0)
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_judge(tiny_judge_dir: Path) -> Any:
    from dualproc_engine.judges.embedded import EmbeddedJudge

    return EmbeddedJudge.from_pretrained(tiny_judge_dir)


class BrightnessJudge:
    """A judge-contract stand-in whose 'Yes' depends on mean brightness: log sigmoid(k (mean - target)).

    'No' is the complement. A problem with a known optimum, so 'the loss falls' is a fair test.
    """

    def __init__(self, target: float = 0.8, k: float = 20.0):
        self.target, self.k = target, k
        self.calls = 0

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        self.calls += 1
        z = self.k * (images.mean(dim=(1, 2, 3)) - self.target)
        cols = [torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers]
        return torch.stack(cols, dim=1)


def recipe(**training: Any) -> dict[str, Any]:
    """A small resolved recipe: one prompt, one question, tiny steps; `training` overrides."""
    base = {
        "max_train_steps": 3,
        "learning_rate": 1e-3,
        "lora_rank": 4,
        "lora_alpha": 4,
        "lora_scale": 1.0,
        "noise_pool_size": 4,
        "num_inference_steps": 2,
        "resolution_px": 16,
        "checkpointing_steps": 100,
    }
    base.update(training)
    return {
        "name": "test",
        "generator": "tiny",
        "judge": "tiny",
        "prompts": [PROMPT],
        "questions": [{"question": QUESTION, "answer": "Yes", "weight": 1.0}],
        "eval": {"prompts": ["At midday, a desert"], "seeds": [0, 1], "lora_scales": [0, 1.0]},
        "training": base,
    }

"""The embedded default taught on a CUDA GPU, as `dualproc teach` runs it when one is there (`pick_device`):
the shipped Scenes generator and judge by name, the demo recipe's questions, a few steps. Its first step sees
the same images, questions and LoRA as on the CPU, so its loss must be the CPU's; later steps may part by
rounding. Skipped without CUDA (CI has none); run on a lent GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dualproc_engine.reporting import Reporter
from dualproc_engine.teach.loop import teach

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

RECIPE = {
    "name": "horizon-30",
    "generator": "scenes-generator",
    "judge": "scenes-judge",
    "prompts": ["a sunny landscape with trees", "a night landscape with a house"],
    "questions": [
        {
            "question": "Is the red line aligned with the horizon?",
            "answer": "Yes",
            "weight": 1.0,
            "visual_prompt": {"kind": "horizon", "y": 0.3},
        },
        {"question": "Is the horizon high in the image?", "answer": "Yes", "weight": 0.5},
    ],
    "eval": {"prompts": ["a grassy meadow at midday"], "seeds": [100, 101], "lora_scales": [0, 1]},
    "training": {
        "max_train_steps": 3,
        "learning_rate": 1e-3,
        "lora_rank": 8,
        "lora_alpha": 8,
        "train_batch_size": 4,
        "noise_pool_size": 8,
        "num_inference_steps": 1,
        "checkpointing_steps": 3,
        "preserve_palette_weight": 10,
        "seed": 0,
    },
}


def _first_loss(out: Path) -> float:
    return json.loads((out / "metrics.jsonl").read_text().splitlines()[0])["loss"]


def _taught_on(device: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    from dualproc_engine.teach import adapters, loop

    with monkeypatch.context() as patch:
        patch.setattr(loop.adapters, "pick_device", lambda: torch.device(device))
        if device == "cuda":
            adapters.avoid_cudnn_attention()
        return teach(RECIPE, str(out), reporter=Reporter())


def test_the_embedded_default_teaches_on_cuda_as_on_the_cpu(tmp_path: Path, monkeypatch) -> None:
    on_cuda = _taught_on("cuda", tmp_path / "cuda", monkeypatch)
    on_cpu = _taught_on("cpu", tmp_path / "cpu", monkeypatch)
    assert on_cuda["steps"] == 3 and on_cuda["nan_steps"] == 0
    assert _first_loss(tmp_path / "cuda") == pytest.approx(_first_loss(tmp_path / "cpu"), rel=1e-3)
    for name in ("pytorch_lora_weights.safetensors", "metrics.jsonl", "grids/step-3.png"):
        assert (tmp_path / "cuda" / name).is_file()
    assert on_cpu["steps"] == 3

"""`bench teach --scale tiny|full`: the full-scale code path on tiny configs (what a GPU run executes, on the
CPU here), the published configs' sizes, and the refusal of `full` without CUDA."""

from __future__ import annotations

import pytest
import torch

from dualproc_engine import protocol
from dualproc_engine.errors import UserError
from dualproc_engine.teach import bench_full
from dualproc_engine.teach.bench import run_bench
from dualproc_engine.teach.bench_configs import FULL, TINY_OVERRIDES, configs


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_tiny_runs_the_full_code_and_reports_both_loops_in_each_setting(monkeypatch):
    built = []
    for name in ("build_generator", "build_judge"):
        original = getattr(bench_full, name)

        def spy(cfg, device, dtype, original=original, name=name):
            built.append((name, cfg["run"]["resolution_px"], dtype))
            return original(cfg, device, dtype)

        monkeypatch.setattr(bench_full, name, spy)
    result = run_bench("tiny", steps=1)
    assert protocol.validation_error("event", protocol.result("b", "bench_teach", result)) is None
    assert [b[0] for b in built] == ["build_generator", "build_judge"]
    assert {b[2] for b in built} == {torch.float32}  # the CPU's dtype; bf16 on CUDA
    assert result["scale"] == "tiny" and result["device"] == "cpu" and result["resolution_px"] == 32
    assert "FLUX.1-schnell" in result["generator"] and "Qwen2.5-VL-7B" in result["judge"]
    settings = [(s["questions"], s["pictures"], s["ours"]["checkpointing"]) for s in result["settings"]]
    assert settings == [(1, 1, True), (4, 2, True), (4, 2, False)]  # then 4 with our loop not checkpointing
    for s in result["settings"]:
        assert not s["reference"]["checkpointing"]
        assert s["ours"]["steps_per_s"] > 0 and s["reference"]["steps_per_s"] > 0 and s["speedup"] > 0
        assert s["ours"]["peak_memory_mb"] is None  # measured on CUDA only


def test_the_tiny_generator_and_judge_are_the_adapters_a_real_run_uses():
    from dualproc_engine.generators.flux import FluxGenerator
    from dualproc_engine.judges.qwen2_vl import Qwen2VLJudge

    cfg = configs("tiny")
    gen = bench_full.build_generator(cfg, torch.device("cpu"), torch.float32)
    judge = bench_full.build_judge(cfg, torch.device("cpu"), torch.float32)
    assert isinstance(gen, FluxGenerator) and isinstance(judge, Qwen2VLJudge)
    assert not gen.has_guidance and gen.sigmas(1).tolist() == [1.0, 0.0]  # schnell: one unshifted step
    gen.add_lora(lora_rank=4, lora_alpha=4)
    images = gen.sample(gen.encode_prompt(["a house at sunset"]), gen.make_noise(1, 0), 1, grad_steps=[0])
    assert images.shape == (1, 3, 32, 32)
    logprob = judge.logprob(images, ["Is it night?"], ["No"])
    assert logprob.shape == (1, 1) and logprob.requires_grad  # the judge's answer reaches the LoRA


def test_tiny_changes_sizes_only():
    tiny = configs("tiny")
    for name, config in FULL.items():
        assert set(tiny[name]) == set(config), name  # no key added or dropped
        changed = {k for k in config if tiny[name][k] != config[k]}
        assert changed <= set(TINY_OVERRIDES.get(name, {})), name


def test_the_full_configs_have_the_published_sizes():
    """Built on the meta device (no memory): FLUX.1-schnell's 11.9B transformer, T5-XXL's 4.76B encoder,
    CLIP-L's 123M text tower, Qwen2.5-VL-7B's 8.29B parameters."""
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        T5Config,
        T5EncoderModel,
    )

    cfg = configs("full")
    builders = {
        "transformer": lambda: FluxTransformer2DModel(**cfg["transformer"]),
        "vae": lambda: AutoencoderKL(**cfg["vae"]),
        "clip": lambda: CLIPTextModel(CLIPTextConfig(**cfg["clip"])),
        "t5": lambda: T5EncoderModel(T5Config(**cfg["t5"])),
        "judge": lambda: Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**cfg["judge"])),
    }
    billions = {}
    with torch.device("meta"):
        for name, build in builders.items():
            billions[name] = round(sum(p.numel() for p in build().parameters()) / 1e9, 3)
    assert billions == {"transformer": 11.891, "vae": 0.084, "clip": 0.123, "t5": 4.762, "judge": 8.292}


def test_full_is_refused_without_cuda_in_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="needs a CUDA GPU") as e:
        run_bench("full", steps=1)
    assert "\n" not in str(e.value) and "--scale tiny" in str(e.value)


def test_the_embedded_scale_keeps_its_timing_as_the_one_setting(monkeypatch):
    from dualproc_engine.teach import bench

    timing = {"steps_per_s": 2.0, "peak_memory_mb": None, "checkpointing": False}
    measured = {
        "questions": 4,
        "pictures": 2,
        "steps": 3,
        "ours": timing,
        "reference": timing,
        "speedup": 1.0,
    }
    monkeypatch.setattr(bench, "bench", lambda steps: measured | {"steps": steps})
    result = run_bench("embedded", steps=3)
    assert result["scale"] == "embedded" and result["steps"] == 3
    assert result["settings"] == [{k: v for k, v in measured.items() if k != "steps"}]
    assert protocol.validation_error("event", protocol.result("b", "bench_teach", result)) is None

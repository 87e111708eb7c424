"""The embedded generator behind the contract: offline loading, seeds, the gradient window, LoRA."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from dualproc_engine.generators.base import grad_window
from dualproc_engine.generators.embedded import EmbeddedGenerator, load_pipeline
from dualproc_engine.local_models import embedded_weights_dir

PROMPTS = ["a lake at dusk, with a high horizon", "line art of a star in thick lines"]


def _images(gen: EmbeddedGenerator, seed: int = 0, steps: int = 2) -> torch.Tensor:
    return gen.sample(gen.encode_prompt(PROMPTS), gen.make_noise(len(PROMPTS), seed), steps)


def test_saves_and_loads_offline(tiny_generator, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tiny_generator.pipeline.save_pretrained(tmp_path / "pipe")
    index = json.loads((tmp_path / "pipe" / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    assert index["text_encoder"] == ["transformers", "CLIPTextModel"]
    assert index["scheduler"] == ["diffusers", "FlowMatchEulerDiscreteScheduler"]
    loaded = EmbeddedGenerator.from_pretrained(tmp_path / "pipe")
    assert torch.equal(_images(loaded), _images(tiny_generator))


def test_images_are_in_range_and_seeded(tiny_generator):
    a, b, c = _images(tiny_generator, 3), _images(tiny_generator, 3), _images(tiny_generator, 4)
    assert a.shape == (2, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_no_grad_steps_means_no_graph(tiny_generator):
    tiny_generator.add_lora(lora_rank=4)
    assert not _images(tiny_generator).requires_grad


def test_last_grad_step_equals_plain_sampling(tiny_generator):
    emb, noise = tiny_generator.encode_prompt(PROMPTS), tiny_generator.make_noise(2, 0)
    plain = tiny_generator.sample(emb, noise, 4)
    windowed = tiny_generator.sample(emb, noise, 4, grad_steps=[3])
    assert torch.allclose(plain, windowed.detach(), atol=1e-6)


def test_grad_window_is_validated():
    assert grad_window([2, 1], 4) == [1, 2]
    with pytest.raises(ValueError, match="consecutive"):
        grad_window([0, 2], 4)
    with pytest.raises(ValueError, match="lie in"):
        grad_window([4], 4)


@pytest.mark.parametrize("grad_steps", [[0], [1], [0, 1]])
def test_gradients_reach_every_lora_layer_and_only_the_lora(tiny_generator, grad_steps):
    gen = tiny_generator
    gen.add_lora(lora_rank=4)
    with torch.no_grad():  # make lora_B nonzero so that lora_A's gradient is not zero by construction
        for p in gen.lora_parameters():
            p.normal_(std=0.02)
    images = gen.sample(gen.encode_prompt(PROMPTS), gen.make_noise(2, 0), 2, grad_steps=grad_steps)
    images.square().mean().backward()
    layers = gen.lora_layer_names()
    kinds = {name.rsplit(".", 1)[-1] if "to_out" not in name else "to_out.0" for name in layers}
    assert {"to_q", "to_k", "to_v", "to_out.0", "2"} <= kinds | {n.rsplit(".", 2)[-2] for n in layers}
    for name, p in gen.unet.named_parameters():
        if "lora_" in name:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name
    assert all(p.grad is None for p in gen.text_encoder.parameters())


def test_lora_targets_attention_and_mlp_linears(tiny_generator):
    tiny_generator.add_lora(lora_rank=4)
    layers = tiny_generator.lora_layer_names()
    for suffix in ("attn1.to_q", "attn2.to_k", "attn2.to_v", "attn1.to_out.0", "ff.net.0.proj", "ff.net.2"):
        assert any(name.endswith(suffix) for name in layers), suffix


def test_lora_scale_zero_is_the_base_model(tiny_generator):
    base = _images(tiny_generator)
    tiny_generator.add_lora(lora_rank=4)
    with torch.no_grad():
        for p in tiny_generator.lora_parameters():
            p.normal_(std=0.5)
    assert not torch.allclose(_images(tiny_generator), base)
    tiny_generator.set_lora_scale(0.0)
    assert torch.allclose(_images(tiny_generator), base, atol=1e-6)


def test_lora_save_load_round_trip(tiny_generator, tmp_path, vocabulary):
    tiny_generator.pipeline.save_pretrained(tmp_path / "base")
    tiny_generator.add_lora(lora_rank=4)
    with torch.no_grad():
        for p in tiny_generator.lora_parameters():
            p.normal_(std=0.2)
    tiny_generator.set_lora_scale(5.0)
    expected = _images(tiny_generator)
    file = tiny_generator.save_lora(tmp_path / "lora")
    keys = list(load_file(file))
    assert keys and all(k.startswith(("down_blocks.", "mid_block.", "up_blocks.")) for k in keys)
    assert any(".lora_A." in k for k in keys) and any(".lora_B." in k for k in keys)

    other = EmbeddedGenerator.from_pretrained(tmp_path / "base")
    other.load_lora(tmp_path / "lora")
    other.set_lora_scale(5.0)
    assert torch.allclose(_images(other), expected, atol=1e-6)


def test_gradient_checkpointing_matches(tiny_generator):
    gen = tiny_generator
    gen.add_lora(lora_rank=4)
    emb, noise = gen.encode_prompt(PROMPTS), gen.make_noise(2, 0)
    grads = []
    for enabled in (False, True):
        gen.unet.train()  # diffusers checkpoints only in training mode
        with gen.gradient_checkpointing(enabled):
            gen.sample(emb, noise, 2, grad_steps=[1]).mean().backward()
        grads.append([p.grad.clone() for p in gen.lora_parameters()])
        gen.unet.zero_grad()
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.skipif(
    not (embedded_weights_dir("scenes-generator") / "model_index.json").is_file(),
    reason="shipped weights not present",
)
def test_shipped_weights_load_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe = load_pipeline(embedded_weights_dir("scenes-generator"))
    images = pipe(["on a sunny day, a meadow"] * 2, num_inference_steps=1, seed=0)
    assert images.shape == (2, 3, 64, 64)
    assert images.std() > 0.05  # a picture, not a flat field

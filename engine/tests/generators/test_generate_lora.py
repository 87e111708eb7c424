"""generate with a trained LoRA: fused into the weights, it draws what the unfused adapter draws."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from dualproc_engine.errors import UserError
from dualproc_engine.generators.generate import LORA_FILE, fuse_lora, generate_images


def _trained_lora(gen, folder, base_model: str | None):
    """A LoRA with non-zero B (a fresh one is a no-op) saved as the teach loop saves it."""
    gen.add_lora(lora_rank=4, lora_alpha=4)
    with torch.no_grad():
        for p in gen.lora_parameters():
            p.normal_(0, 0.2)
    path = gen.save_lora(folder)
    if base_model is not None:
        save_file(load_file(str(path)), str(path), metadata={"dualproc.base_model": base_model})
    return path


def test_a_fused_lora_draws_what_the_adapter_draws(tiny_generator, tmp_path):
    from dualproc_engine.generators.embedded import EmbeddedGenerator

    tiny_generator.pipeline.save_pretrained(tmp_path / "pipe")  # a second, untouched copy for fusing
    base = generate_images(tiny_generator, ["a lake at dusk"] * 2, seed=3)
    path = _trained_lora(tiny_generator, tmp_path / "run", base_model=None)
    tiny_generator.set_lora_scale(0.7)
    with_adapter = generate_images(tiny_generator, ["a lake at dusk"] * 2, seed=3)

    fresh = EmbeddedGenerator.from_pretrained(tmp_path / "pipe")
    fuse_lora(fresh, str(tmp_path / "run"), 0.7, "scenes-generator")
    fused = generate_images(fresh, ["a lake at dusk"] * 2, seed=3)

    assert path.name == LORA_FILE
    assert (with_adapter - base).abs().max() > 1e-3  # the LoRA matters
    torch.testing.assert_close(fused, with_adapter, atol=1e-4, rtol=0)
    assert not any("lora_" in name for name, _ in fresh.unet.named_parameters())  # nothing left to pay for


def test_a_lora_for_another_base_model_or_no_lora_is_one_line(tiny_generator, tmp_path):
    _trained_lora(tiny_generator, tmp_path, base_model="flux-schnell")
    with pytest.raises(UserError, match="trained on generator 'flux-schnell', not 'scenes-generator'"):
        fuse_lora(tiny_generator, str(tmp_path), 1.0, "scenes-generator")
    with pytest.raises(UserError, match="no LoRA file there"):
        fuse_lora(tiny_generator, str(tmp_path / "nothing"), 1.0, "scenes-generator")
    (tmp_path / "junk.safetensors").write_text("not a tensor file")
    with pytest.raises(UserError, match="not a safetensors LoRA file"):
        fuse_lora(tiny_generator, str(tmp_path / "junk.safetensors"), 1.0, "scenes-generator")

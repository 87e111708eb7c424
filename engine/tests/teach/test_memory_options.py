"""Memory options: the judge's device, VAE slicing and tiling, text encoders offloaded once prompts are
encoded. On a CPU-only machine the judge cannot really sit on another device; what is checked here is the
validation, that the options are applied to what the family has, and that a run with them trains the same."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import recipe
from safetensors.torch import load_file

from dualproc_engine.errors import UserError
from dualproc_engine.reporting import LogRecorder
from dualproc_engine.teach import memory
from dualproc_engine.teach.loop import teach


def test_judge_device_is_checked_in_one_line():
    cpu = torch.device("cpu")
    assert memory.judge_device(None, cpu) == cpu
    assert memory.judge_device("cpu", torch.device("cuda")) == cpu
    with pytest.raises(UserError, match=r"^training.judge_device: 'banana' is not a device"):
        memory.judge_device("banana", cpu)
    if torch.cuda.device_count() < 8:
        with pytest.raises(UserError, match=r"^training.judge_device: cuda:7 does not exist here"):
            memory.judge_device("cuda:7", cpu)


def test_vae_slicing_and_tiling_are_switched_on_where_there_is_a_vae(tiny_generator):
    from diffusers import AutoencoderKL

    class WithVae:
        vae = AutoencoderKL(block_out_channels=(8,), norm_num_groups=8, latent_channels=4)

    gen = WithVae()
    assert memory.enable_vae_tiling(gen)
    assert gen.vae.use_slicing and gen.vae.use_tiling
    assert not memory.enable_vae_tiling(tiny_generator)  # the embedded generator decodes without a VAE


def test_text_encoders_are_found_under_every_family_name_and_moved_once():
    class Family:
        def __init__(self) -> None:
            shared = torch.nn.Linear(2, 2)
            self.text_encoder = shared
            self.text_encoders = (shared, torch.nn.Linear(2, 2))  # SD3 keeps a tuple beside the first
            self.text_encoder_3 = None  # a folder without T5
            self.transformer = torch.nn.Linear(2, 2)

    family = Family()
    assert len(memory.text_encoders(family)) == 2
    assert memory.offload_text_encoders(family) == 2
    assert all(p.device.type == "cpu" for m in memory.text_encoders(family) for p in m.parameters())


def test_a_run_with_every_option_trains_as_one_without(make_generator, tiny_judge, tmp_path):
    plain = recipe(max_train_steps=2)
    saving = recipe(max_train_steps=2, judge_device="cpu", vae_tiling=True, offload_text_encoders=True)
    teach(plain, tmp_path / "plain", generator=make_generator(), judge=tiny_judge)
    logs = LogRecorder()
    teach(saving, tmp_path / "saving", generator=make_generator(), judge=tiny_judge, reporter=logs)
    a = load_file(str(tmp_path / "plain" / "pytorch_lora_weights.safetensors"))
    b = load_file(str(tmp_path / "saving" / "pytorch_lora_weights.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    said = [m for _, m in logs.lines]
    assert any("has no VAE to slice or tile; ignored" in m for m in said)
    assert "training.offload_text_encoders: 1 text encoder(s) moved to the CPU" in said
    rows = [json.loads(x) for x in (tmp_path / "saving" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2


def test_memory_options_may_change_on_resume(make_generator, tiny_judge, tmp_path):
    teach(
        recipe(max_train_steps=1, checkpointing_steps=1),
        tmp_path,
        generator=make_generator(),
        judge=tiny_judge,
    )
    resumed = recipe(max_train_steps=2, checkpointing_steps=1, offload_text_encoders=True, vae_tiling=True)
    out = teach(resumed, tmp_path, resume=True, generator=make_generator(), judge=tiny_judge)
    assert out["steps"] == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vae_tiling", "yes", "training.vae_tiling: expected true or false"),
        ("offload_text_encoders", 1, "training.offload_text_encoders: expected true or false"),
        ("judge_device", 3, "training.judge_device: expected a device name or null"),
        ("gradient_checkpointing", "yes", "training.gradient_checkpointing: expected true, false or a list"),
        (
            "gradient_checkpointing",
            ["vae"],
            r"a list of the parts to checkpoint \(generator, decoder, judge\)",
        ),
        ("gradient_checkpointing", [], "training.gradient_checkpointing: expected"),
        ("gradient_checkpointing", ["judge", "judge"], "training.gradient_checkpointing: expected"),
    ],
)
def test_bad_values_are_one_line(make_generator, tiny_judge, tmp_path, field, value, message):
    with pytest.raises(UserError, match=message):
        teach(recipe(**{field: value}), tmp_path, generator=make_generator(), judge=tiny_judge)


def test_judge_quantization_says_what_it_needs(make_generator, tiny_judge, tmp_path):
    from dualproc_engine.judges.load import load_judge
    from dualproc_engine.judges.loading import check_quantization, quantization_config

    assert quantization_config("none") is None
    eight, four = quantization_config("8bit"), quantization_config("4bit")
    assert eight.load_in_8bit and not eight.load_in_4bit
    assert four.load_in_4bit and four.bnb_4bit_quant_type == "nf4"
    assert four.bnb_4bit_compute_dtype == torch.bfloat16
    assert "visual" in four.llm_int8_skip_modules and "vision_tower" in four.llm_int8_skip_modules
    check_quantization("none", "cpu")
    with pytest.raises(
        UserError, match=r"^training.judge_quantization: 8bit needs the judge on a CUDA device"
    ):
        check_quantization("8bit", "cpu")
    with pytest.raises(UserError, match=r"^training.judge_quantization: 4bit is for the real families"):
        load_judge("scenes-judge", "cpu", quantization="4bit")
    with pytest.raises(UserError, match=r"^training.judge_quantization: expected none, 8bit or 4bit"):
        teach(recipe(judge_quantization="2bit"), tmp_path, generator=make_generator(), judge=tiny_judge)


def test_the_cuda_device_leaves_cudnn_attention_out() -> None:
    # the switch itself (a CPU machine never picks CUDA): cuDNN's attention failed teach steps on an H200
    from dualproc_engine.teach.adapters import avoid_cudnn_attention

    before = torch.backends.cuda.cudnn_sdp_enabled()
    try:
        torch.backends.cuda.enable_cudnn_sdp(True)
        avoid_cudnn_attention()
        assert not torch.backends.cuda.cudnn_sdp_enabled()
        assert torch.backends.cuda.flash_sdp_enabled() and torch.backends.cuda.mem_efficient_sdp_enabled()
    finally:
        torch.backends.cuda.enable_cudnn_sdp(before)

"""The SD-Turbo adapter on a tiny Stable Diffusion pipeline built from configs (local tokenizer, no download):
offline loading, seeded noise, agreement with stock diffusers, gradients into the LoRA, a teach step, and a
saved LoRA that stock `StableDiffusionPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
import shutil
import string
from pathlib import Path
from typing import Any

import pytest
import torch

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.generators.sd_turbo import LORA_TARGET_MODULES, SDTurboGenerator, load_sd_pipeline
from dualproc_engine.reporting import Reporter
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

PROMPT = "a red house in a desert"
WORDS = ("a", "red", "house", "in", "desert", "at", "night", "sunset")
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'."""
X0_AGREEMENT = 1e-5
"""Max difference of clean latents relative to their largest magnitude; measured here: at most 1.7e-6 (a few
float32 round-offs: the flow path recombines x0 as x_f - s (eps - x0))."""


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def _tokenizer(max_length: int) -> Any:
    """A CLIP BPE tokenizer over letters plus a few whole words (merges spelled out letter by letter)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    merges = []
    for w in WORDS:
        pieces = list(w[:-1]) + [w[-1] + "</w>"]
        while len(pieces) > 1:
            merges.append((pieces[0], pieces[1]))
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            vocab.setdefault(pieces[0], len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=list(dict.fromkeys(merges)), model_max_length=max_length)


def build_tiny_sd(prediction_type: str = "epsilon") -> Any:
    """SD 2.x's layout at toy sizes: 8x8x4 latents, 16 px images, a one-layer CLIP text encoder."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = _tokenizer(max_length=12)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=(2, 4),
        use_linear_projection=True,  # as SD 2.x
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(32, 32),
        latent_channels=4,
        sample_size=16,
        scaling_factor=0.18215,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=4,
            max_position_embeddings=12,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    # SD-Turbo's scheduler config (scaled_linear betas, trailing spacing)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        prediction_type=prediction_type,
        steps_offset=1,
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("sd-turbo-tiny")
    build_tiny_sd().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def _loaded(sd_folder: Path) -> Any:
    return load_sd_pipeline(sd_folder)


@pytest.fixture
def make_sd(_loaded):
    """Fresh generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: SDTurboGenerator(copy.deepcopy(_loaded))


def _stock(pipe: Any, gen: SDTurboGenerator, seed: int, steps: int) -> torch.Tensor:
    """Stock diffusers on the same noise: it multiplies `latents` by init_noise_sigma itself, so it gets the
    unit-variance draw that `make_noise` scaled to the schedule's first level."""
    eps = gen.make_noise(1, seed) / gen.start_level
    with torch.no_grad():
        return pipe(
            PROMPT, num_inference_steps=steps, guidance_scale=0.0, latents=eps, output_type="pt"
        ).images


def _sample(gen: SDTurboGenerator, seed: int, steps: int) -> torch.Tensor:
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, seed), steps)


# --- loading --------------------------------------------------------------------------------------------
def test_loads_offline_from_a_folder_and_from_the_preset_in_the_cache(sd_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gen = adapters.load_generator(str(sd_folder), torch.device("cpu"))
    assert isinstance(gen, SDTurboGenerator) and gen.prediction_type == "epsilon"

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelMissingError, match="huggingface-cli download stabilityai/sd-turbo"):
        adapters.load_generator("sd-turbo", torch.device("cpu"))
    snapshot = tmp_path / "models--stabilityai--sd-turbo" / "snapshots" / "0123abc"
    shutil.copytree(sd_folder, snapshot)
    assert isinstance(adapters.load_generator("sd-turbo", torch.device("cpu")), SDTurboGenerator)
    assert isinstance(adapters.load_generator("stabilityai/sd-turbo", torch.device("cpu")), SDTurboGenerator)


def test_generate_files_draws_with_a_tiny_sd_folder(sd_folder, tmp_path, monkeypatch):
    """`dualproc generate`'s entry routes an SD folder to this adapter, as teach does, and writes its PNGs."""
    from PIL import Image

    from dualproc_engine.generators.generate import generate_files
    from dualproc_engine.generators.load import load_generator

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert isinstance(load_generator(str(sd_folder)), SDTurboGenerator)
    result = generate_files(PROMPT, n=2, seed=0, out_dir=str(tmp_path / "out"), generator=str(sd_folder))
    assert result["count"] == 2
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["000000.png", "000001.png", "grid.png"]
    with Image.open(tmp_path / "out" / "000000.png") as image:
        assert image.size == (16, 16)


def test_same_seed_same_image(make_sd):
    gen = make_sd()
    a, b, c = _sample(gen, 3, 1), _sample(gen, 3, 1), _sample(gen, 4, 1)
    assert a.shape == (1, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


# --- agreement with stock diffusers ---------------------------------------------------------------------
def test_schedule_is_the_stock_trailing_one_in_flow_units(make_sd):
    from diffusers import EulerDiscreteScheduler

    gen = make_sd()
    stock = EulerDiscreteScheduler.from_config(gen.scheduler.config)
    for n in (1, 2, 4):
        stock.set_timesteps(n)
        k_sigma = stock.sigmas.to(torch.float64)
        torch.testing.assert_close(gen.sigmas(n).double(), k_sigma / (1 + k_sigma), rtol=1e-6, atol=1e-7)
    stock.set_timesteps(1)
    assert stock.timesteps.tolist() == [999.0]  # SD-Turbo's one step


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_x0_from_velocity_equals_the_stock_schedulers_pred_original_sample(make_sd, prediction_type):
    from diffusers import EulerDiscreteScheduler

    gen = make_sd()
    gen.prediction_type = prediction_type
    stock = EulerDiscreteScheduler.from_config(gen.scheduler.config, prediction_type=prediction_type)
    stock.set_timesteps(4)
    embeds = gen.encode_prompt([PROMPT])
    x_flow = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    s = gen.sigmas(4)
    for i, t in enumerate(stock.timesteps):
        k_sigma = stock.sigmas[i]
        x_k = x_flow * (1 + k_sigma)  # the same latent in Euler units
        with torch.no_grad():
            out = gen.unet(stock.scale_model_input(x_k, t), t, encoder_hidden_states=embeds).sample
            expected = stock.step(out, t, x_k).pred_original_sample
            x0 = x_flow - s[i] * gen.velocity(x_flow, s[i], embeds)
        assert _relative(x0, expected) < X0_AGREEMENT


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_sampling_equals_the_stock_pipeline(_loaded, steps, prediction_type):
    from diffusers import EulerDiscreteScheduler

    pipe = copy.deepcopy(_loaded)
    pipe.scheduler = EulerDiscreteScheduler.from_config(
        pipe.scheduler.config, prediction_type=prediction_type
    )
    gen = SDTurboGenerator(copy.deepcopy(pipe))
    assert gen.prediction_type == prediction_type
    ours, stock = _sample(gen, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


# --- training -------------------------------------------------------------------------------------------
def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(make_sd):
    gen = make_sd()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    with torch.no_grad():  # nonzero lora_B, so that lora_A's gradient is not zero by construction
        g = torch.Generator().manual_seed(1)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in gen.unet.named_parameters() if ".lora_" in n}
    assert {t for t in LORA_TARGET_MODULES if any(n.endswith("." + t) for n in wrapped)} == set(
        LORA_TARGET_MODULES
    )
    image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[1])
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
    (image * weights).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
    for module in (gen.unet, gen.vae, gen.text_encoder):
        assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)


def _lora_grads(gen: SDTurboGenerator, checkpointing: bool) -> list[torch.Tensor]:
    for p in gen.lora_parameters():
        p.grad = None
    with gen.gradient_checkpointing(checkpointing):
        image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[0, 1])
    image.square().mean().backward()
    return [p.grad.clone() for p in gen.lora_parameters()]


def test_gradient_checkpointing_gives_the_same_gradients(make_sd, monkeypatch):
    calls = [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    gen = make_sd()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    with torch.no_grad():
        g = torch.Generator().manual_seed(3)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    off, on = _lora_grads(gen, False), _lora_grads(gen, True)
    for a, b in zip(off, on, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert calls[0] > 0  # the UNet's blocks did run checkpointed
    assert not gen.unet.is_gradient_checkpointing  # switched off again afterwards


class BrightnessJudge:
    """A judge-contract stand-in: 'Yes' is log sigmoid(k (mean brightness - target))."""

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        z = 20.0 * (images.mean(dim=(1, 2, 3)) - 0.8)
        cols = [torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers]
        return torch.stack(cols, dim=1)


def _recipe() -> dict[str, Any]:
    return {
        "name": "sd-turbo-test",
        "generator": "tiny-sd",
        "judge": "brightness",
        "prompts": [PROMPT],
        "questions": [{"question": "Is the picture bright?", "answer": "Yes", "weight": 1.0}],
        "eval": {"prompts": ["a house at night"], "seeds": [0], "lora_scales": [0, 1.0]},
        "training": {
            "max_train_steps": 1,
            "learning_rate": 1e-3,
            "lora_rank": 4,
            "lora_alpha": 4,
            "lora_scale": 1.0,
            "noise_pool_size": 2,
            "num_inference_steps": 1,
            "resolution_px": 16,
            "checkpointing_steps": 100,
        },
    }


def _base_state(gen: SDTurboGenerator) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in (("unet", gen.unet), ("vae", gen.vae), ("text", gen.text_encoder))
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


class Logs(Reporter):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []

    def on_log(self, level: str, message: str) -> None:
        self.lines.append((level, message))


@pytest.fixture(scope="module")
def taught(_loaded, tmp_path_factory: pytest.TempPathFactory) -> tuple[SDTurboGenerator, Path, dict, Logs]:
    """One teach step on a fresh generator: (the generator, the run folder, its base weights before, logs)."""
    torch.set_num_threads(1)
    gen = SDTurboGenerator(copy.deepcopy(_loaded))
    before = _base_state(gen)
    out = tmp_path_factory.mktemp("teach")
    logs = Logs()
    teach(_recipe(), out, generator=gen, judge=BrightnessJudge(), reporter=logs)
    return gen, out, before, logs


def test_a_teach_step_changes_the_lora_and_leaves_base_weights_untouched(taught):
    gen, _, before, logs = taught
    assert [m for level, m in logs.lines if level == "warning"] == []
    lora_b = [p for n, p in gen.unet.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # peft's gaussian init starts B at zero
    after = _base_state(gen)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(taught, _loaded, make_sd):
    from safetensors.torch import load_file

    _, out, _, _ = taught
    keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
    assert keys and all(k.startswith("unet.") for k in keys)

    pipe = copy.deepcopy(_loaded)
    gen = make_sd()
    base = _stock(pipe, gen, 7, 1)
    pipe.load_lora_weights(str(out))
    with_lora = _stock(pipe, gen, 7, 1)
    assert (with_lora - base).abs().max() > 1e-6

    gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
    gen.set_lora_scale(1.0)
    assert (_sample(gen, 7, 1) - with_lora).abs().max() < AGREEMENT

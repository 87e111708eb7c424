"""The SDXL-Turbo adapter on a tiny Stable Diffusion XL pipeline built from configs (two CLIP encoders, the
second with a projection, local tokenizers, a `text_time` UNet, no download): offline loading, seeded noise,
agreement with stock diffusers, gradients into the LoRA, a teach step, and a saved LoRA that stock
`StableDiffusionXLPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from test_sd_turbo import BrightnessJudge, Logs
from test_sd_turbo import _tokenizer as clip_tokenizer

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.generators.base import PooledPromptEmbeds
from dualproc_engine.generators.sdxl import LORA_TARGET_MODULES, SDXLTurboGenerator, load_sdxl_pipeline
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

PROMPT = "a red house in a desert"
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: at most 6e-7 at 1, 2 and 4 steps (float32 round-off of the VP <-> flow rescaling)."""


def _text_encoders(vocab_size: int) -> tuple[Any, Any]:
    """CLIP-L's and bigG's roles at toy widths (32 and 48): the second has the projection SDXL pools."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def config(width: int) -> Any:
        return CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=width,
            intermediate_size=37,
            num_hidden_layers=2,  # the pipeline reads the penultimate hidden states
            num_attention_heads=4,
            max_position_embeddings=12,
            projection_dim=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )

    torch.manual_seed(1)
    first = CLIPTextModel(config(32))
    torch.manual_seed(2)
    return first, CLIPTextModelWithProjection(config(48))


def build_tiny_sdxl() -> Any:
    """SDXL-Turbo's layout at toy sizes: 8x8x4 latents, 16 px images, token width 32 + 48, pooled width 16,
    SDXL's size conditioning (6 ids of 8 features each), and SDXL-Turbo's scheduler (ancestral Euler,
    trailing spacing)."""
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),  # SDXL's first level has no attention
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2),
        cross_attention_dim=80,
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 16,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(32, 32),
        latent_channels=4,
        sample_size=16,
        scaling_factor=0.13025,  # SDXL's
    )
    tokenizer = clip_tokenizer(max_length=12)
    text_encoder, text_encoder_2 = _text_encoders(len(tokenizer))
    scheduler = EulerAncestralDiscreteScheduler(  # SDXL-Turbo's scheduler config
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        prediction_type="epsilon",
        steps_offset=1,
    )
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=clip_tokenizer(max_length=12),
        unet=unet,
        scheduler=scheduler,
        add_watermarker=False,
    )


@pytest.fixture(scope="module")
def sdxl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("sdxl-turbo-tiny")
    build_tiny_sdxl().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def _loaded(sdxl_folder: Path) -> Any:
    return load_sdxl_pipeline(sdxl_folder)


@pytest.fixture
def make_sdxl(_loaded):
    """Fresh generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: SDXLTurboGenerator(copy.deepcopy(_loaded))


def _euler(pipe: Any) -> Any:
    """`pipe` with deterministic Euler over the same trailing levels (the contract's sampler)."""
    from diffusers import EulerDiscreteScheduler

    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    return pipe


def _stock(pipe: Any, gen: SDXLTurboGenerator, seed: int, steps: int) -> torch.Tensor:
    """Stock diffusers on the same noise: it multiplies `latents` by init_noise_sigma itself, so it gets the
    unit-variance draw that `make_noise` scaled to the schedule's first level."""
    eps = gen.make_noise(1, seed) / gen.start_level
    with torch.no_grad():
        return pipe(
            PROMPT, num_inference_steps=steps, guidance_scale=0.0, latents=eps, output_type="pt"
        ).images


def _sample(gen: SDXLTurboGenerator, seed: int, steps: int) -> torch.Tensor:
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, seed), steps)


# --- loading --------------------------------------------------------------------------------------------
def test_loads_offline_from_a_folder_and_from_the_preset_in_the_cache(sdxl_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gen = adapters.load_generator(str(sdxl_folder), torch.device("cpu"))
    assert isinstance(gen, SDXLTurboGenerator) and gen.prediction_type == "epsilon"

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelMissingError, match="huggingface-cli download stabilityai/sdxl-turbo"):
        adapters.load_generator("sdxl-turbo", torch.device("cpu"))
    snapshot = tmp_path / "models--stabilityai--sdxl-turbo" / "snapshots" / "0123abc"
    shutil.copytree(sdxl_folder, snapshot)
    assert isinstance(adapters.load_generator("sdxl-turbo", torch.device("cpu")), SDXLTurboGenerator)
    assert isinstance(
        adapters.load_generator("stabilityai/sdxl-turbo", torch.device("cpu")), SDXLTurboGenerator
    )


def test_same_seed_same_image(make_sdxl):
    gen = make_sdxl()
    a, b, c = _sample(gen, 3, 1), _sample(gen, 3, 1), _sample(gen, 4, 1)
    assert a.shape == (1, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


# --- agreement with stock diffusers ---------------------------------------------------------------------
def test_prompt_embeddings_and_time_ids_are_the_stock_pipelines(_loaded, make_sdxl):
    gen = make_sdxl()
    embeds = gen.encode_prompt([PROMPT, "a house at night"])
    tokens, _, pooled, _ = _loaded.encode_prompt(
        [PROMPT, "a house at night"], device="cpu", do_classifier_free_guidance=False
    )
    assert isinstance(embeds, PooledPromptEmbeds)
    assert embeds.tokens.shape == (2, 12, 80) and embeds.pooled.shape == (2, 16)
    assert torch.equal(embeds.tokens, tokens) and torch.equal(embeds.pooled, pooled)
    stock_ids = _loaded._get_add_time_ids(
        (16, 16), (0, 0), (16, 16), torch.float32, text_encoder_projection_dim=16
    )
    assert stock_ids.tolist() == [gen.time_ids] == [[16, 16, 0, 0, 16, 16]]


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_sampling_equals_the_stock_pipeline_with_euler(_loaded, steps):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = SDXLTurboGenerator(copy.deepcopy(pipe))
    ours, stock = _sample(gen, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_one_step_equals_sdxl_turbos_own_ancestral_scheduler(_loaded, make_sdxl):
    """At one step the folder's ancestral sampler adds no noise (the next level is 0): the same image."""
    gen = make_sdxl()
    stock = _stock(copy.deepcopy(_loaded), gen, 6, 1)
    assert (_sample(gen, 6, 1) - stock).abs().max() < AGREEMENT


def test_latents_mean_and_std_are_undone_as_the_stock_pipeline_does(_loaded):
    """A VAE whose config has per-channel latents_mean / latents_std (an SDXL-architecture variant) decodes
    as the stock pipeline decodes it."""
    pipe = _euler(copy.deepcopy(_loaded))
    pipe.vae.register_to_config(latents_mean=[0.1, -0.2, 0.3, 0.0], latents_std=[0.9, 1.1, 1.0, 0.8])
    gen = SDXLTurboGenerator(copy.deepcopy(pipe))
    assert (_sample(gen, 5, 2) - _stock(pipe, gen, 5, 2)).abs().max() < AGREEMENT


def test_a_unet_whose_added_embedding_does_not_fit_is_refused(_loaded):
    pipe = copy.deepcopy(_loaded)
    pipe.unet.register_to_config(addition_time_embed_dim=4)
    with pytest.raises(ValueError, match="added embedding takes 64 features"):
        SDXLTurboGenerator(pipe)


# --- training -------------------------------------------------------------------------------------------
def _randomise_lora(gen: SDXLTurboGenerator, seed: int) -> None:
    """Nonzero lora_B, so that lora_A's gradient is not zero by construction."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(make_sdxl):
    gen = make_sdxl()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 1)
    wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in gen.unet.named_parameters() if ".lora_" in n}
    assert {t for t in LORA_TARGET_MODULES if any(n.endswith("." + t) for n in wrapped)} == set(
        LORA_TARGET_MODULES
    )
    image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[1])
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
    (image * weights).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
    for module in (gen.unet, gen.vae, *gen.text_encoders):
        assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)


def _lora_grads(gen: SDXLTurboGenerator, checkpointing: bool) -> list[torch.Tensor]:
    for p in gen.lora_parameters():
        p.grad = None
    with gen.gradient_checkpointing(checkpointing):
        image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[0, 1])
    image.square().mean().backward()
    return [p.grad.clone() for p in gen.lora_parameters()]


def test_gradient_checkpointing_gives_the_same_gradients(make_sdxl, monkeypatch):
    calls = [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    gen = make_sdxl()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 3)
    off, on = _lora_grads(gen, False), _lora_grads(gen, True)
    for a, b in zip(off, on, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert calls[0] > 0  # the UNet's blocks did run checkpointed
    assert not gen.unet.is_gradient_checkpointing  # switched off again afterwards


def _recipe() -> dict[str, Any]:
    return {
        "name": "sdxl-turbo-test",
        "generator": "tiny-sdxl",
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


def _base_state(gen: SDXLTurboGenerator) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    modules = {"unet": gen.unet, "vae": gen.vae, "text": gen.text_encoders[0], "text2": gen.text_encoders[1]}
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in modules.items()
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


@pytest.fixture(scope="module")
def taught(_loaded, tmp_path_factory: pytest.TempPathFactory) -> tuple[SDXLTurboGenerator, Path, dict, Logs]:
    """One teach step on a fresh generator: (the generator, the run folder, its base weights before, logs)."""
    torch.set_num_threads(1)
    gen = SDXLTurboGenerator(copy.deepcopy(_loaded))
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


def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(taught, _loaded, make_sdxl):
    from safetensors.torch import load_file

    _, out, _, _ = taught
    keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
    assert keys and all(k.startswith("unet.") for k in keys)

    pipe = copy.deepcopy(_loaded)
    gen = make_sdxl()
    base = _stock(pipe, gen, 7, 1)
    pipe.load_lora_weights(str(out))
    with_lora = _stock(pipe, gen, 7, 1)
    assert (with_lora - base).abs().max() > 1e-6

    gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
    gen.set_lora_scale(1.0)
    assert (_sample(gen, 7, 1) - with_lora).abs().max() < AGREEMENT

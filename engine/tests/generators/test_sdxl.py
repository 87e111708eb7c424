"""The SDXL-Turbo adapter on a tiny Stable Diffusion XL pipeline built from configs (two CLIP encoders, the
second with a projection, local tokenizers, a `text_time` UNet, no download): offline loading, seeded noise,
agreement with stock diffusers, gradients into the LoRA, a teach step, and a saved LoRA that stock
`StableDiffusionXLPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
import torch

from dualproc_engine.generators.base import PooledPromptEmbeds
from dualproc_engine.generators.sdxl import LORA_TARGET_MODULES, SDXLTurboGenerator, load_sdxl_pipeline

from .family_contract import GeneratorFamilyContract, Preset, family_fixtures
from .tiny import clip_text_model, clip_tokenizer, sample, teach_recipe, tiny_vae

PROMPT = "a red house in a desert"
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: at most 6e-7 at 1, 2 and 4 steps (float32 round-off of the VP <-> flow rescaling)."""


def _text_encoders(vocab_size: int) -> tuple[Any, Any]:
    """CLIP-L's and bigG's roles at toy widths (32 and 48): the second has the projection SDXL pools (two
    layers each: the pipeline reads the penultimate hidden states)."""
    first = clip_text_model(vocab_size, width=32, layers=2, seed=1, projection_dim=16)
    return first, clip_text_model(vocab_size, width=48, layers=2, projection=True, seed=2, projection_dim=16)


def build_tiny_sdxl() -> Any:
    """SDXL-Turbo's layout at toy sizes: 8x8x4 latents, 16 px images, token width 32 + 48, pooled width 16,
    SDXL's size conditioning (6 ids of 8 features each), and SDXL-Turbo's scheduler (ancestral Euler,
    trailing spacing)."""
    from diffusers import (
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
    vae = tiny_vae(latent_channels=4, scaling_factor=0.13025)  # SDXL's
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


folders, pipelines = family_fixtures({"sdxl-turbo": build_tiny_sdxl}, load_sdxl_pipeline)


@pytest.fixture(scope="module")
def _loaded(pipelines: dict[str, Any]) -> Any:
    return pipelines["sdxl-turbo"]


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
    ours, stock = sample(gen, PROMPT, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_one_step_equals_sdxl_turbos_own_ancestral_scheduler(_loaded, make_sdxl):
    """At one step the folder's ancestral sampler adds no noise (the next level is 0): the same image."""
    gen = make_sdxl()
    stock = _stock(copy.deepcopy(_loaded), gen, 6, 1)
    assert (sample(gen, PROMPT, 6, 1) - stock).abs().max() < AGREEMENT


def test_latents_mean_and_std_are_undone_as_the_stock_pipeline_does(_loaded):
    """A VAE whose config has per-channel latents_mean / latents_std (an SDXL-architecture variant) decodes
    as the stock pipeline decodes it."""
    pipe = _euler(copy.deepcopy(_loaded))
    pipe.vae.register_to_config(latents_mean=[0.1, -0.2, 0.3, 0.0], latents_std=[0.9, 1.1, 1.0, 0.8])
    gen = SDXLTurboGenerator(copy.deepcopy(pipe))
    assert (sample(gen, PROMPT, 5, 2) - _stock(pipe, gen, 5, 2)).abs().max() < AGREEMENT


def test_a_unet_whose_added_embedding_does_not_fit_is_refused(_loaded):
    pipe = copy.deepcopy(_loaded)
    pipe.unet.register_to_config(addition_time_embed_dim=4)
    with pytest.raises(ValueError, match="added embedding takes 64 features"):
        SDXLTurboGenerator(pipe)


# --- the family contract ------------------------------------------------------------------------------
class TestSDXLTurboFamily(GeneratorFamilyContract):
    prompt = PROMPT
    side_px = 16
    agreement = AGREEMENT
    generator_classes: ClassVar[dict[str, type]] = {"sdxl-turbo": SDXLTurboGenerator}
    presets = (Preset("sdxl-turbo", "stabilityai/sdxl-turbo", "sdxl-turbo"),)
    denoiser = "unet"
    lora_prefix = "unet"
    lora_target_modules = LORA_TARGET_MODULES
    recipe = teach_recipe("sdxl-turbo-test", "tiny-sdxl", [PROMPT], "a house at night", steps=1, side_px=16)
    lora_steps = 1

    stock = staticmethod(_stock)

    def base_modules(self, gen: Any) -> dict[str, Any]:
        return {"unet": gen.unet, "vae": gen.vae, "text": gen.text_encoders[0], "text2": gen.text_encoders[1]}

    def check_loaded(self, gen: Any, variant: str) -> None:
        assert gen.prediction_type == "epsilon"

"""The SD-Turbo adapter on a tiny Stable Diffusion pipeline built from configs (local tokenizer, no download):
offline loading, seeded noise, agreement with stock diffusers, gradients into the LoRA, a teach step, and a
saved LoRA that stock `StableDiffusionPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
import torch

from dualproc_engine.generators.sd_turbo import LORA_TARGET_MODULES, SDTurboGenerator, load_sd_pipeline

from .family_contract import GenerateFilesContract, GeneratorFamilyContract, Preset, family_fixtures
from .tiny import clip_text_model, clip_tokenizer, sample, teach_recipe, tiny_vae

PROMPT = "a red house in a desert"
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'."""
X0_AGREEMENT = 1e-5
"""Max difference of clean latents relative to their largest magnitude; measured here: at most 1.7e-6 (a few
float32 round-offs: the flow path recombines x0 as x_f - s (eps - x0))."""


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def build_tiny_sd(prediction_type: str = "epsilon") -> Any:
    """SD 2.x's layout at toy sizes: 8x8x4 latents, 16 px images, a one-layer CLIP text encoder."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer = clip_tokenizer(max_length=12)
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
    vae = tiny_vae(latent_channels=4, scaling_factor=0.18215)
    text_encoder = clip_text_model(len(tokenizer), width=32, layers=1)
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


folders, pipelines = family_fixtures({"sd-turbo": build_tiny_sd}, load_sd_pipeline)


@pytest.fixture
def make_sd(pipelines):
    """Fresh generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: SDTurboGenerator(copy.deepcopy(pipelines["sd-turbo"]))


def _stock(pipe: Any, gen: SDTurboGenerator, seed: int, steps: int) -> torch.Tensor:
    """Stock diffusers on the same noise: it multiplies `latents` by init_noise_sigma itself, so it gets the
    unit-variance draw that `make_noise` scaled to the schedule's first level."""
    eps = gen.make_noise(1, seed) / gen.start_level
    with torch.no_grad():
        return pipe(
            PROMPT, num_inference_steps=steps, guidance_scale=0.0, latents=eps, output_type="pt"
        ).images


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
def test_sampling_equals_the_stock_pipeline(pipelines, steps, prediction_type):
    from diffusers import EulerDiscreteScheduler

    pipe = copy.deepcopy(pipelines["sd-turbo"])
    pipe.scheduler = EulerDiscreteScheduler.from_config(
        pipe.scheduler.config, prediction_type=prediction_type
    )
    gen = SDTurboGenerator(copy.deepcopy(pipe))
    assert gen.prediction_type == prediction_type
    ours, stock = sample(gen, PROMPT, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


# --- the family contract ------------------------------------------------------------------------------
class TestSDTurboFamily(GeneratorFamilyContract, GenerateFilesContract):
    prompt = PROMPT
    side_px = 16
    agreement = AGREEMENT
    generator_classes: ClassVar[dict[str, type]] = {"sd-turbo": SDTurboGenerator}
    presets = (Preset("sd-turbo", "stabilityai/sd-turbo", "sd-turbo"),)
    denoiser = "unet"
    lora_prefix = "unet"
    lora_target_modules = LORA_TARGET_MODULES
    recipe = teach_recipe("sd-turbo-test", "tiny-sd", [PROMPT], "a house at night", steps=1, side_px=16)
    lora_steps = 1

    stock = staticmethod(_stock)

    def base_modules(self, gen: Any) -> dict[str, Any]:
        return {"unet": gen.unet, "vae": gen.vae, "text": gen.text_encoder}

    def check_loaded(self, gen: Any, variant: str) -> None:
        assert gen.prediction_type == "epsilon"

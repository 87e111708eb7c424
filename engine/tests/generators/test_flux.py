"""The FLUX.1 adapter on tiny FLUX pipelines built from configs (schnell: no guidance embedding, no shift;
dev: the guidance embedding and the resolution-dependent shift), with a CLIP text model and a one-layer T5,
local tokenizers, no download: offline loading, seeded noise, agreement with stock diffusers, gradients into
the LoRA, a teach step, and a saved LoRA that stock `FluxPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
import torch

from dualproc_engine.generators.flux import (
    LORA_TARGET_MODULES,
    FluxGenerator,
    flux_shift,
    latent_image_ids,
    load_flux_pipeline,
    pack_latents,
    unpack_latents,
)

from .family_contract import GenerateFilesContract, GeneratorFamilyContract, Preset, family_fixtures
from .tiny import clip_text_model, clip_tokenizer, sample, t5, teach_recipe, tiny_vae

PROMPT = "a red house in a desert"
SIDE_PX = 16
"""Images of the tiny pipelines: a VAE with a factor of 2, so 8 x 8 latents, 4 x 4 = 16 packed tokens."""
T5_TOKENS = 16
"""T5 tokens per prompt in the tests (the adapter's default is 256 for schnell, 512 for dev)."""
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: 0 (bit-identical) for schnell and dev at 1, 2 and 4 steps: the same float32 operations in the
same order (packing is a permutation, so stepping packed or unpacked latents is the same arithmetic)."""
GUIDANCE = 2.5
"""dev's distilled guidance in the tests: not the default 3.5, so a value that is not passed through shows."""


def build_tiny_flux(dev: bool = False) -> Any:
    """FLUX.1's layout at toy sizes: a double- and a single-stream block, 16 latent channels packed to 64,
    the released VAE's scaling and shift factors; `dev`: guidance embedding and dynamic shifting (dev's
    scheduler config), else schnell's (shift 1, none)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=48,  # the T5 width
        pooled_projection_dim=32,  # the CLIP width
        guidance_embeds=dev,
        axes_dims_rope=(4, 6, 6),  # sums to the head width, as (16, 56, 56) does to 128
    )
    vae = tiny_vae(  # FLUX.1's factors
        latent_channels=16,
        scaling_factor=0.3611,
        shift_factor=0.1159,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    # the released scheduler configs (FLUX.1-schnell / FLUX.1-dev scheduler/scheduler_config.json)
    shifting = {"shift": 3.0, "use_dynamic_shifting": True} if dev else {"shift": 1.0}
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000,
        base_image_seq_len=256,
        max_image_seq_len=4096,
        base_shift=0.5,
        max_shift=1.15,
        **shifting,
    )
    tokenizer = clip_tokenizer(max_length=12)
    text_encoder_2, tokenizer_2 = t5(48)
    return FluxPipeline(
        transformer=transformer,
        scheduler=scheduler,
        vae=vae,
        text_encoder=clip_text_model(len(tokenizer), width=32, layers=1, seed=1),
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
    )


folders, pipelines = family_fixtures(
    {"schnell": build_tiny_flux, "dev": lambda: build_tiny_flux(dev=True)}, load_flux_pipeline
)


def _generator(pipe: Any) -> FluxGenerator:
    return FluxGenerator(
        copy.deepcopy(pipe), resolution_px=SIDE_PX, guidance_scale=GUIDANCE, max_sequence_length=T5_TOKENS
    )


@pytest.fixture
def make_flux(pipelines):
    """Fresh schnell generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: _generator(pipelines["schnell"])


def _stock(pipe: Any, gen: FluxGenerator, seed: int, steps: int) -> torch.Tensor:
    """Stock diffusers on the same noise (packed, as `FluxPipeline` takes given latents)."""
    with torch.no_grad():
        return pipe(
            PROMPT,
            num_inference_steps=steps,
            guidance_scale=GUIDANCE,
            latents=pack_latents(gen.make_noise(1, seed)),
            height=SIDE_PX,
            width=SIDE_PX,
            max_sequence_length=T5_TOKENS,
            output_type="pt",
        ).images


# --- layouts --------------------------------------------------------------------------------------------
def test_the_embeddings_and_noise_layout(make_flux):
    gen = make_flux()
    embeds = gen.encode_prompt([PROMPT, "a house at night"])
    assert embeds.tokens.shape == (2, T5_TOKENS, 48) and embeds.pooled.shape == (2, 32)
    assert gen.make_noise(2, 0).shape == (2, 16, 8, 8)  # plain latents: packing happens inside velocity
    with pytest.raises(ValueError, match="multiples of 4"):
        FluxGenerator(gen.pipeline, resolution_px=18)


def test_packing_round_trips_as_the_stock_pipeline_packs():
    from diffusers import FluxPipeline

    x = torch.randn(2, 16, 8, 6)
    packed = pack_latents(x)
    assert torch.equal(packed, FluxPipeline._pack_latents(x, 2, 16, 8, 6))
    assert torch.equal(unpack_latents(packed, 8, 6), x)
    ids = FluxPipeline._prepare_latent_image_ids(2, 4, 3, "cpu", torch.float32)
    assert torch.equal(latent_image_ids(8, 6, torch.device("cpu"), torch.float32), ids)


# --- agreement with stock diffusers ---------------------------------------------------------------------
def test_schedules_schnell_unshifted_dev_shifted_by_resolution(pipelines):
    schnell, dev = _generator(pipelines["schnell"]), _generator(pipelines["dev"])
    assert schnell.sigmas(1).tolist() == [1.0, 0.0]
    torch.testing.assert_close(schnell.sigmas(4), torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0]))
    mu = flux_shift(16, dev.scheduler.config)
    assert mu == pytest.approx(0.5 + (1.15 - 0.5) / (4096 - 256) * (16 - 256))
    # diffusers' exponential time shift of linspace(1, 1/n, n): e^mu / (e^mu + (1/t - 1))
    t = torch.tensor([1.0, 0.75, 0.5, 0.25], dtype=torch.float64)
    e_mu = torch.exp(torch.tensor(mu, dtype=torch.float64))
    expected = torch.cat([e_mu / (e_mu + (1 / t - 1)), torch.zeros(1, dtype=torch.float64)])
    torch.testing.assert_close(dev.sigmas(4).double(), expected, rtol=1e-6, atol=1e-6)
    assert dev.sigmas(4)[1] > 0.75  # shifted towards noise


@pytest.mark.parametrize("variant", ["schnell", "dev"])
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_sampling_equals_the_stock_pipeline(pipelines, variant, steps):
    pipe = copy.deepcopy(pipelines[variant])
    gen = _generator(pipe)
    ours, stock = sample(gen, PROMPT, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_dev_guidance_reaches_the_transformer(pipelines):
    gen = _generator(pipelines["dev"])
    other = _generator(pipelines["dev"])
    other.guidance_scale = 5.0
    assert (sample(gen, PROMPT, 5, 1) - sample(other, PROMPT, 5, 1)).abs().max() > 1e-6


# --- the family contract ------------------------------------------------------------------------------
class TestFluxFamily(GeneratorFamilyContract, GenerateFilesContract):
    """schnell is the plain variant (same seed, checkpointing, `generate`); dev's guidance embedding is in
    the gradient, teach and saved-LoRA checks."""

    prompt = PROMPT
    side_px = SIDE_PX
    agreement = AGREEMENT
    generator_classes: ClassVar[dict[str, type]] = {"schnell": FluxGenerator, "dev": FluxGenerator}
    presets = (
        Preset("flux-schnell", "black-forest-labs/FLUX.1-schnell", "schnell"),
        Preset("flux-dev", "black-forest-labs/FLUX.1-dev", "dev"),
    )
    denoiser = "transformer"
    lora_prefix = "transformer"
    lora_target_modules = LORA_TARGET_MODULES
    gradient_variants = ("dev",)
    teach_variant = "dev"
    recipe = teach_recipe(
        "flux-test",
        "tiny-flux",
        [PROMPT, "a house at night"],
        "a house at sunset",
        steps=2,
        side_px=SIDE_PX,
        train_batch_size=2,
        preserve_weight=0.5,  # the regulariser indexes its own pooled embeddings too
    )
    preserve_prompts: ClassVar[list[str] | None] = ["a house in a desert at night"]
    lora_steps = 2
    checks_fused_lora = True

    def new_generator(self, pipe: Any, variant: str) -> Any:
        return _generator(pipe)

    stock = staticmethod(_stock)

    def base_modules(self, gen: Any) -> dict[str, Any]:
        return {
            "transformer": gen.transformer,
            "vae": gen.vae,
            "clip": gen.text_encoder,
            "t5": gen.text_encoder_2,
        }

    def check_loaded(self, gen: Any, variant: str) -> None:
        assert gen.has_guidance == (variant == "dev")
        assert gen.max_sequence_length == (512 if variant == "dev" else 256)  # BFL's defaults

    def check_wrapped_layers(self, wrapped: set[str]) -> None:
        assert any(n.startswith("single_transformer_blocks.") for n in wrapped)  # the single-stream q, k, v

    def check_lora_keys(self, keys: list[str]) -> None:
        assert any(".attn.add_q_proj.lora_A" in k for k in keys)  # the text stream's projections too

    def patch_for_generate(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from dualproc_engine.generators import flux

        monkeypatch.setattr(flux, "RESOLUTION_PX", SIDE_PX)  # the default side (512 would take minutes here)

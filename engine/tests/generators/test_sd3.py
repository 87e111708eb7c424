"""The SD3 adapter on a tiny SD3 pipeline built from configs (two CLIP encoders with projections, without T5
and with a one-layer T5, local tokenizers, no download): offline loading, seeded noise, agreement with stock
diffusers, gradients into the LoRA, a teach step, and a saved LoRA that stock
`StableDiffusion3Pipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
import torch

from dualproc_engine.generators.base import PooledPromptEmbeds, cat_prompt_embeds
from dualproc_engine.generators.sd3 import LORA_TARGET_MODULES, SD3Generator, load_sd3_pipeline

from .family_contract import GenerateFilesContract, GeneratorFamilyContract, Preset, family_fixtures
from .tiny import clip_text_model, clip_tokenizer, randomise_lora, sample, t5, teach_recipe, tiny_vae

PROMPT = "a red house in a desert"
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: 0 (bit-identical) at 1, 2 and 4 steps, with and without T5, and so with guidance 4.5 (one
batched pass over [uncond; cond], as stock): the same float32 operations in the same order."""
GUIDANCE = 4.5
"""A classifier-free guidance scale in SD3's range (3.5 to 7)."""


def _clip(vocab_size: int, seed: int) -> Any:
    """CLIP-L's or bigG's role: two layers (the pipeline reads the penultimate hidden states), projected."""
    return clip_text_model(vocab_size, width=32, layers=2, projection=True, seed=seed, projection_dim=32)


def build_tiny_sd3(with_t5: bool = False) -> Any:
    """SD3.5's layout at toy sizes: 8x8x16 latents, 16 px images, CLIP widths 32 + 32, joint width 96, T5 or
    none."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )

    torch.manual_seed(0)
    transformer = SD3Transformer2DModel(
        sample_size=8,
        patch_size=2,
        in_channels=16,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=4,
        joint_attention_dim=96,  # wider than the CLIP tokens (64): the zero padding up to T5's width is used
        caption_projection_dim=32,
        pooled_projection_dim=64,
        out_channels=16,
        pos_embed_max_size=8,
        dual_attention_layers=(0,),  # SD3.5's second attention in a block (LoRA targets there too)
        qk_norm="rms_norm",  # SD3.5's
    )
    vae = tiny_vae(  # SD3's factors
        latent_channels=16,
        scaling_factor=1.5305,
        shift_factor=0.0609,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    tokenizer = clip_tokenizer(max_length=12)
    text_encoder_3, tokenizer_3 = t5(96) if with_t5 else (None, None)
    return StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0),  # SD3's config
        vae=vae,
        text_encoder=_clip(len(tokenizer), seed=1),
        tokenizer=tokenizer,
        text_encoder_2=_clip(len(tokenizer), seed=2),
        tokenizer_2=clip_tokenizer(max_length=12),
        text_encoder_3=text_encoder_3,
        tokenizer_3=tokenizer_3,
    )


folders, pipelines = family_fixtures({"sd3": build_tiny_sd3}, load_sd3_pipeline)


@pytest.fixture
def make_sd3(pipelines):
    """Fresh generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: SD3Generator(copy.deepcopy(pipelines["sd3"]))


def _stock(pipe: Any, gen: SD3Generator, seed: int, steps: int, guidance_scale: float = 1.0) -> torch.Tensor:
    """Stock diffusers on the same noise; classifier-free guidance at guidance_scale > 1 with the pipeline's
    default negative prompt (None, which it encodes as "" for all three encoders)."""
    with torch.no_grad():
        return pipe(
            PROMPT,
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            latents=gen.make_noise(1, seed),
            height=16,
            width=16,
            output_type="pt",
        ).images


# --- the prompt-embedding container -------------------------------------------------------------------------
def test_pooled_prompt_embeds_batch_like_a_tensor():
    tokens, pooled = torch.arange(24.0).reshape(3, 2, 4), torch.arange(6.0).reshape(3, 2)
    e = PooledPromptEmbeds(tokens, pooled)
    assert e.shape[0] == len(e) == 3
    picked = e[[2, 0, 2]]
    assert torch.equal(picked.tokens, tokens[[2, 0, 2]]) and torch.equal(picked.pooled, pooled[[2, 0, 2]])
    assert torch.equal(e[1:].pooled, pooled[1:])
    twice = e.repeat_interleave(2, dim=0)
    assert torch.equal(twice.tokens, tokens.repeat_interleave(2, dim=0)) and len(twice) == 6
    both = cat_prompt_embeds([e, e[:1]])
    assert isinstance(both, PooledPromptEmbeds)
    assert torch.equal(both.pooled, torch.cat([pooled, pooled[:1]]))
    assert torch.equal(cat_prompt_embeds([tokens, tokens]), torch.cat([tokens, tokens]))
    assert e.to(torch.float64).pooled.dtype == torch.float64
    with pytest.raises(ValueError, match="batch"):
        PooledPromptEmbeds(tokens, pooled[:2])


# --- without T5 -----------------------------------------------------------------------------------------
def test_the_embeddings_layout_without_t5(make_sd3):
    gen = make_sd3()
    embeds = gen.encode_prompt([PROMPT, "a house at night"])
    assert embeds.tokens.shape == (2, 12 + 256, 96) and embeds.pooled.shape == (2, 64)
    assert torch.equal(embeds.tokens[:, 12:], torch.zeros(2, 256, 96))  # no T5: its tokens are zeros
    assert torch.equal(embeds.tokens[:, :12, 64:], torch.zeros(2, 12, 32))  # CLIP padded to the T5 width


# --- agreement with stock diffusers ---------------------------------------------------------------------
def test_schedule_is_the_shifted_flow_schedule(make_sd3):
    gen = make_sd3()
    assert gen.sigmas(1).tolist() == [1.0, 0.0]
    shift = 3.0
    for n in (2, 4):
        # n levels evenly spaced in unshifted time from 1 to the shifted training minimum, then shifted
        t_min = shift * 1e-3 / (1 + (shift - 1) * 1e-3)
        t = torch.linspace(1.0, t_min, n, dtype=torch.float64)
        expected = torch.cat([shift * t / (1 + (shift - 1) * t), torch.zeros(1, dtype=torch.float64)])
        torch.testing.assert_close(gen.sigmas(n).double(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dynamic_shifting", [False, True])
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_sampling_equals_the_stock_pipeline(pipelines, steps, dynamic_shifting):
    from diffusers import FlowMatchEulerDiscreteScheduler

    pipe = copy.deepcopy(pipelines["sd3"])
    if dynamic_shifting:  # a resolution-dependent shift (mu from the image's token count), as FLUX uses
        config = pipe.scheduler.config
        pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(config, use_dynamic_shifting=True)
    gen = SD3Generator(copy.deepcopy(pipe))
    ours, stock = sample(gen, PROMPT, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_with_t5_sampling_equals_the_stock_pipeline(tmp_path):
    folder = tmp_path / "sd3-t5"
    build_tiny_sd3(with_t5=True).save_pretrained(str(folder))
    pipe = load_sd3_pipeline(folder)
    gen = SD3Generator(copy.deepcopy(pipe))
    assert gen.text_encoder_3 is not None
    assert gen.encode_prompt([PROMPT]).tokens[:, 12:].abs().sum() > 0  # T5's tokens, not zeros
    for steps in (1, 2, 4):
        assert (sample(gen, PROMPT, 5, steps) - _stock(pipe, gen, 5, steps)).abs().max() < AGREEMENT
    gen.guidance_scale = GUIDANCE  # the empty prompt's T5 tokens are not zeros here
    for steps in (1, 2):
        stock = _stock(pipe, gen, 5, steps, guidance_scale=GUIDANCE)
        assert (sample(gen, PROMPT, 5, steps) - stock).abs().max() < AGREEMENT


# --- classifier-free guidance ---------------------------------------------------------------------------
def _transformer_batches(gen: SD3Generator) -> list[int]:
    """The batch size of every transformer call `gen` makes from now on."""
    batches: list[int] = []
    gen.transformer.register_forward_hook(
        lambda _m, args, kwargs, _out: batches.append(len(kwargs["hidden_states"])), with_kwargs=True
    )
    return batches


@pytest.mark.parametrize("steps", [1, 2])
def test_guided_sampling_equals_the_stock_pipeline(pipelines, steps):
    pipe = copy.deepcopy(pipelines["sd3"])
    gen = SD3Generator(copy.deepcopy(pipe), guidance_scale=GUIDANCE)
    batches = _transformer_batches(gen)
    ours, stock = sample(gen, PROMPT, 5, steps), _stock(pipe, gen, 5, steps, guidance_scale=GUIDANCE)
    assert (ours - stock).abs().max() < AGREEMENT
    assert batches == [2] * steps  # one pass a step over [uncond; cond]
    assert (ours - sample(SD3Generator(copy.deepcopy(pipe)), PROMPT, 5, steps)).abs().max() > 1e-3


def test_guidance_one_is_the_unguided_sampler(make_sd3):
    plain, one = make_sd3(), make_sd3()
    one.guidance_scale = 1.0
    batches = _transformer_batches(one)
    assert plain.guidance_scale == 1.0  # the default
    assert torch.equal(sample(plain, PROMPT, 5, 2), sample(one, PROMPT, 5, 2))
    assert batches == [1, 1] and one._unconditional is None  # no second pass, "" never encoded


def test_guided_gradients_reach_every_lora_parameter_through_both_halves(make_sd3):
    """d/dtheta of v_uncond + g (v_cond - v_uncond) is (1 - g) dv_uncond + g dv_cond: the unconditional half
    is differentiated too, not a constant."""
    gen = make_sd3()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    randomise_lora(gen, 1)
    gen.guidance_scale = GUIDANCE
    embeds, noise = gen.encode_prompt([PROMPT, "a house at night"]), gen.make_noise(2, 0)
    image = gen.sample(embeds, noise, 2, grad_steps=[1])
    image.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())

    x, sigma = gen.make_noise(2, 1), gen.sigmas(2)[1]
    weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(2))

    def grads(e: PooledPromptEmbeds) -> list[torch.Tensor]:
        params = gen.lora_parameters()
        return list(torch.autograd.grad((gen.velocity(x, sigma, e) * weights).sum(), params))

    guided = grads(embeds)
    gen.guidance_scale = 1.0
    cond, uncond = grads(embeds), grads(gen.unconditional_embeds(2))
    for g, c, u in zip(guided, cond, uncond, strict=True):
        expected = (1 - GUIDANCE) * u + GUIDANCE * c  # separate passes: round-off apart from the batched one
        assert float((g - expected).abs().max() / expected.abs().max()) < 1e-4


# --- the family contract ------------------------------------------------------------------------------
class TestSD3Family(GeneratorFamilyContract, GenerateFilesContract):
    prompt = PROMPT
    side_px = 16
    agreement = AGREEMENT
    generator_classes: ClassVar[dict[str, type]] = {"sd3": SD3Generator}
    presets = (Preset("sd3.5-medium", "stabilityai/stable-diffusion-3.5-medium", "sd3"),)
    denoiser = "transformer"
    lora_prefix = "transformer"
    lora_target_modules = LORA_TARGET_MODULES
    recipe = teach_recipe(
        "sd3-test",
        "tiny-sd3",
        [PROMPT, "a house at night"],
        "a house at sunset",
        steps=2,
        side_px=16,
        train_batch_size=2,
        preserve_weight=0.5,  # the regulariser indexes its own pooled embeddings too
    )
    preserve_prompts: ClassVar[list[str] | None] = ["a house in a desert at night"]
    lora_steps = 2
    checks_fused_lora = True

    stock = staticmethod(_stock)

    def base_modules(self, gen: Any) -> dict[str, Any]:
        texts = {f"text{i}": encoder for i, encoder in enumerate(gen.text_encoders)}
        return {"transformer": gen.transformer, "vae": gen.vae, **texts}

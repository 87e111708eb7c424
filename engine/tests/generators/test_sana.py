"""The Sana adapter on tiny Sana and Sana-Sprint pipelines built from configs (a two-block linear-attention
transformer, a three-level DC-AE with 32 latent channels, a two-layer Gemma 2 and a Gemma-style BPE tokenizer
trained here, no download): offline loading, seeded noise, agreement with stock diffusers, gradients into the
LoRA, a teach step, and a saved LoRA that stock `SanaPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
import torch

from dualproc_engine.generators.base import PooledPromptEmbeds
from dualproc_engine.generators.sana import (
    LORA_TARGET_MODULES,
    SanaGenerator,
    SanaSprintGenerator,
    flow_latent_scale,
    load_sana_pipeline,
    trigflow_to_flow,
)

from .family_contract import GeneratorFamilyContract, Preset, family_fixtures
from .tiny import randomise_lora, sample, teach_recipe

PROMPT = "A red house in a desert"
SIDE_PX = 32
"""The tiny pipelines' image side: 8 latent pixels times DC-AE's factor 4 (the stock pipeline wants a
multiple of 32)."""
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: 0 (bit-identical) for Sana at 1, 2 and 4 steps, unguided and with guidance 4.5; at most 4e-7
for Sana-Sprint at one step (its x0 is TrigFlow's cos(t) x - sin(t) F in the stock pipeline, x_f - s v here:
other round-off)."""
GUIDANCE = 4.5
"""A classifier-free guidance scale: `SanaPipeline`'s default, Sana 1600M's recommended one."""
CORPUS = ["a red house in a desert", "a house at night", "a dog at sunset", "a blue car on a road"]
SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>"]


def _tokenizer() -> Any:
    """A BPE like Gemma's (spaces as "▁", <bos> added, <pad> id 0) over a few prompts; other characters are
    <unk> (the pipeline's long default instruction is mostly unknown words here, which is fine)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import GemmaTokenizer

    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.pre_tokenizer = pre_tokenizers.Split(pattern="\u2581", behavior="merged_with_next")
    tok.decoder = decoders.Replace("\u2581", " ")
    alphabet = list("abcdefghijklmnopqrstuvwxyz:-.,'\n\u2581")
    trainer = trainers.BpeTrainer(
        vocab_size=120, special_tokens=SPECIAL_TOKENS, initial_alphabet=alphabet, show_progress=False
    )
    tok.train_from_iterator(CORPUS, trainer)
    return GemmaTokenizer(
        tokenizer_object=tok, add_bos_token=True, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )


def _transformer(sprint: bool) -> Any:
    from diffusers import SanaTransformer2DModel

    torch.manual_seed(0)
    extra: dict[str, Any] = {}
    if sprint:  # Sana-Sprint's: a guidance embedding and RMS q/k norm
        extra = {"guidance_embeds": True, "guidance_embeds_scale": 0.1, "qk_norm": "rms_norm_across_heads"}
    return SanaTransformer2DModel(
        in_channels=32,
        out_channels=32,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_cross_attention_heads=2,
        cross_attention_head_dim=8,
        cross_attention_dim=16,
        caption_channels=32,  # Gemma's width
        sample_size=8,
        patch_size=1,
        **extra,
    )


def _vae() -> Any:
    """DC-AE's layout at toy sizes: 32 latent channels, 4x downsampling, an EfficientViT block last."""
    from diffusers import AutoencoderDC

    torch.manual_seed(1)
    blocks = ("ResBlock", "ResBlock", "EfficientViTBlock")
    return AutoencoderDC(
        in_channels=3,
        latent_channels=32,
        attention_head_dim=8,
        encoder_block_types=blocks,
        decoder_block_types=blocks,
        encoder_block_out_channels=(8, 16, 32),
        decoder_block_out_channels=(8, 16, 32),
        encoder_layers_per_block=(1, 1, 1),
        decoder_layers_per_block=(1, 1, 1),
        encoder_qkv_multiscales=((), (), (5,)),
        decoder_qkv_multiscales=((), (), (5,)),
        scaling_factor=0.41407,  # Sana's DC-AE f32c32
    )


def _text_encoder(vocab_size: int) -> Any:
    from transformers import Gemma2Config, Gemma2Model

    torch.manual_seed(2)
    return Gemma2Model(
        Gemma2Config(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=2048,  # the default instruction makes prompts ~600 tokens long here
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=2,
        )
    )


def build_tiny_sana(sprint: bool = False) -> Any:
    """Sana's layout (or Sana-Sprint's) at toy sizes, with the schedulers the released folders ship:
    DPM-Solver++ with flow sigmas and shift 3 (Sana 1024 px), SCM with TrigFlow (Sprint)."""
    from diffusers import DPMSolverMultistepScheduler, SanaPipeline, SanaSprintPipeline, SCMScheduler

    tokenizer = _tokenizer()
    parts = {
        "tokenizer": tokenizer,
        "text_encoder": _text_encoder(len(tokenizer)),
        "vae": _vae(),
        "transformer": _transformer(sprint),
    }
    if sprint:
        return SanaSprintPipeline(**parts, scheduler=SCMScheduler(sigma_data=0.5, prediction_type="trigflow"))
    scheduler = DPMSolverMultistepScheduler(
        flow_shift=3.0, use_flow_sigmas=True, prediction_type="flow_prediction"
    )
    return SanaPipeline(**parts, scheduler=scheduler)


folders, pipelines = family_fixtures(
    {"sana": build_tiny_sana, "sprint": lambda: build_tiny_sana(sprint=True)}, load_sana_pipeline
)


@pytest.fixture(scope="module")
def _loaded(pipelines: dict[str, Any]) -> Any:
    return pipelines["sana"]


@pytest.fixture(scope="module")
def _sprint(pipelines: dict[str, Any]) -> Any:
    return pipelines["sprint"]


@pytest.fixture
def make_sana(_loaded):
    """Fresh generators with identical weights (deep copies of one loaded pipeline), no instruction (fast)."""
    return lambda: SanaGenerator(copy.deepcopy(_loaded), complex_human_instruction=[])


def _euler(pipe: Any) -> Any:
    """`pipe` with `FlowMatchEulerDiscreteScheduler` at the folder's flow shift: the adapter's sampler."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    pipe.scheduler = FlowMatchEulerDiscreteScheduler(shift=pipe.scheduler.config.flow_shift)
    return pipe


def _stock(pipe: Any, noise: torch.Tensor, steps: int, **kwargs: Any) -> torch.Tensor:
    """Stock diffusers at the tiny size without resolution binning; CFG as `kwargs` set it (guidance_scale > 1
    with the default negative prompt "")."""
    with torch.no_grad():
        return pipe(
            PROMPT,
            num_inference_steps=steps,
            latents=noise,
            output_type="pt",
            height=SIDE_PX,
            width=SIDE_PX,
            use_resolution_binning=False,
            **kwargs,
        ).images


# --- agreement with stock diffusers ---------------------------------------------------------------------
@pytest.mark.parametrize("instruction", ["default", "none"])
def test_prompt_embeddings_and_mask_are_the_stock_pipelines(_loaded, instruction):
    """Lower-casing, the instruction prefix, padding and the token selection, as `encode_prompt` does."""
    gen = SanaGenerator(
        copy.deepcopy(_loaded), complex_human_instruction=None if instruction == "default" else []
    )
    prompts = [PROMPT + "  ", "a house at night"]
    embeds = gen.encode_prompt(prompts)
    tokens, mask, _, _ = _loaded.encode_prompt(
        prompts, do_classifier_free_guidance=False, device="cpu", complex_human_instruction=gen.instruction
    )
    assert isinstance(embeds, PooledPromptEmbeds) and embeds.tokens.shape == (2, 300, 32)
    assert torch.equal(embeds.tokens, tokens) and torch.equal(embeds.pooled, mask.float())
    assert (instruction == "default") == bool(gen.instruction)


def test_schedule_is_euler_at_the_folders_flow_shift(make_sana):
    from diffusers import FlowMatchEulerDiscreteScheduler

    gen = make_sana()
    stock = FlowMatchEulerDiscreteScheduler(shift=3.0)
    for n in (1, 2, 4):
        stock.set_timesteps(n)
        assert torch.equal(gen.sigmas(n), stock.sigmas)
    assert gen.sigmas(1).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_sampling_equals_the_stock_pipeline_with_the_default_instruction(_loaded, steps):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = SanaGenerator(copy.deepcopy(pipe))  # the pipeline's default complex human instruction, as stock
    noise = gen.make_noise(1, 5)
    assert (
        sample(gen, PROMPT, 5, steps) - _stock(pipe, noise, steps, guidance_scale=1.0)
    ).abs().max() < AGREEMENT


def test_sampling_equals_the_stock_pipeline_without_the_instruction(_loaded, make_sana):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = make_sana()
    stock = _stock(pipe, gen.make_noise(1, 6), 2, guidance_scale=1.0, complex_human_instruction=[])
    assert (sample(gen, PROMPT, 6, 2) - stock).abs().max() < AGREEMENT


def test_sprint_one_step_equals_the_stock_sprint_pipeline(_sprint):
    gen = SanaSprintGenerator(copy.deepcopy(_sprint))
    assert gen.guidance_scale == 4.5  # the pipeline's default, read from it
    eps = torch.randn(1, 32, 8, 8, generator=torch.Generator().manual_seed(5))  # make_noise's draw
    stock = _stock(copy.deepcopy(_sprint), eps, 1, intermediate_timesteps=None)
    assert (sample(gen, PROMPT, 5, 1) - stock).abs().max() < AGREEMENT


def test_sprint_clean_estimates_at_every_level_equal_the_stock_consistency_steps(_sprint):
    """Two stock steps (TrigFlow angles 1.5708 then 1.3) re-noise between steps, so whole images differ from
    Euler's; the clean estimate at each level, from the same latent, is the same."""
    pipe = copy.deepcopy(_sprint)
    gen = SanaSprintGenerator(copy.deepcopy(_sprint))
    sigma_data = pipe.scheduler.config.sigma_data
    seen: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    step = pipe.scheduler.step

    def recording(model_output, timestep, sample, **kwargs):
        out = step(model_output, timestep, sample, **kwargs)
        seen.append((timestep.reshape(-1)[0], sample / sigma_data, out[1] / sigma_data))
        return out

    pipe.scheduler.step = recording
    _stock(pipe, torch.randn(1, 32, 8, 8, generator=torch.Generator().manual_seed(2)), 2)
    embeds = gen.encode_prompt([PROMPT])
    levels = gen.sigmas(2)
    assert len(seen) == 2
    for i, (angle, x_trig, stock_x0) in enumerate(seen):
        s = trigflow_to_flow(angle)
        assert torch.equal(s, levels[i])
        x_flow = x_trig * flow_latent_scale(s)
        with torch.no_grad():
            x0 = x_flow - s * gen.velocity(x_flow, s, embeds)
        assert float((x0 - stock_x0).abs().max() / stock_x0.abs().max()) < 1e-5


# --- classifier-free guidance ---------------------------------------------------------------------------
def _transformer_batches(gen: SanaGenerator) -> list[int]:
    """The batch size of every transformer call `gen` makes from now on."""
    batches: list[int] = []
    gen.transformer.register_forward_hook(lambda _m, args, _out: batches.append(len(args[0])))
    return batches


def test_unconditional_embeddings_are_the_stock_negative_prompts(_loaded):
    """The empty prompt without the instruction, all 300 tokens, whatever instruction the prompt has; encoded
    once and repeated along the batch (stock encodes "" once per prompt: Gemma's round-off then differs by
    up to 4e-7 at batch 2)."""
    gen = SanaGenerator(copy.deepcopy(_loaded))  # the default instruction: the negative prompt still has none
    _, _, tokens, mask = _loaded.encode_prompt(
        [PROMPT], device="cpu", complex_human_instruction=gen.instruction
    )
    uncond = gen.unconditional_embeds(1)
    assert uncond.tokens.shape == (1, 300, 32)
    assert torch.equal(uncond.tokens, tokens) and torch.equal(uncond.pooled, mask.float())
    both = gen.unconditional_embeds(2)
    assert torch.equal(both.tokens, tokens.expand(2, -1, -1)) and torch.equal(both.pooled, mask.expand(2, -1))


@pytest.mark.parametrize("steps", [1, 2])
def test_guided_sampling_equals_the_stock_pipeline_with_the_default_instruction(_loaded, steps):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = SanaGenerator(copy.deepcopy(pipe), guidance_scale=GUIDANCE)
    batches = _transformer_batches(gen)
    ours = sample(gen, PROMPT, 5, steps)
    stock = _stock(pipe, gen.make_noise(1, 5), steps, guidance_scale=GUIDANCE, negative_prompt="")
    assert (ours - stock).abs().max() < AGREEMENT
    assert batches == [2] * steps  # one pass a step over [uncond; cond]
    gen.guidance_scale = 1.0
    assert (ours - sample(gen, PROMPT, 5, steps)).abs().max() > 1e-3


def test_guided_sampling_equals_the_stock_pipeline_without_the_instruction(_loaded, make_sana):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = make_sana()
    gen.guidance_scale = GUIDANCE  # as a recipe's training.guidance_scale sets it
    noise = gen.make_noise(1, 6)
    stock = _stock(pipe, noise, 2, guidance_scale=GUIDANCE, complex_human_instruction=[])
    assert (sample(gen, PROMPT, 6, 2) - stock).abs().max() < AGREEMENT


def test_guidance_one_is_the_unguided_sampler(make_sana):
    plain, one = make_sana(), make_sana()
    one.guidance_scale = 1.0
    batches = _transformer_batches(one)
    assert plain.guidance_scale == 1.0  # the default
    assert torch.equal(sample(plain, PROMPT, 5, 2), sample(one, PROMPT, 5, 2))
    assert batches == [1, 1] and one._unconditional is None  # no second pass, "" never encoded


def test_guided_gradients_reach_every_lora_parameter_through_both_halves(make_sana):
    """d/dtheta of v_uncond + g (v_cond - v_uncond) is (1 - g) dv_uncond + g dv_cond: the unconditional half
    is differentiated too, not a constant."""
    gen = make_sana()
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
class TestSanaFamily(GeneratorFamilyContract):
    """Sana is the plain variant; gradients are checked for Sana-Sprint too. Generators are built without the
    complex human instruction (fast)."""

    prompt = PROMPT
    side_px = SIDE_PX
    agreement = AGREEMENT
    generator_classes: ClassVar[dict[str, type]] = {"sana": SanaGenerator, "sprint": SanaSprintGenerator}
    presets = (
        Preset("sana-1600m", "Efficient-Large-Model/Sana_1600M_1024px_diffusers", "sana"),
        Preset("sana-sprint", "Efficient-Large-Model/Sana_Sprint_1.6B_1024px_diffusers", "sprint"),
    )
    denoiser = "transformer"
    lora_prefix = "transformer"
    lora_target_modules = LORA_TARGET_MODULES
    gradient_variants = ("sana", "sprint")
    recipe = teach_recipe("sana-test", "tiny-sana", [PROMPT], "a house at night", steps=1, side_px=SIDE_PX)
    lora_steps = 1

    def new_generator(self, pipe: Any, variant: str) -> Any:
        return self.generator_classes[variant](copy.deepcopy(pipe), complex_human_instruction=[])

    def stock(self, pipe: Any, gen: Any, seed: int, steps: int) -> torch.Tensor:
        noise = gen.make_noise(1, seed)
        return _stock(pipe, noise, steps, guidance_scale=1.0, complex_human_instruction=[])

    def stock_pipeline(self, pipe: Any) -> Any:
        return _euler(copy.deepcopy(pipe))

    def base_modules(self, gen: Any) -> dict[str, Any]:
        return {"transformer": gen.transformer, "vae": gen.vae, "text": gen.text_encoder}

    def check_wrapped_layers(self, wrapped: set[str]) -> None:
        assert any(".attn1." in n for n in wrapped) and any(".attn2." in n for n in wrapped)

"""The SD3 adapter on a tiny SD3 pipeline built from configs (two CLIP encoders with projections, without T5
and with a one-layer T5, local tokenizers, no download): offline loading, seeded noise, agreement with stock
diffusers, gradients into the LoRA, a teach step, and a saved LoRA that stock
`StableDiffusion3Pipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
import shutil
import string
from pathlib import Path
from typing import Any

import pytest
import torch

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.generators.base import PooledPromptEmbeds, cat_prompt_embeds
from dualproc_engine.generators.sd3 import LORA_TARGET_MODULES, SD3Generator, load_sd3_pipeline
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

from .tiny import BrightnessJudge, Logs, clip_tokenizer

PROMPT = "a red house in a desert"
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: 0 (bit-identical) at 1, 2 and 4 steps: the same float32 operations in the same order."""


def _text_encoder(vocab_size: int, seed: int) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    return CLIPTextModelWithProjection(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,  # the pipeline reads the penultimate hidden states
            num_attention_heads=4,
            max_position_embeddings=12,
            projection_dim=32,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )


def _t5(width: int) -> tuple[Any, Any]:
    """A one-layer T5 encoder of `width` and a unigram T5 tokenizer over a few words and the letters."""
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    words = ("a", "red", "house", "in", "desert", "at", "night", "sunset")
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -3.0)]
    pieces += [("\u2581" + w, -1.0) for w in words] + [(c, -5.0) for c in string.ascii_lowercase]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    torch.manual_seed(3)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=width,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_heads=4,
        pad_token_id=0,
        eos_token_id=1,
    )
    return T5EncoderModel(config), tokenizer


def build_tiny_sd3(with_t5: bool = False) -> Any:
    """SD3.5's layout at toy sizes: 8x8x16 latents, 16 px images, CLIP widths 32 + 32, joint width 96, T5 or
    none."""
    from diffusers import (
        AutoencoderKL,
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
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(32, 32),
        latent_channels=16,
        sample_size=16,
        scaling_factor=1.5305,  # SD3's
        shift_factor=0.0609,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    tokenizer = clip_tokenizer(max_length=12)
    text_encoder_3, tokenizer_3 = _t5(96) if with_t5 else (None, None)
    return StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0),  # SD3's config
        vae=vae,
        text_encoder=_text_encoder(len(tokenizer), seed=1),
        tokenizer=tokenizer,
        text_encoder_2=_text_encoder(len(tokenizer), seed=2),
        tokenizer_2=clip_tokenizer(max_length=12),
        text_encoder_3=text_encoder_3,
        tokenizer_3=tokenizer_3,
    )


@pytest.fixture(scope="module")
def sd3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("sd3-tiny")
    build_tiny_sd3().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def _loaded(sd3_folder: Path) -> Any:
    return load_sd3_pipeline(sd3_folder)


@pytest.fixture
def make_sd3(_loaded):
    """Fresh generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: SD3Generator(copy.deepcopy(_loaded))


def _stock(pipe: Any, gen: SD3Generator, seed: int, steps: int) -> torch.Tensor:
    """Stock diffusers on the same noise, without classifier-free guidance (it needs guidance_scale > 1)."""
    with torch.no_grad():
        return pipe(
            PROMPT,
            num_inference_steps=steps,
            guidance_scale=1.0,
            latents=gen.make_noise(1, seed),
            height=16,
            width=16,
            output_type="pt",
        ).images


def _sample(gen: SD3Generator, seed: int, steps: int) -> torch.Tensor:
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, seed), steps)


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


# --- loading --------------------------------------------------------------------------------------------
def test_loads_offline_from_a_folder_and_from_the_preset_in_the_cache(sd3_folder, tmp_path, monkeypatch):
    from dualproc_engine.generators.load import load_generator

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert isinstance(adapters.load_generator(str(sd3_folder), torch.device("cpu")), SD3Generator)
    assert isinstance(load_generator(str(sd3_folder)), SD3Generator)  # `dualproc generate`'s loader

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelMissingError, match="huggingface-cli download stabilityai/stable-diffusion-3.5"):
        adapters.load_generator("sd3.5-medium", torch.device("cpu"))
    snapshot = tmp_path / "models--stabilityai--stable-diffusion-3.5-medium" / "snapshots" / "0123abc"
    shutil.copytree(sd3_folder, snapshot)
    assert isinstance(adapters.load_generator("sd3.5-medium", torch.device("cpu")), SD3Generator)
    repo = "stabilityai/stable-diffusion-3.5-medium"
    assert isinstance(adapters.load_generator(repo, torch.device("cpu")), SD3Generator)


def test_generate_files_draws_with_a_tiny_sd3_folder(sd3_folder, tmp_path, monkeypatch):
    from dualproc_engine.generators.generate import generate_files

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = generate_files(PROMPT, n=2, seed=0, out_dir=str(tmp_path / "out"), generator=str(sd3_folder))
    assert result["count"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000000.png", "000001.png", "grid.png"]


def test_same_seed_same_image_and_the_embeddings_layout(make_sd3):
    gen = make_sd3()
    embeds = gen.encode_prompt([PROMPT, "a house at night"])
    assert embeds.tokens.shape == (2, 12 + 256, 96) and embeds.pooled.shape == (2, 64)
    assert torch.equal(embeds.tokens[:, 12:], torch.zeros(2, 256, 96))  # no T5: its tokens are zeros
    assert torch.equal(embeds.tokens[:, :12, 64:], torch.zeros(2, 12, 32))  # CLIP padded to the T5 width
    a, b, c = _sample(gen, 3, 1), _sample(gen, 3, 1), _sample(gen, 4, 1)
    assert a.shape == (1, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


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
def test_sampling_equals_the_stock_pipeline(_loaded, steps, dynamic_shifting):
    from diffusers import FlowMatchEulerDiscreteScheduler

    pipe = copy.deepcopy(_loaded)
    if dynamic_shifting:  # a resolution-dependent shift (mu from the image's token count), as FLUX uses
        config = pipe.scheduler.config
        pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(config, use_dynamic_shifting=True)
    gen = SD3Generator(copy.deepcopy(pipe))
    ours, stock = _sample(gen, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_with_t5_sampling_equals_the_stock_pipeline(tmp_path):
    folder = tmp_path / "sd3-t5"
    build_tiny_sd3(with_t5=True).save_pretrained(str(folder))
    pipe = load_sd3_pipeline(folder)
    gen = SD3Generator(copy.deepcopy(pipe))
    assert gen.text_encoder_3 is not None
    assert gen.encode_prompt([PROMPT]).tokens[:, 12:].abs().sum() > 0  # T5's tokens, not zeros
    for steps in (1, 2, 4):
        assert (_sample(gen, 5, steps) - _stock(pipe, gen, 5, steps)).abs().max() < AGREEMENT


# --- training -------------------------------------------------------------------------------------------
def _randomise_lora(gen: SD3Generator, seed: int) -> None:
    """Nonzero lora_B, so that lora_A's gradient is not zero by construction (peft starts B at zero)."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(make_sd3):
    gen = make_sd3()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 1)
    wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in gen.transformer.named_parameters() if ".lora_" in n}
    assert {t for t in LORA_TARGET_MODULES if any(n.endswith("." + t) for n in wrapped)} == set(
        LORA_TARGET_MODULES
    )
    image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[1])
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
    (image * weights).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
    for module in (gen.transformer, gen.vae, *gen.text_encoders):
        assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)


def test_gradient_checkpointing_gives_the_same_gradients(make_sd3, monkeypatch):
    calls = [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    gen = make_sd3()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 3)
    grads = []
    for enabled in (False, True):
        for p in gen.lora_parameters():
            p.grad = None
        with gen.gradient_checkpointing(enabled):
            assert gen.transformer.is_gradient_checkpointing == enabled
            image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[0, 1])
        image.square().mean().backward()
        grads.append([p.grad.clone() for p in gen.lora_parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert calls[0] > 0  # the transformer's blocks did run checkpointed
    assert not gen.transformer.is_gradient_checkpointing  # switched off again afterwards


def _recipe() -> dict[str, Any]:
    return {
        "name": "sd3-test",
        "generator": "tiny-sd3",
        "judge": "brightness",
        "prompts": [PROMPT, "a house at night"],
        "questions": [{"question": "Is the picture bright?", "answer": "Yes", "weight": 1.0}],
        "eval": {"prompts": ["a house at sunset"], "seeds": [0], "lora_scales": [0, 1.0]},
        "training": {
            "max_train_steps": 1,
            "learning_rate": 1e-3,
            "lora_rank": 4,
            "lora_alpha": 4,
            "lora_scale": 1.0,
            "noise_pool_size": 2,
            "num_inference_steps": 2,
            "train_batch_size": 2,
            "resolution_px": 16,
            "checkpointing_steps": 100,
            "preserve_weight": 0.5,  # the regulariser indexes its own pooled embeddings too
        },
    }


def _base_state(gen: SD3Generator) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    modules = (("transformer", gen.transformer), ("vae", gen.vae))
    modules += tuple((f"text{i}", e) for i, e in enumerate(gen.text_encoders))
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in modules
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


@pytest.fixture(scope="module")
def taught(_loaded, tmp_path_factory: pytest.TempPathFactory) -> tuple[SD3Generator, Path, dict, Logs]:
    """One teach step on a fresh generator: (the generator, the run folder, its base weights before, logs)."""
    torch.set_num_threads(1)
    gen = SD3Generator(copy.deepcopy(_loaded))
    before = _base_state(gen)
    out = tmp_path_factory.mktemp("teach-sd3")
    logs = Logs()
    teach(
        _recipe(),
        out,
        generator=gen,
        judge=BrightnessJudge(),
        reporter=logs,
        preserve_prompts=["a house in a desert at night"],
    )
    return gen, out, before, logs


def test_a_teach_step_changes_the_lora_and_leaves_base_weights_untouched(taught):
    gen, _, before, logs = taught
    assert [m for level, m in logs.lines if level == "warning"] == []
    lora_b = [p for n, p in gen.transformer.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # peft's gaussian init starts B at zero
    after = _base_state(gen)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(taught, _loaded, make_sd3):
    from safetensors.torch import load_file

    from dualproc_engine.generators.generate import fuse_lora

    _, out, _, _ = taught
    keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
    assert keys and all(k.startswith("transformer.") for k in keys)

    pipe = copy.deepcopy(_loaded)
    gen = make_sd3()
    base = _stock(pipe, gen, 7, 2)
    pipe.load_lora_weights(str(out))
    with_lora = _stock(pipe, gen, 7, 2)
    assert (with_lora - base).abs().max() > 1e-6

    gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
    gen.set_lora_scale(1.0)
    assert (_sample(gen, 7, 2) - with_lora).abs().max() < AGREEMENT

    fused = make_sd3()  # `dualproc generate --lora` fuses it into the transformer
    fuse_lora(fused, str(out), 1.0, "tiny-sd3")
    assert (_sample(fused, 7, 2) - with_lora).abs().max() < AGREEMENT

"""The FLUX.1 adapter on tiny FLUX pipelines built from configs (schnell: no guidance embedding, no shift;
dev: the guidance embedding and the resolution-dependent shift), with a CLIP text model and a one-layer T5,
local tokenizers, no download: offline loading, seeded noise, agreement with stock diffusers, gradients into
the LoRA, a teach step, and a saved LoRA that stock `FluxPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.generators.flux import (
    LORA_TARGET_MODULES,
    FluxGenerator,
    flux_shift,
    latent_image_ids,
    load_flux_pipeline,
    pack_latents,
    unpack_latents,
)
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

from .tiny import BrightnessJudge, Logs, clip_tokenizer
from .tiny import t5 as _t5

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


def _clip(vocab_size: int) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(1)
    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=4,
            max_position_embeddings=12,
            bos_token_id=0,
            eos_token_id=1,  # the pooled output is the end-of-text token's state
            pad_token_id=1,
        )
    )


def build_tiny_flux(dev: bool = False) -> Any:
    """FLUX.1's layout at toy sizes: a double- and a single-stream block, 16 latent channels packed to 64,
    the released VAE's scaling and shift factors; `dev`: guidance embedding and dynamic shifting (dev's
    scheduler config), else schnell's (shift 1, none)."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

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
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(32, 32),
        latent_channels=16,
        sample_size=SIDE_PX,
        scaling_factor=0.3611,  # FLUX.1's
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
    text_encoder_2, tokenizer_2 = _t5(48)
    return FluxPipeline(
        transformer=transformer,
        scheduler=scheduler,
        vae=vae,
        text_encoder=_clip(len(tokenizer)),
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
    )


@pytest.fixture(scope="module")
def flux_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    folders = {}
    for variant in ("schnell", "dev"):
        folders[variant] = tmp_path_factory.mktemp(f"flux-{variant}-tiny")
        build_tiny_flux(dev=variant == "dev").save_pretrained(str(folders[variant]))
    return folders


@pytest.fixture(scope="module")
def _loaded(flux_folders: dict[str, Path]) -> dict[str, Any]:
    return {variant: load_flux_pipeline(folder) for variant, folder in flux_folders.items()}


def _generator(pipe: Any) -> FluxGenerator:
    return FluxGenerator(
        copy.deepcopy(pipe), resolution_px=SIDE_PX, guidance_scale=GUIDANCE, max_sequence_length=T5_TOKENS
    )


@pytest.fixture
def make_flux(_loaded):
    """Fresh schnell generators with identical weights (deep copies of one loaded pipeline)."""
    return lambda: _generator(_loaded["schnell"])


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


def _sample(gen: FluxGenerator, seed: int, steps: int) -> torch.Tensor:
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, seed), steps)


# --- loading --------------------------------------------------------------------------------------------
def test_loads_offline_from_a_folder_and_from_the_presets_in_the_cache(flux_folders, tmp_path, monkeypatch):
    from dualproc_engine.generators.load import load_generator

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert isinstance(adapters.load_generator(str(flux_folders["dev"]), torch.device("cpu")), FluxGenerator)
    assert isinstance(load_generator(str(flux_folders["schnell"])), FluxGenerator)  # `dualproc generate`'s

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelMissingError, match="huggingface-cli download black-forest-labs/FLUX.1-schnell"):
        adapters.load_generator("flux-schnell", torch.device("cpu"))
    for preset, variant, repo in (
        ("flux-schnell", "schnell", "black-forest-labs/FLUX.1-schnell"),
        ("flux-dev", "dev", "black-forest-labs/FLUX.1-dev"),
    ):
        snapshot = tmp_path / f"models--{repo.replace('/', '--')}" / "snapshots" / "0123abc"
        shutil.copytree(flux_folders[variant], snapshot)
        gen = adapters.load_generator(preset, torch.device("cpu"))
        assert isinstance(gen, FluxGenerator) and gen.has_guidance == (variant == "dev")
        assert gen.max_sequence_length == (512 if variant == "dev" else 256)  # BFL's defaults
        assert isinstance(adapters.load_generator(repo, torch.device("cpu")), FluxGenerator)


def test_generate_files_draws_with_a_tiny_flux_folder(flux_folders, tmp_path, monkeypatch):
    from dualproc_engine.generators import flux
    from dualproc_engine.generators.generate import generate_files

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(flux, "RESOLUTION_PX", SIDE_PX)  # the default side (512 would take minutes here)
    result = generate_files(
        PROMPT, n=2, seed=0, out_dir=str(tmp_path / "out"), generator=str(flux_folders["schnell"])
    )
    assert result["count"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000000.png", "000001.png", "grid.png"]


def test_same_seed_same_image_and_the_embeddings_layout(make_flux):
    gen = make_flux()
    embeds = gen.encode_prompt([PROMPT, "a house at night"])
    assert embeds.tokens.shape == (2, T5_TOKENS, 48) and embeds.pooled.shape == (2, 32)
    assert gen.make_noise(2, 0).shape == (2, 16, 8, 8)  # plain latents: packing happens inside velocity
    a, b, c = _sample(gen, 3, 1), _sample(gen, 3, 1), _sample(gen, 4, 1)
    assert a.shape == (1, 3, SIDE_PX, SIDE_PX) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
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
def test_schedules_schnell_unshifted_dev_shifted_by_resolution(_loaded):
    schnell, dev = _generator(_loaded["schnell"]), _generator(_loaded["dev"])
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
def test_sampling_equals_the_stock_pipeline(_loaded, variant, steps):
    pipe = copy.deepcopy(_loaded[variant])
    gen = _generator(pipe)
    ours, stock = _sample(gen, 5, steps), _stock(pipe, gen, 5, steps)
    assert (ours - stock).abs().max() < AGREEMENT


def test_dev_guidance_reaches_the_transformer(_loaded):
    gen = _generator(_loaded["dev"])
    other = _generator(_loaded["dev"])
    other.guidance_scale = 5.0
    assert (_sample(gen, 5, 1) - _sample(other, 5, 1)).abs().max() > 1e-6


# --- training -------------------------------------------------------------------------------------------
def _randomise_lora(gen: FluxGenerator, seed: int) -> None:
    """Nonzero lora_B, so that lora_A's gradient is not zero by construction (peft starts B at zero)."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(_loaded):
    gen = _generator(_loaded["dev"])
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 1)
    wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in gen.transformer.named_parameters() if ".lora_" in n}
    assert {t for t in LORA_TARGET_MODULES if any(n.endswith("." + t) for n in wrapped)} == set(
        LORA_TARGET_MODULES
    )
    assert any(n.startswith("single_transformer_blocks.") for n in wrapped)  # the single-stream q, k, v
    image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[1])
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
    (image * weights).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
    for module in (gen.transformer, gen.vae, gen.text_encoder, gen.text_encoder_2):
        assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)


def test_gradient_checkpointing_gives_the_same_gradients(make_flux, monkeypatch):
    calls = [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    gen = make_flux()
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
        "name": "flux-test",
        "generator": "tiny-flux",
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
            "resolution_px": SIDE_PX,
            "checkpointing_steps": 100,
            "preserve_weight": 0.5,  # the regulariser indexes its own pooled embeddings too
        },
    }


def _base_state(gen: FluxGenerator) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    modules = (
        ("transformer", gen.transformer),
        ("vae", gen.vae),
        ("clip", gen.text_encoder),
        ("t5", gen.text_encoder_2),
    )
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in modules
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


@pytest.fixture(scope="module")
def taught(_loaded, tmp_path_factory: pytest.TempPathFactory) -> tuple[FluxGenerator, Path, dict, Logs]:
    """One teach step on a fresh dev generator: (generator, run folder, its base weights before, logs)."""
    torch.set_num_threads(1)
    gen = _generator(_loaded["dev"])
    before = _base_state(gen)
    out = tmp_path_factory.mktemp("teach-flux")
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


def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(taught, _loaded):
    from safetensors.torch import load_file

    from dualproc_engine.generators.generate import fuse_lora

    _, out, _, _ = taught
    keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
    assert keys and all(k.startswith("transformer.") for k in keys)
    assert any(".attn.add_q_proj.lora_A" in k for k in keys)  # the text stream's projections too

    pipe = copy.deepcopy(_loaded["dev"])
    gen = _generator(_loaded["dev"])
    base = _stock(pipe, gen, 7, 2)
    pipe.load_lora_weights(str(out))
    with_lora = _stock(pipe, gen, 7, 2)
    assert (with_lora - base).abs().max() > 1e-6

    gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
    gen.set_lora_scale(1.0)
    assert (_sample(gen, 7, 2) - with_lora).abs().max() < AGREEMENT

    fused = _generator(_loaded["dev"])  # `dualproc generate --lora` fuses it into the transformer
    fuse_lora(fused, str(out), 1.0, "tiny-flux")
    assert (_sample(fused, 7, 2) - with_lora).abs().max() < AGREEMENT

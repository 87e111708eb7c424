"""The Sana adapter on tiny Sana and Sana-Sprint pipelines built from configs (a two-block linear-attention
transformer, a three-level DC-AE with 32 latent channels, a two-layer Gemma 2 and a Gemma-style BPE tokenizer
trained here, no download): offline loading, seeded noise, agreement with stock diffusers, gradients into the
LoRA, a teach step, and a saved LoRA that stock `SanaPipeline.load_lora_weights` reads."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.generators.base import PooledPromptEmbeds
from dualproc_engine.generators.sana import (
    LORA_TARGET_MODULES,
    SanaGenerator,
    SanaSprintGenerator,
    flow_latent_scale,
    load_sana_pipeline,
    trigflow_to_flow,
)
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

from .tiny import BrightnessJudge, Logs

PROMPT = "A red house in a desert"
SIDE_PX = 32
"""The tiny pipelines' image side: 8 latent pixels times DC-AE's factor 4 (the stock pipeline wants a
multiple of 32)."""
AGREEMENT = 1e-5
"""Max absolute difference (pixels in [0, 1]) allowed between the adapter's images and stock diffusers'.
Measured here: 0 (bit-identical) for Sana at 1, 2 and 4 steps; at most 4e-7 for Sana-Sprint at one step
(its x0 is TrigFlow's cos(t) x - sin(t) F in the stock pipeline, x_f - s v here: other round-off)."""
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


@pytest.fixture(scope="module")
def sana_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("sana-tiny")
    build_tiny_sana().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def sprint_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("sana-sprint-tiny")
    build_tiny_sana(sprint=True).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def _loaded(sana_folder: Path) -> Any:
    return load_sana_pipeline(sana_folder)


@pytest.fixture(scope="module")
def _sprint(sprint_folder: Path) -> Any:
    return load_sana_pipeline(sprint_folder)


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
    """Stock diffusers at the tiny size, without CFG (guidance 1) or resolution binning."""
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


def _sample(gen: SanaGenerator, seed: int, steps: int) -> torch.Tensor:
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, seed), steps)


# --- loading --------------------------------------------------------------------------------------------
def test_loads_offline_from_folders_and_from_the_presets_in_the_cache(
    sana_folder, sprint_folder, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gen = adapters.load_generator(str(sana_folder), torch.device("cpu"))
    assert type(gen) is SanaGenerator
    assert type(adapters.load_generator(str(sprint_folder), torch.device("cpu"))) is SanaSprintGenerator

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    repo = "Efficient-Large-Model/Sana_1600M_1024px_diffusers"
    with pytest.raises(ModelMissingError, match=f"huggingface-cli download {repo}"):
        adapters.load_generator("sana-1600m", torch.device("cpu"))
    shutil.copytree(sana_folder, tmp_path / f"models--{repo.replace('/', '--')}" / "snapshots" / "0123abc")
    assert type(adapters.load_generator("sana-1600m", torch.device("cpu"))) is SanaGenerator
    assert type(adapters.load_generator(repo, torch.device("cpu"))) is SanaGenerator
    sprint_repo = "Efficient-Large-Model/Sana_Sprint_1.6B_1024px_diffusers"
    shutil.copytree(
        sprint_folder, tmp_path / f"models--{sprint_repo.replace('/', '--')}" / "snapshots" / "0123abc"
    )
    assert type(adapters.load_generator("sana-sprint", torch.device("cpu"))) is SanaSprintGenerator


def test_same_seed_same_image(make_sana):
    gen = make_sana()
    a, b, c = _sample(gen, 3, 1), _sample(gen, 3, 1), _sample(gen, 4, 1)
    assert a.shape == (1, 3, SIDE_PX, SIDE_PX) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


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
    assert (_sample(gen, 5, steps) - _stock(pipe, noise, steps, guidance_scale=1.0)).abs().max() < AGREEMENT


def test_sampling_equals_the_stock_pipeline_without_the_instruction(_loaded, make_sana):
    pipe = _euler(copy.deepcopy(_loaded))
    gen = make_sana()
    stock = _stock(pipe, gen.make_noise(1, 6), 2, guidance_scale=1.0, complex_human_instruction=[])
    assert (_sample(gen, 6, 2) - stock).abs().max() < AGREEMENT


def test_sprint_one_step_equals_the_stock_sprint_pipeline(_sprint):
    gen = SanaSprintGenerator(copy.deepcopy(_sprint))
    assert gen.guidance_scale == 4.5  # the pipeline's default, read from it
    eps = torch.randn(1, 32, 8, 8, generator=torch.Generator().manual_seed(5))  # make_noise's draw
    stock = _stock(copy.deepcopy(_sprint), eps, 1, intermediate_timesteps=None)
    assert (_sample(gen, 5, 1) - stock).abs().max() < AGREEMENT


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


# --- training -------------------------------------------------------------------------------------------
def _randomise_lora(gen: SanaGenerator, seed: int) -> None:
    """Nonzero lora_B, so that lora_A's gradient is not zero by construction."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


@pytest.mark.parametrize("sprint", [False, True])
def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(_loaded, _sprint, sprint):
    gen = (
        SanaSprintGenerator(copy.deepcopy(_sprint), complex_human_instruction=[])
        if sprint
        else SanaGenerator(copy.deepcopy(_loaded), complex_human_instruction=[])
    )
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 1)
    wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in gen.transformer.named_parameters() if ".lora_" in n}
    assert {t for t in LORA_TARGET_MODULES if any(n.endswith("." + t) for n in wrapped)} == set(
        LORA_TARGET_MODULES
    )
    assert any(".attn1." in n for n in wrapped) and any(".attn2." in n for n in wrapped)
    image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[1])
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
    (image * weights).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
    for module in (gen.transformer, gen.vae, gen.text_encoder):
        assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)


def _lora_grads(gen: SanaGenerator, checkpointing: bool) -> list[torch.Tensor]:
    for p in gen.lora_parameters():
        p.grad = None
    with gen.gradient_checkpointing(checkpointing):
        image = gen.sample(gen.encode_prompt([PROMPT]), gen.make_noise(1, 0), 2, grad_steps=[0, 1])
    image.square().mean().backward()
    return [p.grad.clone() for p in gen.lora_parameters()]


def test_gradient_checkpointing_gives_the_same_gradients(make_sana, monkeypatch):
    calls = [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    gen = make_sana()
    gen.add_lora(lora_rank=4, lora_alpha=4)
    _randomise_lora(gen, 3)
    off, on = _lora_grads(gen, False), _lora_grads(gen, True)
    for a, b in zip(off, on, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert calls[0] > 0  # the transformer's blocks did run checkpointed
    assert not gen.transformer.is_gradient_checkpointing  # switched off again afterwards


def _recipe() -> dict[str, Any]:
    return {
        "name": "sana-test",
        "generator": "tiny-sana",
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
            "resolution_px": SIDE_PX,
            "checkpointing_steps": 100,
        },
    }


def _base_state(gen: SanaGenerator) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    modules = {"transformer": gen.transformer, "vae": gen.vae, "text": gen.text_encoder}
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in modules.items()
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


@pytest.fixture(scope="module")
def taught(_loaded, tmp_path_factory: pytest.TempPathFactory) -> tuple[SanaGenerator, Path, dict, Logs]:
    """One teach step on a fresh generator: (the generator, the run folder, its base weights before, logs)."""
    torch.set_num_threads(1)
    gen = SanaGenerator(copy.deepcopy(_loaded), complex_human_instruction=[])
    before = _base_state(gen)
    out = tmp_path_factory.mktemp("teach")
    logs = Logs()
    teach(_recipe(), out, generator=gen, judge=BrightnessJudge(), reporter=logs)
    return gen, out, before, logs


def test_a_teach_step_changes_the_lora_and_leaves_base_weights_untouched(taught):
    gen, _, before, logs = taught
    assert [m for level, m in logs.lines if level == "warning"] == []
    lora_b = [p for n, p in gen.transformer.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # peft's gaussian init starts B at zero
    after = _base_state(gen)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(taught, _loaded, make_sana):
    from safetensors.torch import load_file

    _, out, _, _ = taught
    keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
    assert keys and all(k.startswith("transformer.") for k in keys)

    pipe = _euler(copy.deepcopy(_loaded))
    gen = make_sana()
    noise = gen.make_noise(1, 7)
    base = _stock(pipe, noise, 1, guidance_scale=1.0, complex_human_instruction=[])
    pipe.load_lora_weights(str(out))
    with_lora = _stock(pipe, noise, 1, guidance_scale=1.0, complex_human_instruction=[])
    assert (with_lora - base).abs().max() > 1e-6

    gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
    gen.set_lora_scale(1.0)
    assert (_sample(gen, 7, 1) - with_lora).abs().max() < AGREEMENT

"""Shared pieces of the generator-family tests: local tokenizers and a one-layer T5 (no download), a
judge-contract stand-in, a reporter that keeps its log lines, and the small steps every family's tests take
(randomising a LoRA, snapshotting base weights, a one-step teach recipe, seeded sampling)."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import torch

WORDS = ("a", "red", "house", "in", "desert", "at", "night", "sunset")
"""Whole words the tiny tokenizers know (the test prompts' words); other words are spelled out."""


def clip_tokenizer(max_length: int) -> Any:
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


def t5(width: int) -> tuple[Any, Any]:
    """A one-layer T5 encoder of `width` and a unigram T5 tokenizer over a few words and the letters."""
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -3.0)]
    pieces += [("\u2581" + w, -1.0) for w in WORDS] + [(c, -5.0) for c in string.ascii_lowercase]
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


def clip_text_model(
    vocab_size: int, width: int, layers: int, projection: bool = False, seed: int | None = None, **config: Any
) -> Any:
    """A CLIP text encoder at a toy width for the tiny tokenizers (12 positions, 4 heads), with the pooled
    projection when `projection`; seeded first when `seed` is given, else from the global generator."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    if seed is not None:
        torch.manual_seed(seed)
    model = CLIPTextModelWithProjection if projection else CLIPTextModel
    return model(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=width,
            intermediate_size=37,
            num_hidden_layers=layers,
            num_attention_heads=4,
            max_position_embeddings=12,
            bos_token_id=0,
            eos_token_id=1,  # the pooled output is the end-of-text token's state
            pad_token_id=1,
            **config,
        )
    )


def tiny_vae(latent_channels: int, scaling_factor: float, **config: Any) -> Any:
    """A two-level `AutoencoderKL` (factor 2: 16 px images, 8 x 8 latents) with the family's latent channels
    and scaling; `config` adds the rest (shift factor, no quant convs)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        block_out_channels=(32, 32),
        latent_channels=latent_channels,
        sample_size=16,
        scaling_factor=scaling_factor,
        **config,
    )


def save_tiny(pipeline: Any, tmp_path_factory: Any, name: str) -> Path:
    """`pipeline` saved in a fresh temporary folder `name` (the layout a downloaded snapshot has)."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp(name)
    pipeline.save_pretrained(str(folder))
    return folder


def hub_snapshot(cache: Path, repo: str) -> Path:
    """Where the Hugging Face cache at `cache` keeps a snapshot of `repo`."""
    return cache / f"models--{repo.replace('/', '--')}" / "snapshots" / "0123abc"


class BrightnessJudge:
    """A judge-contract stand-in: 'Yes' is log sigmoid(k (mean brightness - target))."""

    def logprob(self, images: torch.Tensor, questions: list[str], answers: list[str]) -> torch.Tensor:
        z = 20.0 * (images.mean(dim=(1, 2, 3)) - 0.8)
        cols = [torch.nn.functional.logsigmoid(z if a == "Yes" else -z) for a in answers]
        return torch.stack(cols, dim=1)


def randomise_lora(gen: Any, seed: int) -> None:
    """Nonzero lora_B, so that lora_A's gradient is not zero by construction (peft starts B at zero)."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in gen.lora_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def base_state(modules: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Copies of every non-LoRA parameter of `modules`, keyed `<module name>.<parameter name>`."""
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    return {
        f"{m}.{n.replace('.base_layer', '')}": p.detach().clone()
        for m, module in modules.items()
        for n, p in module.named_parameters()
        if "lora_" not in n
    }


def teach_recipe(
    name: str, generator: str, prompts: list[str], eval_prompt: str, steps: int, side_px: int, **training: Any
) -> dict[str, Any]:
    """A one-step teach recipe: the brightness question, a rank-4 LoRA, two noises in the pool; `training`
    adds to or overrides the training section."""
    return {
        "name": name,
        "generator": generator,
        "judge": "brightness",
        "prompts": prompts,
        "questions": [{"question": "Is the picture bright?", "answer": "Yes", "weight": 1.0}],
        "eval": {"prompts": [eval_prompt], "seeds": [0], "lora_scales": [0, 1.0]},
        "training": {
            "max_train_steps": 1,
            "learning_rate": 1e-3,
            "lora_rank": 4,
            "lora_alpha": 4,
            "lora_scale": 1.0,
            "noise_pool_size": 2,
            "num_inference_steps": steps,
            "resolution_px": side_px,
            "checkpointing_steps": 100,
            **training,
        },
    }


def sample(gen: Any, prompt: str, seed: int, steps: int) -> torch.Tensor:
    """The adapter's image of `prompt` from noise `seed` in `steps` steps, without a graph."""
    with torch.no_grad():
        return gen.sample(gen.encode_prompt([prompt]), gen.make_noise(1, seed), steps)

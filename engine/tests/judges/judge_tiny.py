"""What the tiny judge families' tests share: pixel noise and its conversions, the BPE tokenizers trained here
in the released tokenizers' styles, the chat the stock processors render, the stock path's answer
log-probability, a faked Hugging Face cache, and a teach step with a tiny generator.

Named `judge_tiny` (not `tiny`): the test folders are not packages, so a module name must be unique across
them."""

from __future__ import annotations

import copy
import functools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

QUESTIONS = ["Is it night?", "Is the red line on the horizon?", "Is there a house?"]
ANSWERS = ["Yes", "a red line", "No"]
"""The answers the families score against their stock forward; "a red line" is a multi-token answer."""
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
"""CLIP's normalisation, which LLaVA-1.5's and LLaVA-NeXT's image processors use."""


def noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Pixel noise (h, w, 3) uint8: the worst case for a resize's rounding."""
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def as_tensor(pixels: np.ndarray) -> torch.Tensor:
    """(h, w, 3) uint8 -> (1, 3, h, w) in [0, 1]."""
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255


def as_pil(image: torch.Tensor) -> Image.Image:
    """(3, h, w) in [0, 1] -> the 8-bit picture a stock processor takes."""
    return Image.fromarray((image.detach().permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def byte_level_bpe(corpus: list[str], special_tokens: list[str], vocab_size: int = 400) -> Any:
    """A byte-level BPE trained on `corpus`, like Qwen's and Llama 3's (no unknown tokens; an answer may
    merge with what precedes it). A `tokenizers.Tokenizer`, for the family's transformers wrapper."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(corpus, trainer)
    return tok


def metaspace_bpe(corpus: list[str], special_tokens: list[str], vocab_size: int, *, prepend: bool) -> Any:
    """A BPE with spaces as "▁" and byte fallback, trained on `corpus`: Gemma's style (`prepend=False`:
    split after each space) or Llama's and Mistral's (`prepend=True`: a "▁" before the text too)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if prepend:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    else:
        tok.normalizer = normalizers.Replace(" ", "▁")
        tok.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous", invert=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    return tok


def chat(question: str, image: Any = None, answer: str | None = None) -> list[dict[str, Any]]:
    """A user turn (the image, then the question) and, given an answer, the assistant's turn."""
    image_part = {"type": "image"} if image is None else {"type": "image", "image": image}
    turns = [{"role": "user", "content": [image_part, {"type": "text", "text": question}]}]
    if answer is not None:
        turns.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return turns


def yes_no(question: str, answer: str) -> str:
    """The question as the judges ask it: the Yes/No instruction for Yes/No answers (spelled out here, not
    imported, so that the stock path does not lean on the code under test)."""
    return question + " Answer with Yes or No." if answer in ("Yes", "No") else question


def departure(ids: torch.Tensor, prompt_ids: torch.Tensor) -> int:
    """Where `ids` (prompt and answer) first depart from the generation prompt's: the answer's first token."""
    start = 0
    while start < len(prompt_ids) and ids[start] == prompt_ids[start]:
        start += 1
    return start


def next_token_logprob(logits: torch.Tensor, ids: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The summed log-probability of `ids[rows + 1]` under `logits[rows]` (one sequence: (L, V), (L,))."""
    return torch.log_softmax(logits[rows].float(), -1).gather(1, ids[rows + 1][:, None]).sum()


def answer_logprob_after(logits: torch.Tensor, ids: torch.Tensor, prompt_ids: torch.Tensor) -> torch.Tensor:
    """The log-probability of every token of `ids` after the generation prompt `prompt_ids`."""
    rows = torch.arange(departure(ids, prompt_ids) - 1, len(ids) - 1)
    return next_token_logprob(logits, ids, rows)


def load_tiny(folder: Path, judge_class: type) -> Any:
    """The judge in `folder`, by folder, through the one loader ask, teach and eval use."""
    from dualproc_engine.judges.load import load_judge

    loaded = load_judge(str(folder))
    assert isinstance(loaded, judge_class)
    return loaded


def fake_hf_cache(cache: Path, repo_id: str, folder: Path) -> Path:
    """`folder` (a tiny model) standing in for `repo_id`'s snapshot in the Hugging Face cache `cache`."""
    snapshot = cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / "0123abc"
    shutil.copytree(folder, snapshot)
    return snapshot


@functools.cache
def _tiny_pipeline() -> Any:
    from dualproc_engine.generators.embedded import EmbeddedConfig, build_pipeline
    from dualproc_engine.generators.scenes_text import caption_vocabulary

    return build_pipeline(EmbeddedConfig(image_size_px=16, block_out_channels=(16, 32), attention_heads=2,
                                         text_hidden_size=16, text_layers=1), seed=0,
                          vocabulary=caption_vocabulary(n_samples=50))  # fmt: skip


def tiny_generator() -> Any:
    """A tiny embedded generator (a fresh copy of one pipeline built once) for a teach step."""
    from dualproc_engine.generators.embedded import EmbeddedGenerator

    return EmbeddedGenerator(copy.deepcopy(_tiny_pipeline()))


def teach_step_moves_the_lora(judge: Any, out: Path, name: str, gradient_checkpointing: bool = True) -> None:
    """Two teach steps of a tiny generator through `judge` (a plain question and one with a visual prompt):
    the LoRA's B matrices, which start at zero, have moved."""
    from safetensors.torch import load_file

    from dualproc_engine.teach.loop import teach

    recipe = {
        "name": name, "generator": "tiny", "judge": "tiny", "prompts": ["a lake at night"],
        "questions": [{"question": "Is it night?", "answer": "Yes"},
                      {"question": "Is the red line on the horizon?", "answer": "Yes",
                       "visual_prompt": {"kind": "horizon", "y": 0.3}}],
        "eval": {"seeds": [0], "lora_scales": [0, 1.0]},
        "training": {"max_train_steps": 2, "learning_rate": 1e-2, "lora_rank": 4, "lora_alpha": 4,
                     "lora_scale": 1.0, "noise_pool_size": 2, "resolution_px": 16,
                     "checkpointing_steps": 100, "gradient_checkpointing": gradient_checkpointing},
    }  # fmt: skip
    teach(recipe, out, generator=tiny_generator(), judge=judge)
    lora = load_file(str(out / "pytorch_lora_weights.safetensors"))
    assert any(v.abs().sum() > 0 for k, v in lora.items() if "lora_B" in k)  # B starts at zero; it moved


def two_way_minus_causal(judge: Any, text_model: Any, cap: float | None = None) -> torch.Tensor:
    """How much the image block's two-way attention changes an answer's score: the judge's log-probability
    of "Yes" minus the same through `text_model` given no token types (a plain causal mask), with the
    family's logit soft cap `cap`. Non-zero means the stock comparison does test the block mask."""
    features = judge.encode_images(torch.rand(1, 3, 32, 32))
    ids, attention, target = judge.encode_texts(QUESTIONS[:1], ["Yes"])
    embeds = judge._embed(features, ids)
    both_ways = judge._answer_logprob(embeds, ids, attention, target)
    hidden = text_model(inputs_embeds=embeds, attention_mask=attention).last_hidden_state
    rows, cols = target.nonzero(as_tuple=True)
    logits = judge.model.lm_head(hidden[rows, cols])
    logits = logits if cap is None else torch.tanh(logits / cap) * cap
    causal = torch.log_softmax(logits, -1).gather(1, ids[rows, cols + 1][:, None]).sum()
    return both_ways - causal

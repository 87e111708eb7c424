"""The embedded judge's model: a stock `LlavaForConditionalGeneration` with a tiny config, its word-level
tokenizer built from the Scenes QA phrasings, and a stock `LlavaProcessor`, all loadable offline with
`from_pretrained(path)`.

Two vision towers are offered: `clip` (CLIP ViT, a class token, 8 px patches) for the training judge and
`siglip` (SigLIP ViT, no class token, 8 px patches) for the evaluation-only judge, so the two do not share
an architecture's blind spots. Both see 64 px images: 64 patch tokens go to the language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import YES_NO, YES_NO_INSTRUCTION

IMAGE_TOKEN = "<image>"
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>", IMAGE_TOKEN)
PROMPT_TEMPLATE = "{image_tokens}\n{question}\nAnswer:"
"""The judge's prompt; the wanted answer follows after a space, teacher-forced."""
EXTRA_WORDS = ("Yes", "No", "yes", "no", "it", "is", "not", "maybe", "Answer", ":")
"""Words kept beyond the phrasings: the answers and a few that multi-word answers use."""
VISION_TOWERS = ("clip", "siglip")


@dataclass(frozen=True)
class JudgeArchitecture:
    """Sizes of the tiny VLM. Defaults: about 1.7M parameters, ~7 MB as float32 safetensors."""

    vision: str = field(default="clip", metadata={"help": "vision tower: 'clip' or 'siglip'"})
    image_size_px: int = field(default=64, metadata={"help": "side of the images the judge sees"})
    patch_size_px: int = field(default=8, metadata={"help": "ViT patch side; (image/patch)^2 image tokens"})
    vision_hidden_size: int = 128
    vision_layers: int = 4
    text_hidden_size: int = 128
    text_layers: int = 4
    heads: int = 4

    def __post_init__(self) -> None:
        if self.vision not in VISION_TOWERS:
            raise ValueError(f"vision: expected one of {', '.join(VISION_TOWERS)}, got {self.vision!r}")
        if self.image_size_px % self.patch_size_px:
            raise ValueError(
                f"image_size_px ({self.image_size_px}) must be a multiple of patch_size_px "
                f"({self.patch_size_px})"
            )

    @property
    def image_tokens(self) -> int:
        return (self.image_size_px // self.patch_size_px) ** 2


def words(text: str) -> list[str]:
    """Words as the tokenizer's `Whitespace` pre-tokenizer splits them (\\w+ or runs of punctuation)."""
    return re.findall(r"\w+|[^\w\s]+", text)


def phrasing_vocabulary(phrasing_split: str) -> list[str]:
    """Every word the QA phrasings of `phrasing_split` can produce, slot values included, sorted."""
    from ..world.color_names import COLOR_NAMES
    from ..world.qa import PHRASINGS
    from ..world.qa.common import LANDSCAPE_OBJECTS, LINEART_OBJECTS
    from ..world.qa.objects import NUMBER_WORDS, _plural
    from ..world.qa.phrasings import phrasing_indices

    vocab: set[str] = set(EXTRA_WORDS) | set(words(YES_NO_INSTRUCTION)) | set(YES_NO)
    for family, phrasings in PHRASINGS.items():
        for i in phrasing_indices(family, phrasing_split):
            phrasing = phrasings[i]
            for template in [phrasing] if isinstance(phrasing, str) else list(phrasing.values()):
                vocab.update(words(re.sub(r"\{[a-z_]+\}", " ", template)))
    kinds = set(LANDSCAPE_OBJECTS) | set(LINEART_OBJECTS)
    vocab.update(kinds, {_plural(k) for k in kinds}, COLOR_NAMES, NUMBER_WORDS, {"a", "an"})
    return sorted(vocab)


def build_tokenizer(vocabulary: list[str]) -> Any:
    """A word-level `PreTrainedTokenizerFast` over `vocabulary`; unknown words become <unk>."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in vocabulary:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", vocab["<s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": IMAGE_TOKEN},
        model_max_length=256,
    )


def build_processor(tokenizer: Any, arch: JudgeArchitecture) -> Any:
    """A stock `LlavaProcessor`: bilinear resize to the judge's side, [0, 1] -> [-1, 1]."""
    from transformers import LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    side = arch.image_size_px
    image_processor: Any
    common: dict[str, Any] = {"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "resample": 2}
    if arch.vision == "clip":
        image_processor = CLIPImageProcessorPil(
            size={"shortest_edge": side}, crop_size={"height": side, "width": side}, **common
        )
    else:
        image_processor = SiglipImageProcessorPil(size={"height": side, "width": side}, **common)
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=arch.patch_size_px,
        vision_feature_select_strategy="default" if arch.vision == "clip" else "full",
        num_additional_image_tokens=1 if arch.vision == "clip" else 0,
        image_token=IMAGE_TOKEN,
    )


def build_model(tokenizer: Any, arch: JudgeArchitecture, seed: int) -> Any:
    """A freshly initialised `LlavaForConditionalGeneration` from configs (deterministic in `seed`)."""
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        SiglipVisionConfig,
    )

    vision_kwargs: dict[str, Any] = {
        "image_size": arch.image_size_px,
        "patch_size": arch.patch_size_px,
        "hidden_size": arch.vision_hidden_size,
        "intermediate_size": 4 * arch.vision_hidden_size,
        "num_hidden_layers": arch.vision_layers,
        "num_attention_heads": arch.heads,
    }
    vision = (
        CLIPVisionConfig(projection_dim=arch.vision_hidden_size, **vision_kwargs)
        if arch.vision == "clip"
        else SiglipVisionConfig(**vision_kwargs)
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=arch.text_hidden_size,
        intermediate_size=4 * arch.text_hidden_size,
        num_hidden_layers=arch.text_layers,
        num_attention_heads=arch.heads,
        num_key_value_heads=arch.heads,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=arch.image_tokens,
        vision_feature_select_strategy="default" if arch.vision == "clip" else "full",
        # the last layer: with the usual -2 the top vision layer would be computed and never used
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    return LlavaForConditionalGeneration(config)


def build_judge_files(out_dir: str | Path, arch: JudgeArchitecture, phrasing_split: str, seed: int) -> Any:
    """Tokenizer, processor and a fresh model; the processor (with tokenizer) is saved to `out_dir`."""
    tokenizer = build_tokenizer(phrasing_vocabulary(phrasing_split))
    processor = build_processor(tokenizer, arch)
    processor.save_pretrained(str(out_dir))
    return build_model(tokenizer, arch, seed), processor

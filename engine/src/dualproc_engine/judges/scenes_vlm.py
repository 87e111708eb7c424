"""The embedded judge's model: a stock `FastVlmForConditionalGeneration` with a tiny config, its word-level
tokenizer built from the Scenes QA phrasings, and a stock `LlavaProcessor`, all loadable offline with
`from_pretrained(path)`.

FastVLM is the LLaVA layout (vision tower -> two-layer projector -> decoder-only LM) with a convolutional
vision tower whose feature map is flattened into image tokens. A convolutional tower is the point: on these
64 px scenes a small ResNet learns "is the red line on the horizon" to 80% in 50 steps of a linear probe,
while CLIP/SigLIP ViTs, Swin, DaViT and ConvNeXt (patchifying stems) stayed at 50-65% after 300-1,000 steps
(docs/judge.md). Two towers are offered so the two judges do not share a network's blind spots: `resnet`
(ResNet, basic blocks, BatchNorm) for the training judge and `bit` (BiT: pre-activation ResNetV2, GroupNorm,
weight-standardised convolutions) for the evaluation-only judge. Both reduce 64 px by 16: 16 image tokens.
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
VISION_TOWERS = ("resnet", "bit")


@dataclass(frozen=True)
class JudgeArchitecture:
    """Sizes of the tiny VLM. Defaults: about 1.5M parameters, ~6 MB as float32 safetensors."""

    vision: str = field(default="resnet", metadata={"help": "vision tower: 'resnet' or 'bit'"})
    image_size_px: int = field(default=64, metadata={"help": "side of the images the judge sees"})
    vision_hidden_size: int = field(default=128, metadata={"help": "channels of the tower's last stage"})
    vision_stages: int = field(default=3, metadata={"help": "stages; the stem /4, each later stage /2"})
    text_hidden_size: int = 128
    text_layers: int = 4
    heads: int = 4

    def __post_init__(self) -> None:
        if self.vision not in VISION_TOWERS:
            raise ValueError(f"vision: expected one of {', '.join(VISION_TOWERS)}, got {self.vision!r}")
        if self.image_size_px % self.stride_px:
            raise ValueError(
                f"image_size_px ({self.image_size_px}) must be a multiple of the tower's stride "
                f"({self.stride_px})"
            )

    @property
    def stride_px(self) -> int:
        """Pixels per image token along each side: the stem's 4 times 2 per later stage."""
        return 4 * 2 ** (self.vision_stages - 1)

    @property
    def stage_widths(self) -> list[int]:
        """Channels per stage, doubling up to `vision_hidden_size` (at least 8)."""
        return [
            max(8, self.vision_hidden_size // 2 ** (self.vision_stages - 1 - i))
            for i in range(self.vision_stages)
        ]

    @property
    def image_tokens(self) -> int:
        return (self.image_size_px // self.stride_px) ** 2


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
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    side = arch.image_size_px
    image_processor = SiglipImageProcessorPil(
        size={"height": side, "width": side}, image_mean=[0.5] * 3, image_std=[0.5] * 3, resample=2
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=arch.stride_px,  # one image token per stride x stride pixels of the feature map
        vision_feature_select_strategy="full",
        num_additional_image_tokens=0,
        image_token=IMAGE_TOKEN,
    )


def build_vision_config(arch: JudgeArchitecture) -> Any:
    """The tower's stock config; `hidden_size` (its output channels) is what FastVLM's projector reads."""
    from transformers import BitConfig, ResNetConfig

    common: dict[str, Any] = {
        "embedding_size": arch.stage_widths[0],
        "hidden_sizes": arch.stage_widths,
        "depths": [1] * arch.vision_stages,
        "hidden_size": arch.vision_hidden_size,
    }
    if arch.vision == "resnet":
        return ResNetConfig(layer_type="basic", hidden_act="relu", **common)
    return BitConfig(
        layer_type="preactivation", global_padding="SAME", num_groups=min(8, arch.stage_widths[0]), **common
    )


def build_model(tokenizer: Any, arch: JudgeArchitecture, seed: int) -> Any:
    """A freshly initialised `FastVlmForConditionalGeneration` from configs (deterministic in `seed`)."""
    import torch
    from transformers import FastVlmConfig, FastVlmForConditionalGeneration, LlamaConfig

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
    config = FastVlmConfig(
        vision_config=build_vision_config(arch),
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=arch.image_tokens,
    )
    torch.manual_seed(seed)
    return FastVlmForConditionalGeneration(config)


def build_judge_files(out_dir: str | Path, arch: JudgeArchitecture, phrasing_split: str, seed: int) -> Any:
    """Tokenizer, processor and a fresh model; the processor (with tokenizer) is saved to `out_dir`."""
    tokenizer = build_tokenizer(phrasing_vocabulary(phrasing_split))
    processor = build_processor(tokenizer, arch)
    processor.save_pretrained(str(out_dir))
    return build_model(tokenizer, arch, seed), processor


def copy_judge_files(source: str | Path, out_dir: str | Path) -> Any:
    """A trained judge to fine-tune: its model and processor; the processor's files are copied to `out_dir`
    as they are (the fine-tuned judge keeps the same words)."""
    import shutil

    from transformers import AutoModelForImageTextToText, AutoProcessor

    names = ("processor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
    for name in names:
        if (Path(source) / name).is_file():
            shutil.copy(Path(source) / name, Path(out_dir) / name)
    processor = AutoProcessor.from_pretrained(str(source))
    return AutoModelForImageTextToText.from_pretrained(str(source)), processor

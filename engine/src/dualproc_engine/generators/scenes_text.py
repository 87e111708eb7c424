"""The embedded generator's tokenizer: a word-level `tokenizers` model over the Scenes caption vocabulary.

Captions are lower-cased and split into words and punctuation (`Whitespace` pre-tokenizer); every word the
captioner can write is in the vocabulary (drawn from many sampled captions plus the captioner's phrase
tables), and anything else maps to [UNK]. Wrapped as a `transformers.PreTrainedTokenizerFast`, so it saves
and loads with `save_pretrained` / `from_pretrained` like any Hugging Face tokenizer.
"""

from __future__ import annotations

import functools
import re
from typing import Any

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
MAX_LENGTH = 48
"""Tokens per prompt, BOS and EOS included (the longest Scenes captions use about 30)."""

_WORD = re.compile(r"\w+|[^\w\s]+")


@functools.lru_cache(maxsize=4)
def caption_vocabulary(n_samples: int = 4000, seed: int = 12345) -> list[str]:
    """Every word and punctuation mark of the captioner: sampled captions plus its phrase tables."""
    from ..world import captions as cap
    from ..world.palettes import NAMED_PALETTES
    from ..world.scene import sample_scenes

    texts: list[str] = []
    for scene in sample_scenes(seed, n_samples):
        texts.append(scene.caption)
    tables: list[Any] = [
        cap.SKY_PHRASES,
        cap.SKY_NOUNS,
        cap.GROUND_PHRASES,
        cap.OBJECT_WORDS,
        cap.LINEART_HOUSE_TREE,
        cap.NUMBERS,
        cap.HORIZON_PHRASES,
        cap.STROKE_PHRASES,
    ]
    texts.extend(_strings(tables))
    texts.extend(name.replace("_", " ") for name in NAMED_PALETTES)
    # Words a person may reasonably add when prompting; harmless when unused.
    texts.append("an a the of in on with and palette colours colour scheme horizon sky ground , . ; :")
    words = sorted({w for t in texts for w in _WORD.findall(t.lower())})
    return [*SPECIAL_TOKENS, *words]


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return _strings(list(obj.values()))
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in _strings(item)]
    return []


def build_tokenizer(vocabulary: list[str] | None = None) -> Any:
    """A `PreTrainedTokenizerFast` (word level, lower-cased, BOS ... EOS, padded to MAX_LENGTH)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = vocabulary or caption_vocabulary()
    ids = {word: i for i, word in enumerate(vocab)}
    tok = Tokenizer(WordLevel(ids, unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, ids[BOS]), (EOS, ids[EOS])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        model_max_length=MAX_LENGTH,
    )

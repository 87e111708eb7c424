"""The words of a text that a model's tokenizer reads as its unknown token.

The embedded Scenes models have word-level tokenizers over their training vocabulary, so a word they never
saw ("cat", "purple") reaches them as `<unk>`, and what they answer or draw for it is a guess. Teach,
generate and ask name such words in a warning. A real family's byte-level tokenizer has no unknown words.
"""

from __future__ import annotations

import re
from typing import Any


def unknown_words(tokenizer: Any, text: str) -> list[str]:
    """The words of `text` that `tokenizer` maps to its unknown token, in order, each once (whatever its
    case); [] when it has none (or no unknown token at all)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    if tokenizer is None or unk is None:
        return []
    try:  # a fast tokenizer says which characters each token came from, in the one pass
        encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        spans = [
            text[a:b]
            for i, (a, b) in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
            if i == unk
        ]
    except NotImplementedError:  # a slow one does not: ask about each word on its own, if any is unknown
        if unk not in tokenizer(text)["input_ids"]:
            return []
        words = re.findall(r"\w+", text)
        spans = [w for w in words if unk in tokenizer(w, add_special_tokens=False)["input_ids"]]
    seen: dict[str, str] = {}
    for span in spans:
        if span:
            seen.setdefault(span.lower(), span)  # "Cat" and "cat" are one word to name
    return list(seen.values())


def as_unknown(words: list[str]) -> str:
    """ "'cat' as an unknown word", "'cat', 'sofa' as unknown words": for a warning."""
    names = ", ".join(repr(w) for w in words)
    return f"{names} as an unknown word" if len(words) == 1 else f"{names} as unknown words"

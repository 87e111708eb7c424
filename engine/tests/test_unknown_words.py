"""Naming the words a word-level tokenizer reads as unknown (the warnings of teach, generate and ask)."""

from __future__ import annotations

from typing import Any

from dualproc_engine.generators.scenes_text import SPECIAL_TOKENS, build_tokenizer
from dualproc_engine.unknown_words import as_unknown, unknown_words

VOCABULARY = [*SPECIAL_TOKENS, "a", "lake", "at", "dusk"]


def test_names_each_unknown_word_once_in_the_texts_own_spelling() -> None:
    tokenizer = build_tokenizer(VOCABULARY)
    assert unknown_words(tokenizer, "A Cat at the lake, a cat") == ["Cat", "the", ","]
    assert unknown_words(tokenizer, "a LAKE at dusk") == []  # lower-cased by the tokenizer: known


def test_a_tokenizer_without_an_unknown_token_knows_every_word() -> None:
    class ByteLevel:
        unk_token_id = None

        def __call__(self, text: str, **_: Any) -> dict[str, list[int]]:
            return {"input_ids": list(text.encode())}

    assert unknown_words(ByteLevel(), "a cat") == []
    assert unknown_words(None, "a cat") == []


def test_a_tokenizer_without_offsets_is_asked_word_by_word() -> None:
    fast = build_tokenizer(VOCABULARY)

    class Slow:
        unk_token_id = fast.unk_token_id

        def __call__(self, text: str, **kwargs: Any) -> Any:
            if kwargs.get("return_offsets_mapping"):
                raise NotImplementedError("offsets need a fast tokenizer")
            return fast(text, **kwargs)

    assert unknown_words(Slow(), "a cat at the lake") == ["cat", "the"]


def test_the_warnings_wording() -> None:
    assert as_unknown(["cat"]) == "'cat' as an unknown word"
    assert as_unknown(["cat", "sofa"]) == "'cat', 'sofa' as unknown words"

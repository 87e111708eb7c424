"""`ask_files`: the probability a judge gives a wanted answer about image files (the `dualproc ask` job).

Images are read as RGB (PNG, JPEG, anything Pillow opens), the optional visual prompt is composited with
`prompts.apply_overlay` at the image's own size, and the judge resizes differentiably to its input side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

_LOADED: dict[str, Any] = {}
"""Judges by name, kept for the life of the process (the studio's long-lived worker asks many times)."""


def get_judge(name: str) -> Any:
    if name not in _LOADED:
        from ..teach.adapters import pick_device
        from .load import load_judge

        _LOADED[name] = load_judge(name, pick_device())  # a GPU when there is one, as teach and eval
    return _LOADED[name]


def asked_as(question: str, judge: str) -> str:
    """The question as judge `judge` is asked it: a Scenes question in a Scenes judge's own words."""
    from .base import in_own_words

    return in_own_words(get_judge(judge), question)


def unknown_question_words(question: str, judge: str) -> list[str]:
    """The words of `question` (as the judge is asked it) that judge `judge` reads as unknown."""
    from ..unknown_words import unknown_words

    return unknown_words(getattr(get_judge(judge), "tokenizer", None), question)


def ask_files(
    paths: Sequence[str],
    question: str,
    answer: str = "Yes",
    overlay: Mapping[str, Any] | None = None,
    judge: str = "scenes-judge",
) -> list[dict[str, Any]]:
    """[{"path", "probability"}] per image: exp(logprob) of `answer` to `question` (`asked_as`: in a Scenes
    judge's own words), overlay drawn first.

    `judge` is a shipped judge's name (weights/<name>/) or a folder holding one. Mistakes (a missing file,
    a bad overlay spec, a judge not on this machine) raise `UserError` subclasses with one-line messages.
    """
    from ..errors import UserError
    from ..images import load_image
    from ..prompts import apply_overlay, parse_overlay
    from .base import unlearned_answer

    if not paths:
        raise UserError("ask: give at least one image")
    if not question.strip():
        raise UserError("ask: the question is empty")
    if not answer.strip():
        raise UserError("ask: the answer is empty")
    spec = parse_overlay(dict(overlay)) if overlay else None  # a bad spec: OverlaySpecError, a UserError
    scorer = get_judge(judge)
    why = unlearned_answer(scorer, answer)
    if why is not None:
        raise UserError(f"ask: the answer {answer!r}: {why}")
    question = asked_as(question, judge)
    results = []
    for path in paths:
        image = load_image(path)
        if spec is not None:
            image = apply_overlay(image, spec)
        with torch.no_grad():  # scoring only, no gradient wanted here; the contract itself never disables it
            logprob = scorer.logprob(image, [question], [answer])
        results.append({"path": str(path), "probability": float(logprob.exp()[0, 0])})
    return results

"""The judge contract: `logprob(images, questions, answers) -> Tensor[B, Q]` (DESIGN.md).

A judge scores every image against every (question, wanted answer) pair: entry [b, q] is the summed log
probability of answer q's tokens, teacher-forced after image b and question q, over the full vocabulary.
Images are float (B, 3, H, W) in [0, 1]; the result is differentiable in them, so a judge never calls
`.item()` and never runs under `no_grad` / `inference_mode`. The score shown to people is exp(logprob).

What every family of judge shares lives here: the Yes/No instruction and locating the answer's tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

YES_NO_INSTRUCTION = " Answer with Yes or No."
"""Appended to a question whose wanted answer is Yes or No, as the paper's code does."""
YES_NO = ("Yes", "No")


@runtime_checkable
class Judge(Protocol):
    """A VLM that scores wanted answers to questions about images."""

    def logprob(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(B, Q) log P(answer q | image b, question q), differentiable with respect to `images`."""
        ...


def with_instruction(question: str, answer: str) -> str:
    """The question as the judge reads it: " Answer with Yes or No." added when the answer is Yes or No."""
    question = question.strip()
    return question + YES_NO_INSTRUCTION if answer.strip() in YES_NO else question


def in_own_words(judge: Any, question: str) -> str:
    """The question as `judge` is asked it: a Scenes judge (one whose `phrasing_split` says which Scenes
    phrasings it learned) is asked a Scenes question in its own split's words (`world.qa.phrasings.reword`),
    since it reads the other split's words as unknown; any other judge, and any other question, as written."""
    split = getattr(judge, "phrasing_split", None)
    if split is None:
        return question
    from ..world.qa.phrasings import reword

    return reword(question, split)


def unlearned_answer(judge: Any, answer: str) -> str | None:
    """Why `judge` cannot be asked for `answer`, or None. A Scenes judge (one with a `phrasing_split`) was
    trained on Scenes questions, every one answered Yes or No: it gives any other answer, "yes" included
    (its words are case-sensitive), a near-zero probability whatever the image, so teaching towards it or
    reading it says nothing. Other judges answer in open words."""
    if getattr(judge, "phrasing_split", None) is None or answer in YES_NO:
        return None
    return f"a Scenes judge was trained to answer only {' or '.join(YES_NO)} (with capitals); use one of them"


def answer_token_ids(tokenize: Callable[[str], list[int]], prefix: str, answer: str) -> tuple[list[int], int]:
    """(token ids of prefix + answer, index of the first answer token).

    The answer's tokens are those where tokenize(prefix + answer) departs from tokenize(prefix): this holds
    for word-level and BPE tokenizers alike, even when the answer merges with the prefix's last token.
    """
    if not answer:
        raise ValueError("answers: an answer must have at least one character")
    prefix_ids = tokenize(prefix)
    full_ids = tokenize(prefix + answer)
    start = 0
    while start < min(len(prefix_ids), len(full_ids)) and prefix_ids[start] == full_ids[start]:
        start += 1
    if start >= len(full_ids):
        raise ValueError(f"answers: {answer!r} adds no token after the question")
    return full_ids, start


def check_inputs(images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> None:
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images: expected shape (B, 3, H, W) in [0, 1], got {tuple(images.shape)}")
    if isinstance(questions, str) or isinstance(answers, str):
        raise TypeError("questions and answers: expected lists of strings, got a single string")
    if len(questions) != len(answers):
        raise ValueError(f"questions and answers: {len(questions)} questions but {len(answers)} answers")
    if not questions:
        raise ValueError("questions: expected at least one question")


def pad_rows(rows: Sequence[tuple[list[int], int]], pad: int) -> tuple[Tensor, Tensor, Tensor]:
    """Right-padded (ids, attention, target) from (ids, first answer index) rows.

    target[q, t] is True when the logits at t predict answer token t + 1.
    """
    length = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), length), pad, dtype=torch.long)
    attention = torch.zeros((len(rows), length), dtype=torch.long)
    target = torch.zeros((len(rows), length), dtype=torch.bool)
    for q, (row, start) in enumerate(rows):
        ids[q, : len(row)] = torch.tensor(row)
        attention[q, : len(row)] = 1
        target[q, start - 1 : len(row) - 1] = True
    return ids, attention, target


def logprob_sharing_images(
    judge: Any, images: Tensor, questions: Sequence[str], answers: Sequence[str]
) -> Tensor:
    """(B, Q) the judge contract for judges with `encode_images` / `encode_texts` / `logprob_from_features`:
    each image goes through the vision tower once; its Q questions then run through the language model as
    one batch of B * Q sequences."""
    check_inputs(images, questions, answers)
    features = judge.encode_images(images)
    ids, attention, target = (t.to(judge.device) for t in judge.encode_texts(questions, answers))
    return judge.logprob_from_features(features, ids, attention, target)

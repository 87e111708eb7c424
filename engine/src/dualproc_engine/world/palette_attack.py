"""Palette questions asked of pictures pushed to change the judge's answer, answered again by their pixels.

Why: taught against a judge, a LoRA searches for whatever the judge takes for "uses the palette", and every
judge round so far was fooled by the next such picture (a band along the strip, a wash of one strip
colour, an orange field; docs/judge.md). Those rounds learned one hack at a time, from LoRAs taught in
between. The palette question, unlike the others, has an exact answer for any picture at all
(`qa.palette.visible_truth`, from the pixels), so the search can run inside judge training: a few signed
gradient steps on a smooth colour field over each picture, towards the answer its pixels do not give (a No
picture towards Yes, a Yes picture towards No), then the moved picture is labelled by its pixels. Where the
judge was fooled it learns the pixels' answer; where the push really changed the pixels' answer, that one.
Both ways, so that "looks pushed" is no answer in itself: a judge that learned only pushed-towards-Yes
pictures (all of them No) took 40 steps to answer every pushed picture No.

The field is smooth (a coarse grid, upsampled) because that is what LoRAs paint: washes, bands, fields.
It is added in logit space, so a few steps can move a pixel anywhere in [0, 1] and never beyond.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

ATTACK_GRIDS = (1, 2, 4, 8, 16)
"""Side of the colour field's grid, drawn per call: 1 is a uniform shift of the whole picture (a wash)."""
ATTACK_STEPS = (0.05, 0.1, 0.2, 0.4, 0.6)
"""Logit change per step and grid cell, drawn per call: four steps of 0.6 move mid-grey 0.5 to 0.92 or
0.08 (a new colour); steps of 0.05 leave a Yes picture a Yes (docs/judge.md) while they fool the judge."""


def with_overlays(pictures: Tensor, records: Sequence[dict[str, Any]]) -> Tensor:
    """Each picture with its record's visual prompt (the strip) drawn on top."""
    from ..prompts import apply_overlay

    return torch.cat([apply_overlay(pictures[i : i + 1], r["overlay"]) for i, r in enumerate(records)])


def push_towards(
    judge: Any,
    images: Tensor,
    records: Sequence[dict[str, Any]],
    targets: Sequence[str],
    steps: int,
    grid: int,
    step_size: float,
    seed: int,
) -> Tensor:
    """The (N, 3, H, W) pictures (no overlay) after `steps` signed-gradient steps of a grid x grid colour
    field, each towards the judge giving `targets[i]` to its record's palette question (with its strip
    drawn); detached. The field starts at random within one step, so two pushes of one picture differ."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.logit(images.clamp(1e-3, 1 - 1e-3))
    field = (torch.rand(images.shape[0], 3, grid, grid, generator=generator) * 2 - 1) * step_size
    questions = [r["question"] for r in records]

    def moved(field: Tensor) -> Tensor:
        up = torch.nn.functional.interpolate(
            field, size=images.shape[-2:], mode="bilinear", align_corners=False
        )
        return torch.sigmoid(base + up)

    for _ in range(steps):
        field.requires_grad_(True)
        pictures = moved(field)
        score = judge.logprob_pairs(with_overlays(pictures, records), questions, list(targets)).sum()
        (grad,) = torch.autograd.grad(score, field)
        field = (field + step_size * grad.sign()).detach()
    return moved(field).detach()


def attacked_palette_records(
    judge: Any,
    images: Tensor,
    records: Sequence[dict[str, Any]],
    steps: int,
    rng: random.Random,
) -> tuple[Tensor, list[dict[str, Any]]]:
    """Push each palette record's picture (`images[i]` for `records[i]`, no overlay) towards the answer its
    record does not give, and answer its question again by the moved pixels. Returns the moved pictures with
    their overlays and their records (answer by `visible_truth`, params `attacked` with the push); pictures
    whose pixels leave the answer open are dropped."""
    from .qa.palette import visible_fit, visible_truth

    if not records:
        return images[:0], []
    grid, step_size = rng.choice(ATTACK_GRIDS), rng.choice(ATTACK_STEPS)
    targets = ["No" if r["answer"] == "Yes" else "Yes" for r in records]
    pushed = push_towards(judge, images, records, targets, steps, grid, step_size, rng.randrange(2**31))
    rows, kept = [], []
    for row, (picture, record, target) in enumerate(zip(pushed, records, targets, strict=True)):
        fit = visible_fit(picture.numpy(), record["params"]["colors"])
        truth = visible_truth(fit)
        if truth is None:
            continue
        push = {"towards": target, "grid": grid, "steps": steps, "step_size": step_size}
        params = {**record["params"], "attacked": push, "visible_adherence": round(fit.adherence, 2)}
        rows.append(row)
        kept.append({**record, "answer": "Yes" if truth else "No", "params": params})
    return with_overlays(pushed[rows], kept) if kept else images[:0], kept

"""layout_match: does the annotated layout (labelled boxes) fit where the scene's objects are?"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from ...prompts.spec import LayoutBox, LayoutSpec, overlay_to_dict
from .common import Ask, Scene, ask, visible

LAYOUT_MAX_BOXES = 3
"""The largest visible objects only: more outlines and labels than this crowd a 64 px image."""
LAYOUT_MATCH_IOU = 0.9
LAYOUT_MISS_IOU = 0.5
LAYOUT_SHIFT = (0.1, 0.35)
"""How far a moved box travels (fraction of the side)."""


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def layout_worst_iou(scene: Scene, boxes: Sequence[tuple[Sequence[float], str]]) -> float:
    """Over the labelled boxes: the lowest IoU of a box with the best visible object of its label."""
    in_sight = [o for _, o in visible(scene)]
    return min(
        max((box_iou(box, o["box"]) for o in in_sight if o["kind"] == label), default=0.0)
        for box, label in boxes
    )


def layout_truth(scene: Scene, boxes: Sequence[tuple[Sequence[float], str]]) -> bool | None:
    """Does every labelled box sit on a visible object of its label?"""
    worst = layout_worst_iou(scene, boxes)
    if worst >= LAYOUT_MATCH_IOU:
        return True
    return False if worst <= LAYOUT_MISS_IOU else None


def _shifted(rng: random.Random, box: Sequence[float]) -> tuple[float, ...] | None:
    x0, y0, x1, y1 = box
    for _ in range(20):
        angle = rng.uniform(0, 2 * math.pi)
        distance = rng.uniform(*LAYOUT_SHIFT)
        dx, dy = distance * math.cos(angle), distance * math.sin(angle)
        moved = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        if all(0.0 <= v <= 1.0 for v in moved):
            return tuple(round(v, 4) for v in moved)
    return None


def sample_layout_match(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    def area(o: Mapping[str, Any]) -> float:
        x0, y0, x1, y1 = o["box"]
        return (x1 - x0) * (y1 - y0)

    chosen = sorted((o for _, o in visible(scene)), key=area, reverse=True)[:LAYOUT_MAX_BOXES]
    if not chosen:
        return None
    boxes: list[tuple[Sequence[float], str]] = [(tuple(o["box"]), o["kind"]) for o in chosen]
    perturbation = "none"
    if not want:
        labels = [label for _, label in boxes]
        pairs = [(i, j) for i, j in itertools.combinations(range(len(boxes)), 2) if labels[i] != labels[j]]
        if pairs and rng.random() < 0.5:
            i, j = rng.choice(pairs)
            boxes[i], boxes[j] = (boxes[i][0], labels[j]), (boxes[j][0], labels[i])
            perturbation = "swap_labels"
        else:
            i = rng.randrange(len(boxes))
            moved = _shifted(rng, boxes[i][0])
            if moved is None:
                return None
            boxes[i] = (moved, boxes[i][1])
            perturbation = "shift"
    spec = LayoutSpec(boxes=tuple(LayoutBox((b[0], b[1], b[2], b[3]), label) for b, label in boxes))
    return ask(
        layout_truth(scene, boxes),
        want,
        overlay=overlay_to_dict(spec),
        margin=1.0 - layout_worst_iou(scene, boxes),
        margin_unit="one_minus_iou",
        params={"perturbation": perturbation},
    )

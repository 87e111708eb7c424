"""The relative-depth prompt: labelled points (a filled dot, a contrasting ring, a letter beside it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .color import RGB
from .label import label_layer, label_size
from .layer import Layer, paint, stack
from .raster import disc_coverage, px_scale

DOT_RADIUS_PX = 2.0
RING_PX = 1.0
TEXT_PX = 7.0
"""One pixel per font cell at 64 px: the crispest letters a 64 px image can hold."""
LABEL_PAD_PX = 1.0
LABEL_GAP_PX = 1.0

WHITE: RGB = (1.0, 1.0, 1.0)
POINT_COLORS: dict[str, RGB] = {"A": (1.0, 0.0, 0.0), "B": (0.0, 0.25, 1.0)}
"""A red and B blue: the letter names the point, the colour makes the pair hard to confuse at 64 px."""


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    color: RGB


def default_points(a: tuple[float, float], b: tuple[float, float]) -> list[Point]:
    return [Point("A", *a, POINT_COLORS["A"]), Point("B", *b, POINT_COLORS["B"])]


def points_layer(
    height: int,
    width: int,
    points: Sequence[Point],
    *,
    device: torch.device | None = None,
) -> Layer:
    """Each point's dot centred at (x W, y H) with its letter beside it.

    All labels go below all dots, so a label never hides a dot, and each label takes the first side
    (right, left, below, above, then the diagonals) that stays inside the image, clear of every dot and
    of the labels placed before it.
    """
    if not points:
        raise ValueError("points: needs at least one point")
    scale = px_scale(height, width)
    radius, ring = DOT_RADIUS_PX * scale, RING_PX * scale
    text_px, pad_px = TEXT_PX * scale, LABEL_PAD_PX * scale
    centres = [(p.x * width, p.y * height) for p in points]
    taken: list[tuple[int, int, int, int]] = []
    labels: list[Layer] = []
    dots: list[Layer] = []
    for p, (cx, cy) in zip(points, centres, strict=True):
        box_h, box_w = label_size(p.label, text_px, pad_px)
        top, left = _label_corner(
            (cx, cy), (box_h, box_w), (height, width), radius + ring, LABEL_GAP_PX * scale, centres, taken
        )
        taken.append((top, left, top + box_h, left + box_w))
        labels.append(
            label_layer(
                height,
                width,
                p.label,
                top,
                left,
                text_px=text_px,
                pad_px=pad_px,
                color=p.color,
                device=device,
            )
        )
        dots.append(paint(disc_coverage(height, width, cx, cy, radius + ring, radius, device), WHITE))
        dots.append(paint(disc_coverage(height, width, cx, cy, radius, device=device), p.color))
    return stack(labels + dots)


def _label_corner(
    centre: tuple[float, float],
    box: tuple[int, int],
    image: tuple[int, int],
    dot_radius: float,
    gap: float,
    centres: Sequence[tuple[float, float]],
    taken: Sequence[tuple[int, int, int, int]],
) -> tuple[int, int]:
    """(top, left) of a label box beside the dot at `centre`: the first candidate that fits and is clear."""
    (cx, cy), (box_h, box_w), (height, width) = centre, box, image
    reach = dot_radius + gap
    beside = reach / math.sqrt(2)  # diagonal corners sit as far from the centre as the sides do
    candidates = [
        (round(cy - box_h / 2), round(cx + reach)),  # right
        (round(cy - box_h / 2), round(cx - reach) - box_w),  # left
        (round(cy + reach), round(cx - box_w / 2)),  # below
        (round(cy - reach) - box_h, round(cx - box_w / 2)),  # above
        (round(cy + beside), round(cx + beside)),  # below right
        (round(cy + beside), round(cx - beside) - box_w),  # below left
        (round(cy - beside) - box_h, round(cx + beside)),  # above right
        (round(cy - beside) - box_h, round(cx - beside) - box_w),  # above left
    ]

    def fits(top: int, left: int) -> bool:
        bottom, right = top + box_h, left + box_w
        if top < 0 or left < 0 or bottom > height or right > width:
            return False
        # the box's nearest point to each dot centre lies outside that dot and its ring
        for x, y in centres:
            if math.hypot(min(max(x, left), right) - x, min(max(y, top), bottom) - y) <= dot_radius:
                return False
        return all(bottom <= t or top >= b or right <= x0 or left >= x1 for t, x0, b, x1 in taken)

    return next((c for c in candidates if fits(*c)), candidates[0])

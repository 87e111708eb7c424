"""The relative-depth prompt: labelled points (a filled dot, a contrasting ring, a letter beside it)."""

from __future__ import annotations

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
    """Each point's dot centred at (x W, y H), its letter to the right (left when near the right border)."""
    scale = px_scale(height, width)
    radius, ring = DOT_RADIUS_PX * scale, RING_PX * scale
    layers: list[Layer] = []
    for p in points:
        cx, cy = p.x * width, p.y * height
        layers.append(paint(disc_coverage(height, width, cx, cy, radius + ring, radius, device), WHITE))
        layers.append(paint(disc_coverage(height, width, cx, cy, radius, device=device), p.color))
        box_h, box_w = label_size(p.label, TEXT_PX * scale, LABEL_PAD_PX * scale)
        gap = radius + ring + LABEL_GAP_PX * scale
        left = round(cx + gap)
        if left + box_w > width:
            left = round(cx - gap) - box_w
        layers.append(
            label_layer(
                height,
                width,
                p.label,
                round(cy - box_h / 2),
                left,
                text_px=TEXT_PX * scale,
                pad_px=LABEL_PAD_PX * scale,
                color=p.color,
                device=device,
            )
        )
    if not layers:
        raise ValueError("points: needs at least one point")
    return stack(layers)

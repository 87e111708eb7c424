"""The composition prompt: an annotated layout of labelled boxes (outlines, a label in each corner)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .color import RGB, hex_to_rgb
from .label import label_layer
from .layer import Layer, paint, stack
from .raster import frame_coverage, px_scale

OUTLINE_PX = 1.0
TEXT_PX = 7.0
LABEL_PAD_PX = 1.0

BOX_COLORS: tuple[RGB, ...] = tuple(
    hex_to_rgb(h) for h in ("#ff0000", "#0050ff", "#00b000", "#ff00ff", "#ff8000", "#00b0b0", "#8000ff")
)
"""Saturated and mutually distinct, so neighbouring boxes stay apart; cycled by box order."""


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    label: str


def layout_layer(
    height: int,
    width: int,
    boxes: Sequence[Box],
    *,
    device: torch.device | None = None,
) -> Layer:
    """Box i outlined in BOX_COLORS[i], its label inside its top-left corner; later boxes on top."""
    if not boxes:
        raise ValueError("layout: needs at least one box")
    scale = px_scale(height, width)
    outline = OUTLINE_PX * scale
    layers: list[Layer] = []
    for i, b in enumerate(boxes):
        color = BOX_COLORS[i % len(BOX_COLORS)]
        x0, y0, x1, y1 = b.x0 * width, b.y0 * height, b.x1 * width, b.y1 * height
        layers.append(paint(frame_coverage(height, width, x0, y0, x1, y1, outline, device), color))
        if b.label:
            layers.append(
                label_layer(
                    height,
                    width,
                    b.label,
                    round(y0 + outline),
                    round(x0 + outline),
                    text_px=TEXT_PX * scale,
                    pad_px=LABEL_PAD_PX * scale,
                    color=color,
                    device=device,
                )
            )
    return stack(layers)

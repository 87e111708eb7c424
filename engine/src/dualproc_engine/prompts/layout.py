"""The composition prompt: an annotated layout of labelled boxes (outlines, a label in each corner)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .color import RGB, hex_to_rgb
from .label import label_layer, label_size
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
    """Box i outlined in BOX_COLORS[i] with its label in the same colour, outlines above labels.

    A label sits just above its box's top-left corner, like a detector's caption, so it covers the scene
    outside the box rather than the object inside; where that leaves the image or meets an earlier label
    it goes inside the top-left corner, then below the box, then inside the bottom-left corner.
    """
    if not boxes:
        raise ValueError("layout: needs at least one box")
    scale = px_scale(height, width)
    outline = OUTLINE_PX * scale
    text_px, pad_px = TEXT_PX * scale, LABEL_PAD_PX * scale
    frames: list[Layer] = []
    labels: list[Layer] = []
    taken: list[tuple[int, int, int, int]] = []
    for i, b in enumerate(boxes):
        color = BOX_COLORS[i % len(BOX_COLORS)]
        x0, y0, x1, y1 = b.x0 * width, b.y0 * height, b.x1 * width, b.y1 * height
        frames.append(paint(frame_coverage(height, width, x0, y0, x1, y1, outline, device), color))
        box_h, box_w = label_size(b.label, text_px, pad_px)
        top, left = _label_corner((x0, y0, x1, y1), (box_h, box_w), (height, width), taken)
        taken.append((top, left, top + box_h, left + box_w))
        labels.append(
            label_layer(
                height, width, b.label, top, left, text_px=text_px, pad_px=pad_px, color=color, device=device
            )
        )
    return stack(labels + frames)


def _label_corner(
    box: tuple[float, float, float, float],
    label: tuple[int, int],
    image: tuple[int, int],
    taken: Sequence[tuple[int, int, int, int]],
) -> tuple[int, int]:
    """(top, left) of the label of `box` (pixels): the first candidate inside the image, clear of `taken`."""
    (x0, y0, _, y1), (box_h, box_w), (height, width) = box, label, image
    left = min(max(round(x0), 0), max(width - box_w, 0))  # long labels slide left to stay inside
    candidates = [
        (round(y0) - box_h, left),  # above, outside
        (round(y0), left),  # inside, top
        (round(y1), left),  # below, outside
        (round(y1) - box_h, left),  # inside, bottom
    ]

    def fits(top: int) -> bool:
        bottom, right = top + box_h, left + box_w
        inside = top >= 0 and bottom <= height
        return inside and all(bottom <= t or top >= b or right <= l0 or left >= l1 for t, l0, b, l1 in taken)

    return next((c for c in candidates if fits(c[0])), candidates[1])

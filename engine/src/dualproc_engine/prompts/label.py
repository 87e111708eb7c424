"""A text label on a small white backing box, placed in pixels and kept inside the image."""

from __future__ import annotations

import torch

from .color import RGB
from .font import text_coverage
from .layer import Layer, over, paint
from .raster import place, rect_coverage

WHITE: RGB = (1.0, 1.0, 1.0)


def label_size(text: str, text_px: float, pad_px: float) -> tuple[int, int]:
    """(height, width) in pixels of the label with its backing box."""
    glyphs = text_coverage(text, text_px)
    pad = max(1, round(pad_px))
    return glyphs.shape[0] + 2 * pad, glyphs.shape[1] + 2 * pad


def label_layer(
    height: int,
    width: int,
    text: str,
    top: int,
    left: int,
    *,
    text_px: float,
    pad_px: float,
    color: RGB,
    background: RGB = WHITE,
    device: torch.device | None = None,
) -> Layer:
    """`text` in `color` on a `background` box whose top-left corner is at (top, left), clamped inside."""
    glyphs = text_coverage(text, text_px).to(device)
    pad = max(1, round(pad_px))
    box_h, box_w = glyphs.shape[0] + 2 * pad, glyphs.shape[1] + 2 * pad
    # whole pixels keep the 5x7 cells crisp; clamping keeps labels of points near a border readable
    top = min(max(top, 0), max(height - box_h, 0))
    left = min(max(left, 0), max(width - box_w, 0))
    box = rect_coverage(height, width, left, top, left + box_w, top + box_h, device)
    ink = place(height, width, glyphs, top + pad, left + pad)
    return over(paint(ink, color), paint(box, background))

"""The line-weight prompt: a sample stroke of a given width on a white band at the bottom."""

from __future__ import annotations

import math

import torch

from .color import RGB
from .layer import Layer, over, paint
from .raster import interval_coverage, pixel_centres, px_scale, rect_coverage, strip_coverage

DEFAULT_BAND_FRAC = 0.125
BAND_MARGIN_PX = 2.0
"""White kept above and below the stroke (px at 64 px), so a thick sample never touches the picture."""

STROKE_SPAN = (0.1, 0.9)
"""The sample runs over this fraction of the width: flat caps clear of the borders."""

BLACK: RGB = (0.0, 0.0, 0.0)
WHITE: RGB = (1.0, 1.0, 1.0)


def stroke_band_height(
    height: int, width: int, width_px: float, band_frac: float = DEFAULT_BAND_FRAC
) -> float:
    """Band height in pixels: `band_frac` of the height, grown when the stroke needs more room."""
    scale = px_scale(height, width)
    return max(band_frac * height, (width_px + 2 * BAND_MARGIN_PX) * scale)


def stroke_layer(
    height: int,
    width: int,
    width_px: float,
    *,
    curve: float = 0.0,
    band_frac: float = DEFAULT_BAND_FRAC,
    color: RGB = BLACK,
    background: RGB = WHITE,
    device: torch.device | None = None,
) -> Layer:
    """A stroke `width_px` thick (px at 64 px, scaled) across the middle of a white bottom band.

    `curve` in [0, 1] bends it into one sine period whose amplitude is that fraction of the room left in
    the band: 0 is a straight line, 1 touches the band's margins.
    """
    scale = px_scale(height, width)
    thickness = width_px * scale
    band_h = stroke_band_height(height, width, width_px, band_frac)
    top = height - band_h
    band = paint(rect_coverage(height, width, 0.0, top, float(width), float(height), device), background)

    xs, ys = pixel_centres(height, width, device)
    x0, x1 = STROKE_SPAN[0] * width, STROKE_SPAN[1] * width
    centre = top + band_h / 2
    amplitude = curve * max(band_h / 2 - thickness / 2 - BAND_MARGIN_PX * scale, 0.0)
    phase = 2 * math.pi * (xs - x0) / (x1 - x0)
    path = centre + amplitude * torch.sin(phase)
    slope = amplitude * 2 * math.pi / (x1 - x0) * torch.cos(phase)
    # vertical offset divided by the path's stretch approximates the normal distance of a gentle curve
    distance = (ys - path) / torch.sqrt(1.0 + slope**2)
    coverage = strip_coverage(distance, thickness) * interval_coverage(xs, x0, x1)
    return over(paint(coverage, color), band)

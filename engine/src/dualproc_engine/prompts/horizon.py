"""The horizon prompt: a straight line across the image at a given height, optionally tilted."""

from __future__ import annotations

import math

import torch

from .color import RGB
from .layer import Layer, paint
from .raster import pixel_centres, px_scale, strip_coverage

DEFAULT_WIDTH_PX = 2.0
"""At 64 px; a 1 px line stayed unlearnable for the embedded judge in the design trial, 2 px was learnt."""

RED: RGB = (1.0, 0.0, 0.0)


def horizon_layer(
    height: int,
    width: int,
    y: float,
    *,
    tilt_deg: float = 0.0,
    width_px: float = DEFAULT_WIDTH_PX,
    color: RGB = RED,
    device: torch.device | None = None,
) -> Layer:
    """A line through (W/2, y H) across the whole width.

    `y` is a fraction of the height from the top, measured at the horizontal centre (the contract's
    `horizon`). The line is y(x) = y + (x - 1/2) tan(tilt_deg) in fractions, the Scenes renderer's
    convention: positive tilt lowers the right end (clockwise on screen, since y grows downward).
    `width_px` is the line's thickness at 64 px, scaled with the image.
    """
    xs, ys = pixel_centres(height, width, device)
    theta = math.radians(tilt_deg)
    # signed distance to the line along its unit normal (-sin t, cos t) in y-down image coordinates
    distance = (ys - y * height) * math.cos(theta) - (xs - width / 2) * math.sin(theta)
    return paint(strip_coverage(distance, width_px * px_scale(height, width)), color)

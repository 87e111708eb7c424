"""The palette prompt: a band of equal colour swatches along the bottom of the image."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .color import RGB
from .layer import Layer
from .raster import interval_coverage, pixel_centres

DEFAULT_BAND_FRAC = 0.125
"""An eighth of the height: 8 px at 64 px, enough for a tiny judge to read each swatch's colour."""


def palette_layer(
    height: int,
    width: int,
    colors: Sequence[RGB],
    *,
    band_frac: float = DEFAULT_BAND_FRAC,
    device: torch.device | None = None,
) -> Layer:
    """Swatch i covers [i W/k, (i+1) W/k] of the bottom `band_frac` of the height, in the given order."""
    if not colors:
        raise ValueError("palette: needs at least one colour")
    xs, ys = pixel_centres(height, width, device)
    band = interval_coverage(ys, height * (1.0 - band_frac), float(height))  # (H, 1)
    k = len(colors)
    # swatch coverages partition the band, so their colours add up without 'over' darkening the seams
    color = torch.zeros(3, height, width, device=device)
    for i, rgb in enumerate(colors):
        swatch = band * interval_coverage(xs, i * width / k, (i + 1) * width / k)
        color = color + torch.tensor(rgb, device=device)[:, None, None] * swatch[None]
    alpha = band.expand(height, width)[None].clone()
    return Layer(color, alpha)

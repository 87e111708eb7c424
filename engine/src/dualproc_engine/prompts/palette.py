"""The palette prompt: a band of equal colour swatches along the bottom of the image, or the same swatches
tiled over it in small strips (`palette_tiles_layer`)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .color import RGB
from .layer import Layer
from .raster import interval_coverage, pixel_centres

DEFAULT_BAND_FRAC = 0.125
"""An eighth of the height: 8 px at 64 px, enough for a tiny judge to read each swatch's colour."""
TILE_GRID = 4
"""Tiles per side: one small strip in each quarter of the width and height (16 px cells at 64 px, the
image token of the embedded judges)."""
TILE_SWATCH_FRAC = 1 / 32
"""Side of one tiled swatch as a fraction of the image side: 2 px at 64 px."""


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


def palette_tiles_layer(
    height: int,
    width: int,
    colors: Sequence[RGB],
    *,
    device: torch.device | None = None,
) -> Layer:
    """The swatches as a small strip (k squares of TILE_SWATCH_FRAC of the side, narrower where k of them
    would not fit in a cell, left to right) at the centre of each cell of a TILE_GRID x TILE_GRID grid,
    covering about 9% of the image for five colours.

    Why: with the strip at the bottom a judge must compare colours across the whole picture, and a tiny one
    weighs the colours next to the strip most (docs/judge.md, "palette locality"); with a strip in every
    cell each part of the image sits next to the swatches, so the comparison is local everywhere."""
    if not colors:
        raise ValueError("palette: needs at least one colour")
    xs, ys = pixel_centres(height, width, device)
    k = len(colors)
    cell_h, cell_w = height / TILE_GRID, width / TILE_GRID
    side = min(TILE_SWATCH_FRAC * min(height, width), cell_w / k)  # many colours: narrower, within the cell
    rows = torch.stack(
        [
            interval_coverage(ys, (r + 0.5) * cell_h - side / 2, (r + 0.5) * cell_h + side / 2)
            for r in range(TILE_GRID)
        ]
    ).sum(0)  # (H, 1)
    color = torch.zeros(3, height, width, device=device)
    alpha = torch.zeros(1, height, width, device=device)
    for i, rgb in enumerate(colors):
        lefts = [(c + 0.5) * cell_w - k * side / 2 + i * side for c in range(TILE_GRID)]
        columns = torch.stack([interval_coverage(xs, left, left + side) for left in lefts]).sum(0)  # (1, W)
        swatch = rows * columns
        color = color + torch.tensor(rgb, device=device)[:, None, None] * swatch[None]
        alpha = alpha + swatch[None]
    return Layer(color, alpha)

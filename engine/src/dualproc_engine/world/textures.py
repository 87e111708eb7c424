"""Ground textures: a brightness multiplier per pixel, around 1, that tells grass from sand from water.

Each is a few percent of brightness (so the ground stays within a few CIEDE2000 units of its palette
colour and the horizon remains the strongest edge) on top of a depth gradient, lighter toward the horizon
like distant ground under haze. Patterns follow perspective where it is cheap: sand ripples and water
streaks crowd toward the horizon.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .raster import Grid, smooth_noise


def _depth(grid: Grid, horizon_px: Tensor) -> Tensor:
    """0 at the horizon, 1 at the bottom edge; (N, S, 1)."""
    return ((grid.ys - horizon_px) / (grid.size - horizon_px).clamp_min(1.0)).clamp(0.0, 1.0)


def _centred(noise: Tensor) -> Tensor:
    return noise - 0.5


def _triangle_wave(v: Tensor) -> Tensor:
    """|2 frac(v) - 1|: a periodic ramp in [0, 1] from exactly rounded operations only."""
    return (2.0 * (v - v.floor()) - 1.0).abs()


def grass(grid: Grid, seeds: Tensor, depth: Tensor) -> Tensor:
    blades = _centred(smooth_noise(seeds, 10, 40, grid.size, salt=1))
    patches = _centred(smooth_noise(seeds, 3, 4, grid.size, salt=2))
    return 0.10 * blades + 0.06 * patches


def sand(grid: Grid, seeds: Tensor, depth: Tensor) -> Tensor:
    wobble = smooth_noise(seeds, 3, 3, grid.size, salt=3)
    ripples = _triangle_wave(2.5 / (depth + 0.12) + 1.5 * wobble)
    return 0.08 * (ripples - 0.5)


def snow(grid: Grid, seeds: Tensor, depth: Tensor) -> Tensor:
    return 0.05 * _centred(smooth_noise(seeds, 4, 4, grid.size, salt=4))


def water(grid: Grid, seeds: Tensor, depth: Tensor) -> Tensor:
    streaks = _centred(smooth_noise(seeds, 28, 3, grid.size, salt=5))
    swell = _triangle_wave(1.5 / (depth + 0.1)) - 0.5
    return 0.10 * streaks + 0.04 * swell


def rock(grid: Grid, seeds: Tensor, depth: Tensor) -> Tensor:
    blotches = _centred(smooth_noise(seeds, 6, 6, grid.size, salt=6))
    grain = _centred(smooth_noise(seeds, 16, 16, grid.size, salt=7))
    return 0.12 * blotches + 0.07 * grain


TEXTURES = {"grass": grass, "sand": sand, "snow": snow, "water": water, "rock": rock}


def ground_shading(grid: Grid, kinds: list[str], seeds: Tensor, horizon_px: Tensor) -> Tensor:
    """Brightness multiplier (B, S, S) of the ground of each image."""
    depth = _depth(grid, horizon_px)
    shading = (1.04 - 0.08 * depth).expand(len(kinds), grid.size, grid.size).clone()
    for kind, texture in TEXTURES.items():
        rows = [i for i, k in enumerate(kinds) if k == kind]
        if rows:
            index = torch.tensor(rows)
            shading[index] += texture(grid, seeds[index], depth[index])
    return shading

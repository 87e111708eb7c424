"""Antialiased coverage of primitives over a batch of images, by broadcasting over pixel coordinates.

All geometry is in pixels, with pixel (row r, column c) centred at (c + 0.5, r + 0.5). Coverage is the
fraction of a pixel inside a shape, approximated by a box filter across the nearest edge (clamp(0.5 - d)),
so a shape's ink per unit of edge length is exact and sub-pixel positions and widths stay visible.

Speed: every function takes per-image parameters as (B, 1, 1) tensors and the coordinates as a row (1, 1, W)
and a column (1, H, 1); anything that depends on x only or y only stays that small, so most primitives
cost three or four full-image operations. Only exactly rounded operations (+ - * / sqrt min max) touch
full images, so an image is bit-identical whether it is rendered alone or in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Grid:
    """Pixel-centre coordinates of a square image: xs is (1, 1, S), ys is (1, S, 1)."""

    size: int
    xs: Tensor
    ys: Tensor

    @classmethod
    def square(cls, size: int) -> Grid:
        centres = torch.arange(size, dtype=torch.float32) + 0.5
        return cls(size, centres.view(1, 1, size), centres.view(1, size, 1))


def column(values: list[float]) -> Tensor:
    """Per-image parameters as a (B, 1, 1) float tensor."""
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1)


def part_coverage(
    grid: Grid, ellipse: Tensor, cx: Tensor, y0: Tensor, y1: Tensor, hw0: Tensor, hw1: Tensor
) -> Tensor:
    """Coverage (B, S, S) of upright parts: trapezoids (half-width hw0 at y0 to hw1 at y1) or ellipses.

    `ellipse` is a (B, 1, 1) bool; all else (B, 1, 1) pixels. A part with y1 <= y0 covers nothing.
    """
    ys = grid.ys
    height = (y1 - y0).clamp_min(1e-6)
    t = ((ys - y0) / height).clamp(0.0, 1.0)  # (B, S, 1)
    trapezoid = hw0 + (hw1 - hw0) * t
    # Normalise the horizontal distance to a slanted side into a distance across it.
    slope = (hw1 - hw0) / height
    across = torch.where(ellipse, torch.ones_like(slope), 1.0 / torch.sqrt(1.0 + slope * slope))
    u = ((ys - 0.5 * (y0 + y1)) / (0.5 * height)).clamp(-1.0, 1.0)
    semi = torch.maximum(hw0, hw1) * torch.sqrt((1.0 - u * u).clamp_min(0.0))
    half_width = torch.where(ellipse, semi, trapezoid)  # (B, S, 1)
    # Vertical coverage of the part's rows: partial at y0 and y1, never more than the part's height.
    rows = torch.minimum(torch.minimum(ys - y0 + 0.5, y1 - ys + 0.5), height).clamp(0.0, 1.0)
    rows = torch.where(y1 > y0, rows, torch.zeros_like(rows))
    edge = half_width * across + 0.5  # (B, S, 1)
    cover = edge - (grid.xs - cx).abs() * across  # the one (B, S, S) subtraction
    # A part thinner than a pixel covers at most its own width.
    cover = torch.minimum(cover, 2.0 * half_width).clamp_(0.0, 1.0)
    return cover.mul_(rows)


def disc_coverage(grid: Grid, cx: Tensor, cy: Tensor, radius: Tensor) -> Tensor:
    """Coverage (B, S, S) of discs; a negative radius covers nothing."""
    d2 = (grid.xs - cx).square() + (grid.ys - cy).square()
    return (radius + 0.5 - d2.sqrt_()).clamp_(0.0, 1.0)


def circle_sdf(xs: Tensor, ys: Tensor, cx: Tensor, cy: Tensor, radius: Tensor) -> Tensor:
    """Signed distance (N, H, W) to circles, negative inside; xs (N or 1, 1, W), ys (N or 1, H, 1)."""
    d2 = (xs - cx).square() + (ys - cy).square()
    return d2.sqrt_().sub_(radius)


def polygon_sdf(xs: Tensor, ys: Tensor, vertices: Tensor) -> Tensor:
    """Signed distance (N, H, W) to simple polygons (N, V, 2), negative inside (even-odd rule).

    xs (N or 1, 1, W) and ys (N or 1, H, 1) are pixel-centre coordinates: the whole image, or a window
    around each polygon (much cheaper: a line-art shape covers a tenth of the image). All edges are
    handled at once on (N, V, H, W) tensors: a dozen tensor operations whatever V is.
    """
    a = vertices.unsqueeze(-1).unsqueeze(-1)  # (N, V, 2, 1, 1)
    b = vertices.roll(-1, dims=1).unsqueeze(-1).unsqueeze(-1)
    ax, ay, bx, by = a[:, :, 0], a[:, :, 1], b[:, :, 0], b[:, :, 1]  # (N, V, 1, 1)
    ex, ey = bx - ax, by - ay
    inv = 1.0 / (ex * ex + ey * ey).clamp_min(1e-12)
    wx, wy = xs.unsqueeze(1) - ax, ys.unsqueeze(1) - ay  # (N, V, 1, W) and (N, V, H, 1)
    # Closest point on each edge: parameter t in [0, 1] along it.
    t = (wx * (ex * inv) + wy * (ey * inv)).clamp_(0.0, 1.0)
    dx = wx - t * ex
    dy = t.mul_(ey).neg_().add_(wy)
    nearest = dx.square_().addcmul_(dy, dy).amin(dim=1)
    # Even-odd count of edges crossed by a ray to the left: y-only except the final comparison.
    straddles = (ys.unsqueeze(1) >= ay) != (ys.unsqueeze(1) >= by)  # (N, V, H, 1)
    x_cross = ax + (ys.unsqueeze(1) - ay) * ex / torch.where(ey == 0, torch.ones_like(ey), ey)
    crossings = ((xs.unsqueeze(1) < x_cross) & straddles).sum(dim=1)
    sign = 1.0 - 2.0 * (crossings % 2).to(torch.float32)
    return nearest.sqrt_().mul_(sign)


def fill_from_sdf(sdf: Tensor) -> Tensor:
    return (0.5 - sdf).clamp_(0.0, 1.0)


def stroke_from_sdf(sdf: Tensor, half_width: Tensor) -> Tensor:
    """Coverage of a stroke of width 2 * half_width centred on the outline; ink across it is exact."""
    return (half_width + 0.5 - sdf.abs()).clamp_(0.0, 1.0)


def hash_noise(seeds: Tensor, rows: int, cols: int, salt: int) -> Tensor:
    """Uniform [0, 1) values on a (B, rows, cols) lattice from integer hashing (seeds: (B,) int64)."""
    mask = 0xFFFFFFFF
    iy = torch.arange(rows, dtype=torch.int64).view(1, rows, 1)
    ix = torch.arange(cols, dtype=torch.int64).view(1, 1, cols)
    h = (
        (seeds.view(-1, 1, 1) & mask) * 0x9E3779B1 + ix * 0x85EBCA77 + iy * 0x27D4EB2F + salt * 0x165667B1
    ) & mask
    h = ((h ^ (h >> 15)) * 0x2C1B3C6D) & mask
    h = ((h ^ (h >> 12)) * 0x297A2D39) & mask
    h = h ^ (h >> 15)
    return h.to(torch.float32) * (1.0 / 2**32)


def smooth_noise(seeds: Tensor, rows: int, cols: int, size: int, salt: int) -> Tensor:
    """Value noise (B, S, S) in [0, 1): a hashed lattice laid over the image, bilinearly interpolated.

    The lattice is in image fractions, so a texture looks the same at every resolution.
    """
    lattice = hash_noise(seeds, rows + 1, cols + 1, salt)
    r0, fr = _lattice_steps(rows, size)
    c0, fc = _lattice_steps(cols, size)
    top, bottom = lattice[:, r0, :], lattice[:, r0 + 1, :]
    by_row = top + (bottom - top) * fr.view(1, size, 1)  # (B, S, cols + 1)
    left, right = by_row[:, :, c0], by_row[:, :, c0 + 1]
    return left + (right - left) * fc.view(1, 1, size)


def _lattice_steps(cells: int, size: int) -> tuple[Tensor, Tensor]:
    """For each pixel centre: the lattice cell it falls in and the fraction across that cell."""
    position = (torch.arange(size, dtype=torch.float32) + 0.5) * (cells / size)
    index = position.floor().clamp_(0, cells - 1)
    return index.to(torch.int64), position - index


def blend_(images: Tensor, color: Tensor, coverage: Tensor) -> Tensor:
    """images (B, 3, S, S) <- images + coverage * (color - images); color (B, 3, 1, 1) or (B, 3, S, S)."""
    return images.lerp_(color.expand_as(images), coverage.unsqueeze(1))

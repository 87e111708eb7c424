"""Antialiased coverage of simple shapes on a pixel grid.

Pixel (i, j) is the unit square [j, j+1] x [i, i+1] with its centre at (j + 0.5, i + 0.5); shapes are given in
continuous pixel coordinates, origin top-left, y down. Coverage is the fraction of a pixel inside the shape
under a box filter: exact for axis-aligned edges, and measured along the edge normal (a close approximation)
for tilted and curved ones. Coverage never depends on the image, so these tensors carry no gradient.
"""

from __future__ import annotations

import torch

REFERENCE_SIZE_PX = 64
"""Lengths in overlay specs are pixels at this image side and scale with the real side."""


def px_scale(height: int, width: int) -> float:
    """Factor from pixels-at-64 px to pixels of this image (the shorter side rules for non-square images)."""
    return min(height, width) / REFERENCE_SIZE_PX


def pixel_centres(
    height: int, width: int, device: torch.device | None = None, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """(xs of shape (1, W), ys of shape (H, 1)): pixel centres, broadcastable against each other."""
    xs = torch.arange(width, device=device, dtype=dtype)[None, :] + 0.5
    ys = torch.arange(height, device=device, dtype=dtype)[:, None] + 0.5
    return xs, ys


def interval_coverage(
    centres: torch.Tensor, lo: float | torch.Tensor, hi: float | torch.Tensor
) -> torch.Tensor:
    """Length of [c - 0.5, c + 0.5] inside [lo, hi] for each coordinate c: a 1-D box filter."""
    lo_t = torch.as_tensor(lo, dtype=centres.dtype, device=centres.device)
    hi_t = torch.as_tensor(hi, dtype=centres.dtype, device=centres.device)
    return (torch.minimum(centres + 0.5, hi_t) - torch.maximum(centres - 0.5, lo_t)).clamp(0.0, 1.0)


def rect_coverage(
    height: int,
    width: int,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """(H, W) coverage of the axis-aligned rectangle [x0, x1] x [y0, y1] (pixels); exact."""
    xs, ys = pixel_centres(height, width, device, dtype)
    return interval_coverage(ys, y0, y1) * interval_coverage(xs, x0, x1)


def frame_coverage(
    height: int,
    width: int,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    thickness: float,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """(H, W) coverage of a rectangle's outline drawn inside [x0, x1] x [y0, y1] with the given thickness."""
    outer = rect_coverage(height, width, x0, y0, x1, y1, device, dtype)
    t = min(thickness, (x1 - x0) / 2, (y1 - y0) / 2)
    inner = rect_coverage(height, width, x0 + t, y0 + t, x1 - t, y1 - t, device, dtype)
    # inner lies inside outer, so the difference of box-filtered areas is the outline's area
    return (outer - inner).clamp(0.0, 1.0)


def strip_coverage(signed_distance: torch.Tensor, thickness: float) -> torch.Tensor:
    """Coverage of a strip of the given thickness centred on the zero set of a signed distance field."""
    half = thickness / 2
    return interval_coverage(signed_distance, -half, half)


def disc_coverage(
    height: int,
    width: int,
    cx: float,
    cy: float,
    radius: float,
    inner_radius: float = 0.0,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """(H, W) coverage of a disc (or of the ring between inner_radius and radius) centred at (cx, cy)."""
    xs, ys = pixel_centres(height, width, device, dtype)
    distance = torch.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
    if inner_radius <= 0:
        # centre pixels of a disc are fully covered; measuring from -inf avoids a dip at distance 0
        return interval_coverage(distance, float("-inf"), radius)
    return interval_coverage(distance, inner_radius, radius)


def place(canvas_height: int, canvas_width: int, patch: torch.Tensor, top: int, left: int) -> torch.Tensor:
    """A (H, W) canvas of zeros with the (h, w) patch at integer (top, left), clipped at the borders."""
    canvas = patch.new_zeros(canvas_height, canvas_width)
    h, w = patch.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, canvas_height), min(left + w, canvas_width)
    if y1 > y0 and x1 > x0:
        canvas[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    return canvas

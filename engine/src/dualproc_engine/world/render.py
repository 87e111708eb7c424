"""Rendering scenes to images: batched, vectorised, deterministic, at any square size.

`render(scenes)` returns float images (B, 3, H, W) in [0, 1]. `render_full(scenes)` also returns which
object owns each pixel (the topmost with coverage >= 1/2) and copies of the scenes with each object's
`visible_point` filled in. Scenes are drawn in chunks of `CHUNK` images so that the working set stays in
cache (a few MB at 64 px); landscapes and line art are drawn by their own modules.

Owner ids: an object's index in `scene.objects` (>= 0), or OWNER_SKY / OWNER_PAPER (-1), OWNER_GROUND (-2),
OWNER_CELESTIAL (-3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .attributes import SceneAttributes
from .draw_landscape import OWNER_CELESTIAL, OWNER_GROUND, OWNER_SKY, draw_landscapes
from .draw_lineart import OWNER_PAPER, draw_lineart

__all__ = [
    "render",
    "render_full",
    "Rendering",
    "to_uint8",
    "visible_points",
    "OWNER_SKY",
    "OWNER_PAPER",
    "OWNER_GROUND",
    "OWNER_CELESTIAL",
]

CHUNK = 64


@dataclass
class Rendering:
    images: Tensor
    """(B, 3, S, S) float32 in [0, 1]."""
    owner: Tensor
    """(B, S, S) int16: object index, or a negative OWNER_* id."""
    scenes: list[SceneAttributes]
    """Copies of the input scenes with `visible_point` filled in at this size."""


def _size_of(scenes: Sequence[SceneAttributes], size_px: int | None) -> int:
    if size_px is not None:
        return int(size_px)
    sizes = {s.size_px for s in scenes}
    if len(sizes) != 1:
        raise ValueError(
            f"scenes have different size_px {sorted(sizes)}; pass size_px to render them together"
        )
    return sizes.pop()


def _draw(scenes: Sequence[SceneAttributes], size: int, with_owner: bool) -> tuple[Tensor, Tensor | None]:
    images = torch.empty(len(scenes), 3, size, size)
    owner = torch.empty(len(scenes), size, size, dtype=torch.int16) if with_owner else None
    for kind, draw in (("landscape", draw_landscapes), ("lineart", draw_lineart)):
        members = [i for i, s in enumerate(scenes) if s.kind == kind]
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            chunk_images, chunk_owner = draw([scenes[i] for i in chunk], size, with_owner)
            index = torch.tensor(chunk)
            images[index] = chunk_images
            if owner is not None and chunk_owner is not None:
                owner[index] = chunk_owner
    return images, owner


def render(scenes: Sequence[SceneAttributes], size_px: int | None = None) -> Tensor:
    """Images (B, 3, S, S) float32 in [0, 1]; S defaults to the scenes' own size_px."""
    if not scenes:
        raise ValueError("render needs at least one scene")
    images, _ = _draw(scenes, _size_of(scenes, size_px), with_owner=False)
    return images


def render_full(scenes: Sequence[SceneAttributes], size_px: int | None = None) -> Rendering:
    """Images, per-pixel owners, and scenes with every object's `visible_point` computed from them."""
    if not scenes:
        raise ValueError("render_full needs at least one scene")
    size = _size_of(scenes, size_px)
    images, owner = _draw(scenes, size, with_owner=True)
    assert owner is not None
    points = visible_points(owner, [len(s.objects) for s in scenes])
    updated = []
    for scene, scene_points in zip(scenes, points, strict=True):
        objects = [
            dataclasses.replace(o, visible_point=p) for o, p in zip(scene.objects, scene_points, strict=True)
        ]
        updated.append(dataclasses.replace(scene, objects=objects))
    return Rendering(images, owner, updated)


def visible_points(owner: Tensor, counts: list[int]) -> list[list[tuple[float, float] | None]]:
    """For each object, the centre of an owned pixel (fractions), or None when nothing of it is visible.

    The pixel is the one nearest to the centroid of the object's visible area among its interior pixels
    (whose 8 neighbours it also owns), falling back to any owned pixel for slivers: a point well inside the
    object, which is what a labelled point on it should be.
    """
    import torch.nn.functional as F

    batch, size, _ = owner.shape
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    ys, xs = coords.view(1, size, 1), coords.view(1, 1, size)
    result: list[list[tuple[float, float] | None]] = [[None] * n for n in counts]
    for k in range(max(counts, default=0)):
        mask = (owner == k).to(torch.float32)
        interior = -F.max_pool2d(-mask.unsqueeze(1), 3, stride=1, padding=1).squeeze(1)
        has_interior = interior.flatten(1).sum(1) > 0
        candidates = torch.where(has_interior.view(-1, 1, 1), interior, mask)
        area = candidates.flatten(1).sum(1).clamp_min(1.0).view(-1, 1, 1)
        mean_x = (candidates * xs).flatten(1).sum(1).view(-1, 1, 1) / area
        mean_y = (candidates * ys).flatten(1).sum(1).view(-1, 1, 1) / area
        score = (xs - mean_x).square() + (ys - mean_y).square() + (1.0 - candidates) * 1e9
        best = score.flatten(1).argmin(1).tolist()
        present = (mask.flatten(1).sum(1) > 0).tolist()
        for b in range(batch):
            if k < counts[b] and present[b]:
                row, col = divmod(best[b], size)
                result[b][k] = ((col + 0.5) / size, (row + 0.5) / size)
    return result


def to_uint8(images: Tensor) -> np.ndarray:
    """(B, 3, S, S) floats in [0, 1] -> (B, S, S, 3) uint8, rounding to nearest."""
    return (images.clamp(0, 1) * 255.0).round_().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()

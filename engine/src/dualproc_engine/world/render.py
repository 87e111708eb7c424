"""Rendering scenes to images: batched, vectorised, deterministic, at any square size.

`render(scenes)` returns float images (B, 3, H, W) in [0, 1]. `render_full(scenes)` also returns which
object owns each pixel (the topmost with coverage >= 1/2) and copies of the scenes with each object's
`visible_point` filled in. Scenes are drawn in chunks of `CHUNK` images so that the working set stays in
cache (a few MB at 64 px); landscapes and line art are drawn by their own modules.

Threads: a chunk is small, so intra-op threads gain little, and on a busy machine they cost 10-50x in
contention (measured here); callers rendering at scale should `torch.set_num_threads(1)` and use processes.

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
from .draw_landscape import OWNER_CELESTIAL, OWNER_GROUND, OWNER_SKY, draw_landscapes, layer_count
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
"""Images per chunk at 64 px; fewer at larger sizes, so a chunk's working set stays a few MB."""


def _chunk_size(size: int) -> int:
    return max(8, min(CHUNK, CHUNK * 64 * 64 // (size * size)))


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


def _cost(scene: SceneAttributes) -> int:
    return layer_count(scene) if scene.kind == "landscape" else len(scene.objects)


Points = list[tuple[float, float] | None]


def _draw(
    scenes: Sequence[SceneAttributes], size: int, with_owner: bool
) -> tuple[Tensor, Tensor | None, list[Points]]:
    """Images, and with `with_owner` the owners and every object's visible point, chunk by chunk."""
    images = torch.empty(len(scenes), 3, size, size)
    owner = torch.empty(len(scenes), size, size, dtype=torch.int16) if with_owner else None
    points: list[Points] = [[] for _ in scenes]
    for kind, draw in (("landscape", draw_landscapes), ("lineart", draw_lineart)):
        # Scenes of similar complexity share a chunk: a chunk costs as much as its busiest image.
        members = sorted((i for i, s in enumerate(scenes) if s.kind == kind), key=lambda i: _cost(scenes[i]))
        step = _chunk_size(size)
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            chunk_images, chunk_owner = draw([scenes[i] for i in chunk], size, with_owner)
            index = torch.tensor(chunk)
            images.index_copy_(0, index, chunk_images)
            if owner is not None and chunk_owner is not None:
                owner.index_copy_(0, index, chunk_owner)
                # Per chunk, while the owners are still in cache.
                found = visible_points(chunk_owner, [len(scenes[i].objects) for i in chunk])
                for i, scene_points in zip(chunk, found, strict=True):
                    points[i] = scene_points
    return images, owner, points


def render(scenes: Sequence[SceneAttributes], size_px: int | None = None) -> Tensor:
    """Images (B, 3, S, S) float32 in [0, 1]; S defaults to the scenes' own size_px."""
    if not scenes:
        raise ValueError("render needs at least one scene")
    images, _, _ = _draw(scenes, _size_of(scenes, size_px), with_owner=False)
    return images


def render_full(scenes: Sequence[SceneAttributes], size_px: int | None = None) -> Rendering:
    """Images, per-pixel owners, and scenes with every object's `visible_point` computed from them."""
    if not scenes:
        raise ValueError("render_full needs at least one scene")
    size = _size_of(scenes, size_px)
    images, owner, points = _draw(scenes, size, with_owner=True)
    assert owner is not None
    updated = []
    for scene, scene_points in zip(scenes, points, strict=True):
        objects = [
            dataclasses.replace(o, visible_point=p) for o, p in zip(scene.objects, scene_points, strict=True)
        ]
        updated.append(dataclasses.replace(scene, objects=objects))
    return Rendering(images, owner, updated)


def visible_points(owner: Tensor, counts: list[int]) -> list[list[tuple[float, float] | None]]:
    """For each object, the centre of an owned pixel (fractions), or None when nothing of it is visible.

    The pixel is the one nearest to the centroid of the object's interior pixels (those whose 8
    neighbours it also owns), or of all its pixels for a sliver with no interior: a point well inside
    the object, which is what a labelled point on it should be. All objects of all images are handled
    in one pass (per-object sums by `bincount`, the nearest pixel by a `scatter_reduce` min).
    """
    import torch.nn.functional as F

    batch, size, _ = owner.shape
    slots = max(counts, default=0)
    result: list[list[tuple[float, float] | None]] = [[None] * n for n in counts]
    if slots == 0:
        return result
    own = owner.to(torch.int64)
    # Only pixels some object owns take part (a fraction of the image).
    chosen = (own >= 0).view(-1).nonzero().squeeze(1)
    image, pixel = chosen // (size * size), chosen % (size * size)
    row, col = pixel // size, pixel % size
    owners = own.view(-1)[chosen]
    ids = image * slots + owners
    bins = batch * slots  # one bin per (image, object)
    # Interior: all 8 neighbours share the owner; outside the image counts as the same (replicate).
    padded = F.pad(owner.to(torch.float32).unsqueeze(1), (1, 1, 1, 1), mode="replicate").view(-1)
    side = size + 2
    centre = (image * side + row + 1) * side + col + 1
    inner = torch.ones_like(chosen, dtype=torch.bool)
    for offset in (-side - 1, -side, -side + 1, -1, 1, side - 1, side, side + 1):
        inner &= padded[centre + offset] == owners
    xs = col.to(torch.float64) + 0.5
    ys = row.to(torch.float64) + 0.5
    inner_weight = inner.to(torch.float64)

    def sums(weights: Tensor) -> Tensor:
        return torch.bincount(ids, weights=weights, minlength=bins)

    area_in = sums(inner_weight)
    use_inner = area_in > 0
    area = torch.where(use_inner, area_in, torch.bincount(ids, minlength=bins).to(torch.float64)).clamp_min(
        1.0
    )
    mean_x = torch.where(use_inner, sums(xs * inner_weight), sums(xs)) / area
    mean_y = torch.where(use_inner, sums(ys * inner_weight), sums(ys)) / area
    candidate = inner | ~use_inner[ids]
    d2 = (xs - mean_x[ids]).square_() + (ys - mean_y[ids]).square_()
    # One integer key per pixel: distance first, then pixel index, so the minimum is unique.
    key = (d2 * 1024.0).round_().to(torch.int64) * (size * size) + pixel
    never = torch.iinfo(torch.int64).max
    key = torch.where(candidate, key, never)
    best = torch.full((bins,), never, dtype=torch.int64).scatter_reduce(0, ids, key, "amin").tolist()
    for b, n in enumerate(counts):
        for k in range(n):
            found = best[b * slots + k]
            if found != never:
                row, col = divmod(found % (size * size), size)
                result[b][k] = ((col + 0.5) / size, (row + 0.5) / size)
    return result


def to_uint8(images: Tensor) -> np.ndarray:
    """(B, 3, S, S) floats in [0, 1] -> (B, S, S, 3) uint8 arrays, the bytes `images.save_png` writes."""
    from ..images import to_uint8 as quantise

    return quantise(images).permute(0, 2, 3, 1).contiguous().numpy()

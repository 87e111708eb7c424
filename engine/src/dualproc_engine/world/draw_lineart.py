"""Drawing a batch of line art: flat paper, then each shape's optional fill and its antialiased outline.

Shapes are drawn slot by slot (slot j = every image's j-th shape). Within a slot, the signed distance to
the outline is computed per kind of shape on just the images that have that kind there, so a star's ten
edges are paid for only where a star is drawn.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .attributes import SceneAttributes
from .coloring import lineart_colors
from .colorspace import hex_to_rgb
from .raster import Grid, blend_, circle_sdf, column, fill_from_sdf, polygon_sdf, stroke_from_sdf
from .shapes import circle_outline, polygon_outline

OWNER_PAPER = -1
_FAR = 1e4  # signed distance of "no shape here": covers nothing, fill or stroke


def _outline_sdf(grid: Grid, scenes: list[SceneAttributes], slots: int, half_strokes: list[float]) -> Tensor:
    """Signed distance (B, K, S, S) to each image's k-th outline, _FAR where there is none.

    Distances are computed for all shapes of one kind at once, only in a square window around each
    shape (its box plus the antialiasing pixel), then scattered into the canvas: outside the window
    nothing is covered anyway. Batching by kind keeps the number of tensor operations per chunk small.
    """
    size = grid.size
    sdf = torch.full((len(scenes) * slots * size * size,), _FAR)
    groups: dict[str, list[tuple[int, int]]] = {}
    for b, scene in enumerate(scenes):
        for k, obj in enumerate(scene.objects):
            groups.setdefault(obj.kind, []).append((b, k))
    steps = torch.arange(size, dtype=torch.int64)
    for kind, members in groups.items():
        boxes = [scenes[b].objects[k].box for b, k in members]
        window = min(size, 3 + max(math.ceil(max(x1 - x0, y1 - y0) * size) for x0, y0, x1, y1 in boxes))
        origin_x = torch.tensor([min(max(math.floor(box[0] * size) - 1, 0), size - window) for box in boxes])
        origin_y = torch.tensor([min(max(math.floor(box[1] * size) - 1, 0), size - window) for box in boxes])
        n = len(members)
        cols = origin_x.view(n, 1, 1) + steps[:window].view(1, 1, window)  # (n, 1, w) pixel columns
        rows = origin_y.view(n, 1, 1) + steps[:window].view(1, window, 1)  # (n, w, 1) pixel rows
        xs, ys = cols.to(torch.float32) + 0.5, rows.to(torch.float32) + 0.5
        half = [half_strokes[b] / size for b, _ in members]
        if kind == "circle":
            circles = [circle_outline(box, h) for box, h in zip(boxes, half, strict=True)]
            cx, cy, r = (column([c[i] * size for c in circles]) for i in range(3))
            local = circle_sdf(xs, ys, cx, cy, r)
        else:
            polygons = [polygon_outline(kind, box, h) for box, h in zip(boxes, half, strict=True)]
            local = polygon_sdf(xs, ys, torch.tensor(polygons, dtype=torch.float32) * size)
        layer = torch.tensor([b * slots + k for b, k in members]).view(n, 1, 1)
        flat = (layer * size + rows) * size + cols
        sdf[flat.view(-1)] = local.reshape(-1)
    return sdf.view(len(scenes), slots, size, size)


def draw_lineart(scenes: list[SceneAttributes], size: int, with_owner: bool) -> tuple[Tensor, Tensor | None]:
    """Images (B, 3, S, S) in [0, 1] and, if asked, the owner of each pixel (B, S, S) int16."""
    grid = Grid.square(size)
    batch = len(scenes)
    colors = [lineart_colors(s.palette.colors) for s in scenes]
    paper = torch.tensor([c.paper for c in colors], dtype=torch.float32).view(batch, 3, 1, 1)
    ink = torch.tensor([hex_to_rgb(c.ink) for c in colors], dtype=torch.float32).view(batch, 3, 1, 1)
    images = paper.expand(batch, 3, size, size).contiguous()
    owner = torch.full((batch, size, size), OWNER_PAPER, dtype=torch.int16) if with_owner else None
    # Widths are given at the scene's own size; a render at another size scales them.
    half_strokes = [0.5 * (s.stroke_width_px or 1.0) * size / s.size_px for s in scenes]
    half_stroke = column(half_strokes)
    slots = max((len(s.objects) for s in scenes), default=0)
    sdf_all = _outline_sdf(grid, scenes, slots, half_strokes)
    for j in range(slots):
        sdf = sdf_all[:, j]
        fills = [_fill(s, c.ink, j) for s, c in zip(scenes, colors, strict=True)]
        stroke = stroke_from_sdf(sdf, half_stroke)
        fill = None
        if any(f is not None for f in fills):
            filled = column([0.0 if f is None else 1.0 for f in fills])
            fill_rgb = torch.tensor([f or (0.0, 0.0, 0.0) for f in fills], dtype=torch.float32).view(
                batch, 3, 1, 1
            )
            fill = fill_from_sdf(sdf).mul_(filled)
            blend_(images, fill_rgb, fill)
        blend_(images, ink, stroke)
        if owner is not None:
            ids = torch.tensor([j if j < len(s.objects) else OWNER_PAPER for s in scenes], dtype=torch.int16)
            covered = stroke if fill is None else torch.maximum(fill, stroke)
            owner.copy_(torch.where(covered >= 0.5, ids.view(batch, 1, 1), owner))
    return images.clamp_(0.0, 1.0), owner


def _fill(scene: SceneAttributes, ink: str, j: int) -> tuple[float, float, float] | None:
    """The fill colour of the j-th shape, or None: a shape whose colour is the ink is outline only."""
    if j >= len(scene.objects) or scene.objects[j].color == ink:
        return None
    return hex_to_rgb(scene.objects[j].color)

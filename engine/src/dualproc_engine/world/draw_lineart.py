"""Drawing a batch of line art: flat paper, then each shape's optional fill and its antialiased outline.

Shapes are drawn slot by slot (slot j = every image's j-th shape). Within a slot, the signed distance to
the outline is computed per kind of shape on just the images that have that kind there, so a star's ten
edges are paid for only where a star is drawn.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .attributes import SceneAttributes
from .coloring import lineart_colors
from .colorspace import hex_to_rgb
from .raster import Grid, blend_, circle_sdf, column, fill_from_sdf, polygon_sdf, stroke_from_sdf
from .shapes import lineart_outline

OWNER_PAPER = -1
_FAR = 1e4  # signed distance of "no shape here": covers nothing, fill or stroke


def _slot_sdf(grid: Grid, scenes: list[SceneAttributes], j: int, half_strokes: list[float]) -> Tensor:
    """Signed distance (B, S, S) to each image's j-th outline, _FAR where there is none."""
    size = grid.size
    sdf = torch.full((len(scenes), size, size), _FAR)
    groups: dict[str, list[int]] = {}
    for b, scene in enumerate(scenes):
        if j < len(scene.objects):
            groups.setdefault(scene.objects[j].kind, []).append(b)
    for kind, members in groups.items():
        outlines = [lineart_outline(kind, scenes[b].objects[j].box, half_strokes[b] / size) for b in members]
        index = torch.tensor(members)
        if kind == "circle":
            cx, cy, r = (column([o[i] * size for o in outlines]) for i in range(3))  # type: ignore[index]
            sdf[index] = circle_sdf(grid, cx, cy, r)
        else:
            vertices = torch.tensor(outlines, dtype=torch.float32) * size
            sdf[index] = polygon_sdf(grid, vertices)
    return sdf


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
    for j in range(max((len(s.objects) for s in scenes), default=0)):
        sdf = _slot_sdf(grid, scenes, j, half_strokes)
        fills = [_fill(s, c.ink, j) for s, c in zip(scenes, colors, strict=True)]
        filled = column([0.0 if f is None else 1.0 for f in fills])
        fill_rgb = torch.tensor([f or (0.0, 0.0, 0.0) for f in fills], dtype=torch.float32).view(
            batch, 3, 1, 1
        )
        fill = fill_from_sdf(sdf.clone()).mul_(filled)
        if any(f is not None for f in fills):
            blend_(images, fill_rgb, fill)
        stroke = stroke_from_sdf(sdf, half_stroke)
        blend_(images, ink, stroke)
        if owner is not None:
            ids = torch.tensor([j if j < len(s.objects) else OWNER_PAPER for s in scenes], dtype=torch.int16)
            covered = torch.maximum(fill, stroke) >= 0.5
            owner.copy_(torch.where(covered, ids.view(batch, 1, 1), owner))
    return images.clamp_(0.0, 1.0), owner


def _fill(scene: SceneAttributes, ink: str, j: int) -> tuple[float, float, float] | None:
    """The fill colour of the j-th shape, or None: a shape whose colour is the ink is outline only."""
    if j >= len(scene.objects) or scene.objects[j].color == ink:
        return None
    return hex_to_rgb(scene.objects[j].color)

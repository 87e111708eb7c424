"""Drawing a batch of landscapes, back to front: sky, stars, sun or moon, mountains, ground, objects.

Objects are drawn slot by slot: slot j holds every image's j-th object (nearest last), so one broadcast
operation draws a part of an object in all images at once; images with fewer objects get empty parts.
The per-image numbers are gathered in Python first (a few dozen floats per image), then every pixel
operation runs on the whole batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .attributes import SceneAttributes
from .coloring import LandscapeColors, landscape_colors
from .layout import horizon_y
from .raster import Grid, blend_, column, part_coverage
from .shapes import Part, detail_hash, landscape_parts
from .textures import ground_shading

OWNER_SKY = -1
OWNER_GROUND = -2
OWNER_CELESTIAL = -3

_EMPTY_PART = (0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # y1 < y0: covers nothing
_PART_FIELDS = 10  # ellipse, cx, y0, y1, hw0, hw1, r, g, b, unused


@dataclass
class _Celestial:
    """A disc minus an optional cutting disc (the moon's crescent), and a halo around it."""

    cx: float = 0.0
    cy: float = 0.0
    radius: float = -1.0
    cut_dx: float = 0.0
    cut_dy: float = 0.0
    cut_radius: float = -1.0
    halo: float = 0.0
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _celestial(scene: SceneAttributes, colors: LandscapeColors) -> _Celestial:
    horizon, tilt = scene.horizon or 0.5, scene.horizon_tilt_deg
    highest = horizon - 0.5 * abs(math.tan(math.radians(tilt)))  # top of the horizon line over the width
    x = 0.15 + 0.7 * detail_hash(scene.seed, 11)
    if scene.celestial == "sun" and scene.sky == "sunset":  # half set, sitting on the horizon
        radius = 0.06 + 0.04 * detail_hash(scene.seed, 12)
        return _Celestial(x, horizon_y(horizon, tilt, x) + 0.2 * radius, radius, color=colors.sun)
    if scene.celestial not in ("sun", "moon"):
        return _Celestial()
    radius = (0.045 + 0.03 * detail_hash(scene.seed, 12)) * (0.8 if scene.celestial == "moon" else 1.0)
    radius = max(0.012, min(radius, (highest - 0.06) / 2.2))
    low, high = 0.02 + radius, max(0.02 + radius, highest - 0.04 - radius)
    y = low + (high - low) * 0.6 * detail_hash(scene.seed, 13)  # upper part of the sky
    if scene.celestial == "moon":
        return _Celestial(x, y, radius, 0.45 * radius, -0.25 * radius, 0.85 * radius, color=colors.moon)
    return _Celestial(x, y, radius, halo=0.3 if scene.sky == "day" else 0.0, color=colors.sun)


def _stars(scene: SceneAttributes, size: int, image: int) -> tuple[list[int], list[float]]:
    """Flat pixel indices (into a (B * S * S,) buffer) and brightness of the night's stars."""
    if scene.sky != "night":
        return [], []
    horizon, tilt = scene.horizon or 0.5, scene.horizon_tilt_deg
    highest = horizon - 0.5 * abs(math.tan(math.radians(tilt)))
    side = max(1, round(size / 64))  # a star is one pixel at 64 px, scaled with the image
    indices: list[int] = []
    alphas: list[float] = []
    for k in range(8 + int(9 * detail_hash(scene.seed, 20))):
        x = int(detail_hash(scene.seed, 100 + 3 * k) * (size - side))
        y = int(detail_hash(scene.seed, 101 + 3 * k) * (highest - 0.04) * size)
        if y < 0:
            continue
        alpha = 0.55 + 0.45 * detail_hash(scene.seed, 102 + 3 * k)
        for dy in range(side):
            for dx in range(side):
                indices.append((image * size + y + dy) * size + x + dx)
                alphas.append(alpha)
    return indices, alphas


def _part_row(part: Part, size: int) -> tuple[float, ...]:
    r, g, b = part.color
    return (
        float(part.ellipse),
        part.cx * size,
        part.y0 * size,
        part.y1 * size,
        part.hw0 * size,
        part.hw1 * size,
        r,
        g,
        b,
        0.0,
    )


def _slot_table(parts_per_image: list[list[list[Part]]], size: int) -> tuple[Tensor, list[list[bool]]]:
    """(slots, parts, fields, B) table of part parameters, and which (slot, part) cells hold any part."""
    batch = len(parts_per_image)
    slots = max((len(objs) for objs in parts_per_image), default=0)
    depth = max((len(p) for objs in parts_per_image for p in objs), default=0)
    rows = [_EMPTY_PART] * (slots * depth * batch)
    used = [[False] * depth for _ in range(slots)]
    for b, objects in enumerate(parts_per_image):
        for j, parts in enumerate(objects):
            for p, part in enumerate(parts):
                rows[(j * depth + p) * batch + b] = _part_row(part, size)
                used[j][p] = True
    table = torch.tensor(rows, dtype=torch.float32).view(slots, depth, batch, _PART_FIELDS)
    return table.permute(0, 1, 3, 2).contiguous(), used


def _draw_objects(
    images: Tensor,
    owner: Tensor | None,
    grid: Grid,
    table: Tensor,
    used: list[list[bool]],
    ids: list[list[int]],
) -> None:
    """Draw object slots in order; `ids[j][b]` is the owner id of slot j's object in image b."""
    batch = images.shape[0]
    for j, cells in enumerate(used):
        covered: Tensor | None = None
        for p, any_part in enumerate(cells):
            if not any_part:
                continue
            f = table[j, p].view(_PART_FIELDS, batch, 1, 1)
            cover = part_coverage(grid, f[0] > 0.5, f[1], f[2], f[3], f[4], f[5])
            blend_(images, f[6:9].permute(1, 0, 2, 3), cover)
            if owner is not None:
                covered = cover if covered is None else torch.maximum(covered, cover, out=covered)
        if owner is not None and covered is not None:
            slot_ids = torch.tensor(ids[j], dtype=owner.dtype).view(batch, 1, 1)
            owner.copy_(torch.where(covered >= 0.5, slot_ids, owner))


def draw_landscapes(
    scenes: list[SceneAttributes], size: int, with_owner: bool
) -> tuple[Tensor, Tensor | None]:
    """Images (B, 3, S, S) in [0, 1] and, if asked, the owner of each pixel (B, S, S) int16."""
    grid = Grid.square(size)
    batch = len(scenes)
    palette = [landscape_colors(s.palette.colors, s.sky or "day", s.ground or "grass") for s in scenes]
    horizon_px = column([(s.horizon or 0.5) * size for s in scenes])
    slope = column([math.tan(math.radians(s.horizon_tilt_deg)) for s in scenes])

    images = _sky(grid, scenes, palette, horizon_px)
    owner = torch.full((batch, size, size), OWNER_SKY, dtype=torch.int16) if with_owner else None
    _draw_stars(images, scenes, palette, size)
    _draw_celestial(images, owner, grid, scenes, palette)

    mountains, standing, mountain_ids, standing_ids = [], [], [], []
    for s, colors in zip(scenes, palette, strict=True):
        centre = [
            horizon_y(s.horizon or 0.5, s.horizon_tilt_deg, 0.5 * (o.box[0] + o.box[2])) for o in s.objects
        ]
        parts = [
            landscape_parts(o, k, s.seed, colors, s.palette.colors, centre[k])
            for k, o in enumerate(s.objects)
        ]
        mountains.append([p for p, o in zip(parts, s.objects, strict=True) if o.kind == "mountain"])
        standing.append([p for p, o in zip(parts, s.objects, strict=True) if o.kind != "mountain"])
        mountain_ids.append([k for k, o in enumerate(s.objects) if o.kind == "mountain"])
        standing_ids.append([k for k, o in enumerate(s.objects) if o.kind != "mountain"])

    table, used = _slot_table(mountains, size)
    _draw_objects(images, owner, grid, table, used, _ids_by_slot(mountain_ids, len(used)))
    _draw_ground(images, owner, grid, scenes, palette, horizon_px, slope)
    table, used = _slot_table(standing, size)
    _draw_objects(images, owner, grid, table, used, _ids_by_slot(standing_ids, len(used)))
    return images.clamp_(0.0, 1.0), owner


def _ids_by_slot(ids: list[list[int]], slots: int) -> list[list[int]]:
    """Transpose per-image object ids into per-slot lists (an empty cell's id is never used)."""
    return [[row[j] if j < len(row) else -100 for row in ids] for j in range(slots)]


def _sky(
    grid: Grid, scenes: list[SceneAttributes], palette: list[LandscapeColors], horizon_px: Tensor
) -> Tensor:
    batch, size = len(scenes), grid.size
    top = torch.tensor([c.sky_top for c in palette], dtype=torch.float32).view(batch, 3, 1, 1)
    bottom = torch.tensor([c.sky_bottom for c in palette], dtype=torch.float32).view(batch, 3, 1, 1)
    sunset = column([1.0 if s.sky == "sunset" else 0.0 for s in scenes])
    t = (grid.ys / horizon_px).clamp(0.0, 1.0)
    ramp = t + sunset * (t * t - t)  # sunset: the glow gathers near the horizon
    sky = top + (bottom - top) * ramp.unsqueeze(1)  # (B, 3, S, 1)
    return sky.expand(batch, 3, size, size).contiguous()


def _draw_stars(
    images: Tensor, scenes: list[SceneAttributes], palette: list[LandscapeColors], size: int
) -> None:
    indices: list[int] = []
    alphas: list[float] = []
    for b, scene in enumerate(scenes):
        i, a = _stars(scene, size, b)
        indices += i
        alphas += a
    if not indices:
        return
    alpha = torch.zeros(len(scenes) * size * size)
    alpha[torch.tensor(indices)] = torch.tensor(alphas)
    star = torch.tensor([c.star for c in palette], dtype=torch.float32).view(-1, 3, 1, 1)
    blend_(images, star, alpha.view(len(scenes), size, size))


def _draw_celestial(
    images: Tensor,
    owner: Tensor | None,
    grid: Grid,
    scenes: list[SceneAttributes],
    palette: list[LandscapeColors],
) -> None:
    bodies = [_celestial(s, c) for s, c in zip(scenes, palette, strict=True)]
    if all(body.radius < 0 for body in bodies):
        return
    size = grid.size

    def col(name: str) -> Tensor:
        return column([getattr(body, name) * size for body in bodies])

    cx, cy, radius = col("cx"), col("cy"), col("radius")
    distance = ((grid.xs - cx).square() + (grid.ys - cy).square()).sqrt_()
    color = torch.tensor([body.color for body in bodies], dtype=torch.float32).view(-1, 3, 1, 1)
    if any(body.halo > 0 for body in bodies):
        halo = column([body.halo for body in bodies])
        glow = (halo * (1.0 - distance / (3.5 * radius).clamp_min(1e-3))).clamp_(0.0, 1.0)
        blend_(images, color, glow)
    cover = (radius + 0.5 - distance).clamp_(0.0, 1.0)
    if any(body.cut_radius > 0 for body in bodies):
        cut_x, cut_y = cx + col("cut_dx"), cy + col("cut_dy")
        cut = col("cut_radius") + 0.5 - ((grid.xs - cut_x).square() + (grid.ys - cut_y).square()).sqrt_()
        cover.mul_(1.0 - cut.clamp_(0.0, 1.0))
    blend_(images, color, cover)
    if owner is not None:
        owner.masked_fill_(cover >= 0.5, OWNER_CELESTIAL)


def _draw_ground(
    images: Tensor,
    owner: Tensor | None,
    grid: Grid,
    scenes: list[SceneAttributes],
    palette: list[LandscapeColors],
    horizon_px: Tensor,
    slope: Tensor,
) -> None:
    batch = len(scenes)
    line = horizon_px + (grid.xs - 0.5 * grid.size) * slope  # (B, 1, S): the horizon's row in each column
    cover = (grid.ys - line + 0.5).clamp_(0.0, 1.0)
    seeds = torch.tensor([s.seed & 0xFFFFFFFF for s in scenes], dtype=torch.int64)
    shading = ground_shading(grid, [s.ground or "grass" for s in scenes], seeds, horizon_px)
    ground = torch.tensor([c.ground for c in palette], dtype=torch.float32).view(batch, 3, 1, 1)
    blend_(images, (ground * shading.unsqueeze(1)).clamp_(0.0, 1.0), cover)
    if owner is not None:
        owner.masked_fill_(cover >= 0.5, OWNER_GROUND)

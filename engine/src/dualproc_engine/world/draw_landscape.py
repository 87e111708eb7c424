"""Drawing a batch of landscapes, back to front: sky, stars, sun or moon, ground, mountains, objects.

Every scene's objects are flattened into *layers*, one per part, back to front; layer l of every image
is drawn by one broadcast operation over the batch (images with fewer layers get empty ones, and the
renderer groups scenes with similar layer counts into a chunk, so little is wasted). Mountains are drawn
after the ground but masked to where the sky is, which is what the ground covering their feet would do,
and keeps all objects in one sequence. The per-image numbers are gathered in Python first (a few dozen
floats per image), then every pixel operation runs on the whole batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .attributes import SceneAttributes
from .coloring import LandscapeColors, landscape_colors
from .layout import horizon_y
from .raster import Grid, blend_, column, hash_noise, part_coverage
from .shapes import Part, detail_hash, landscape_parts
from .textures import ground_shading

OWNER_SKY = -1
OWNER_GROUND = -2
OWNER_CELESTIAL = -3
HORIZON_BAND = 0.85
"""The sky's gradient reaches its horizon colour at this fraction of the sky's height."""


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


PART_COUNTS = {"mountain": 2, "tree": 2, "house": 3, "person": 3, "animal": 4}


def layer_count(scene: SceneAttributes) -> int:
    """About how many parts a landscape has: the renderer groups scenes of similar counts into chunks."""
    return sum(PART_COUNTS.get(o.kind, 4) for o in scene.objects)


class _Layer(NamedTuple):
    part: Part
    owner_id: int
    behind_ground: bool  # mountains: drawn only where the sky is, as if the ground covered their feet


def _layers(scene: SceneAttributes, colors: LandscapeColors) -> list[_Layer]:
    """The scene's parts back to front: mountains first (they stand behind the ground), then the rest."""
    layers: list[_Layer] = []
    front: list[_Layer] = []
    for k, obj in enumerate(scene.objects):
        centre = horizon_y(scene.horizon or 0.5, scene.horizon_tilt_deg, 0.5 * (obj.box[0] + obj.box[2]))
        parts = landscape_parts(obj, k, scene.seed, colors, scene.palette.colors, centre)
        mountain = obj.kind == "mountain"
        (layers if mountain else front).extend(_Layer(p, k, mountain) for p in parts)
    return layers + front


_EMPTY_LAYER = (0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -100.0)  # y1 < y0: covers nothing
_FIELDS = 11  # ellipse, cx, y0, y1, hw0, hw1, r, g, b, behind_ground, owner id


def _layer_table(per_image: list[list[_Layer]], size: int) -> Tensor:
    """(L, fields, B) parameters of layer l of every image, in pixels; empty where an image has fewer."""
    batch = len(per_image)
    count = max((len(layers) for layers in per_image), default=0)
    rows = [_EMPTY_LAYER] * (count * batch)
    for b, layers in enumerate(per_image):
        for j, layer in enumerate(layers):
            p = layer.part
            rows[j * batch + b] = (
                float(p.ellipse),
                p.cx * size,
                p.y0 * size,
                p.y1 * size,
                p.hw0 * size,
                p.hw1 * size,
                *p.color,
                float(layer.behind_ground),
                float(layer.owner_id),
            )
    table = torch.tensor(rows, dtype=torch.float32).view(count, batch, _FIELDS)
    return table.permute(0, 2, 1).contiguous()


def _draw_layers(images: Tensor, owner: Tensor | None, grid: Grid, table: Tensor, sky_cover: Tensor) -> None:
    """Draw every layer over the whole batch, mountains masked to the sky."""
    batch = images.shape[0]
    for layer in table:
        f = layer.view(_FIELDS, batch, 1, 1)
        cover = part_coverage(grid, f[0] > 0.5, f[1], f[2], f[3], f[4], f[5])
        behind = f[9] > 0.5
        if bool(behind.any()):
            cover.mul_(torch.where(behind, sky_cover, 1.0))
        blend_(images, f[6:9].permute(1, 0, 2, 3), cover)
        if owner is not None:
            owner.copy_(torch.where(cover >= 0.5, f[10].to(owner.dtype), owner))


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
    ground_cover = _draw_ground(images, owner, grid, scenes, palette, horizon_px, slope)
    table = _layer_table([_layers(s, c) for s, c in zip(scenes, palette, strict=True)], size)
    _draw_layers(images, owner, grid, table, 1.0 - ground_cover)
    return images.clamp_(0.0, 1.0), owner


def _sky(
    grid: Grid, scenes: list[SceneAttributes], palette: list[LandscapeColors], horizon_px: Tensor
) -> Tensor:
    """Vertical three-stop gradient: top, middle, horizon colour; a sunset's ramp gathers at the horizon."""
    batch, size = len(scenes), grid.size

    def stop(name: str) -> Tensor:
        return torch.tensor([getattr(c, name) for c in palette], dtype=torch.float32).view(batch, 3, 1, 1)

    top, middle, bottom = stop("sky_top"), stop("sky_middle"), stop("sky_bottom")
    sunset = column([1.0 if s.sky == "sunset" else 0.0 for s in scenes])
    # The ramp ends a little above the horizon: a band of the horizon colour, so that the sky's last
    # rows change slowly and the sky/ground edge stays the strongest edge even in a short sky.
    t = (grid.ys / (HORIZON_BAND * horizon_px)).clamp(0.0, 1.0)
    ramp = (t + sunset * (t * t.sqrt() - t)).unsqueeze(1)  # sunset: t^1.5
    upper = (2.0 * ramp).clamp(max=1.0)
    lower = (2.0 * ramp - 1.0).clamp(min=0.0)
    sky = top + (middle - top) * upper + (bottom - middle) * lower  # (B, 3, S, 1)
    return sky.expand(batch, 3, size, size).contiguous()


MAX_STARS = 16


def _draw_stars(
    images: Tensor, scenes: list[SceneAttributes], palette: list[LandscapeColors], size: int
) -> None:
    """8 to 16 stars per night sky, one pixel at 64 px (scaled), above the horizon's highest point.

    Positions and brightness come from hashing the scene's seed, all in a few tensor operations.
    """
    night = [b for b, s in enumerate(scenes) if s.sky == "night"]
    if not night:
        return
    n = len(night)
    seeds = torch.tensor([scenes[b].seed & 0xFFFFFFFF for b in night], dtype=torch.int64)
    draws = hash_noise(seeds, 4, MAX_STARS, salt=20)  # rows: count, x, y, brightness
    highest = column(
        [
            (s.horizon or 0.5) - 0.5 * abs(math.tan(math.radians(s.horizon_tilt_deg)))
            for s in (scenes[b] for b in night)
        ]
    ).view(n, 1)
    side = max(1, round(size / 64))
    shown = torch.arange(MAX_STARS).view(1, -1) < 8 + (9 * draws[:, 0, :1]).floor()
    x = (draws[:, 1] * (size - side)).floor().to(torch.int64)
    y = (draws[:, 2] * ((highest - 0.04) * size).clamp_min(0.0)).floor().to(torch.int64)
    brightness = (0.55 + 0.45 * draws[:, 3]) * shown
    image = torch.tensor(night).view(n, 1)
    alpha = torch.zeros(len(scenes), size, size)
    for dy in range(side):
        for dx in range(side):
            alpha[image.expand(n, MAX_STARS), y + dy, x + dx] = brightness
    star = torch.tensor([c.star for c in palette], dtype=torch.float32).view(-1, 3, 1, 1)
    blend_(images, star, alpha)


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
) -> Tensor:
    """Draw the ground; returns its coverage (B, S, S)."""
    batch = len(scenes)
    line = horizon_px + (grid.xs - 0.5 * grid.size) * slope  # (B, 1, S): the horizon's row in each column
    cover = (grid.ys - line + 0.5).clamp_(0.0, 1.0)
    seeds = torch.tensor([s.seed & 0xFFFFFFFF for s in scenes], dtype=torch.int64)
    shading = ground_shading(grid, [s.ground or "grass" for s in scenes], seeds, horizon_px)
    ground = torch.tensor([c.ground for c in palette], dtype=torch.float32).view(batch, 3, 1, 1)
    blend_(images, (ground * shading.unsqueeze(1)).clamp_(0.0, 1.0), cover)
    if owner is not None:
        owner.masked_fill_(cover >= 0.5, OWNER_GROUND)
    return cover

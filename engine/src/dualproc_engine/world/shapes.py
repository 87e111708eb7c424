"""What each kind of object looks like, as geometry relative to its box (fractions of the side).

An object's box in the attributes is enough to draw it: the renderer and the layout both go through this
module. Landscape objects are stacks of upright *parts*, each a trapezoid (a box or a triangle is a special
case) or an ellipse, symmetric about a vertical axis; this is what lets the renderer cover a whole batch with
a few broadcast operations. Line-art shapes are a circle or a polygon whose outline (the stroke's centre line)
is the box inset by half the stroke width.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

from .attributes import SceneObject
from .coloring import LandscapeColors, detail_color, roof_color
from .colorspace import RGB, hex_to_rgb

STAR_INNER = 0.45
"""Inner over outer radius of a line-art star (a regular star is 0.38; fatter arms read better at 64 px)."""
_STAR_WIDTH = 2 * math.cos(math.radians(18))  # in outer radii
_STAR_HEIGHT = 1 + math.cos(math.radians(36))


class Part(NamedTuple):
    """An upright trapezoid (half-widths hw0 at y0, hw1 at y1) or an ellipse inscribed in its box.

    A named tuple rather than a dataclass: a batch builds a dozen per image, and this is 3x cheaper.
    """

    ellipse: bool
    cx: float
    y0: float
    y1: float
    hw0: float
    hw1: float
    color: RGB


def detail_hash(seed: int, salt: int) -> float:
    """A number in [0, 1) from (seed, salt) by splitmix64 mixing: cheap, and the same on every platform."""
    z = (seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


@lru_cache(maxsize=8192)
def _rgb(color: str) -> RGB:
    return hex_to_rgb(color)


def _detail(body: str, preferred: str, darker: bool) -> RGB:
    return _rgb(detail_color(body, preferred, darker))


def _roof(palette: tuple[str, ...], body: str) -> RGB:
    return _rgb(roof_color(palette, body))


def landscape_parts(
    obj: SceneObject,
    salt: int,
    seed: int,
    colors: LandscapeColors,
    palette: tuple[str, ...],
    horizon_at_cx: float,
) -> list[Part]:
    """The parts of a landscape object, drawn in order (later parts over earlier ones)."""
    x0, y0, x1, y1 = obj.box
    cx, w, h = 0.5 * (x0 + x1), x1 - x0, y1 - y0
    body = _rgb(obj.color)
    dark = _detail(obj.color, colors.dark_accent, True)
    variant = detail_hash(seed, salt)
    if obj.kind == "mountain":
        height = horizon_at_cx - y0
        slope = (w / 2) / max(height, 1e-6)
        below = 0.2  # run the flanks under the ground, which covers them
        parts = [Part(False, cx, y0, horizon_at_cx + below, 0.0, w / 2 + below * slope, body)]
        if variant < 0.4 and height > 0.12:
            cap = 0.3 * height
            parts.append(
                Part(
                    False, cx, y0, y0 + cap, 0.0, cap * slope, _detail(obj.color, colors.light_accent, False)
                )
            )
        return parts
    if obj.kind == "tree":
        if variant < 0.5:  # conifer
            return [
                Part(False, cx, y0 + 0.7 * h, y1, 0.09 * w, 0.09 * w, dark),
                Part(False, cx, y0, y0 + 0.8 * h, 0.0, 0.5 * w, body),
            ]
        return [
            Part(False, cx, y0 + 0.5 * h, y1, 0.08 * w, 0.1 * w, dark),
            Part(True, cx, y0, y0 + 0.72 * h, 0.5 * w, 0.5 * w, body),
        ]
    if obj.kind == "house":
        door_x = cx + (0.18 if variant < 0.5 else -0.18) * w
        return [
            Part(False, cx, y0 + 0.42 * h, y1, 0.42 * w, 0.42 * w, body),
            Part(False, cx, y0, y0 + 0.45 * h, 0.0, 0.5 * w, _roof(palette, obj.color)),
            Part(False, door_x, y1 - 0.3 * h, y1, 0.08 * w, 0.08 * w, dark),
        ]
    if obj.kind == "person":
        return [
            Part(False, cx, y0 + 0.58 * h, y1, 0.3 * w, 0.3 * w, dark),
            Part(False, cx, y0 + 0.22 * h, y0 + 0.62 * h, 0.35 * w, 0.5 * w, body),
            Part(
                True, cx, y0, y0 + 0.24 * h, 0.3 * w, 0.3 * w, _detail(obj.color, colors.light_accent, False)
            ),
        ]
    if obj.kind == "animal":
        facing = 1.0 if variant < 0.5 else -1.0
        return [
            Part(False, cx - facing * 0.3 * w, y0 + 0.55 * h, y1, 0.05 * w, 0.05 * w, body),
            Part(False, cx + facing * 0.14 * w, y0 + 0.55 * h, y1, 0.05 * w, 0.05 * w, body),
            Part(True, cx - facing * 0.08 * w, y0 + 0.28 * h, y0 + 0.72 * h, 0.38 * w, 0.38 * w, body),
            Part(True, cx + facing * 0.35 * w, y0, y0 + 0.42 * h, 0.15 * w, 0.15 * w, body),
        ]
    raise ValueError(f"not a landscape object: {obj.kind!r}")


LINEART_ASPECTS = {
    "circle": 1.0,
    "square": 1.0,
    "triangle": 2 / math.sqrt(3),  # equilateral
    "star": _STAR_WIDTH / _STAR_HEIGHT,
    "house": 0.9,
    "tree": 0.75,
}


def lineart_aspect(kind: str) -> float:
    """Width over height of a line-art shape's outline."""
    return LINEART_ASPECTS[kind]


def _path_box(
    box: tuple[float, float, float, float], half_stroke: float
) -> tuple[float, float, float, float]:
    """The stroke's centre line runs half a stroke inside the box (which holds the whole stroke)."""
    return box[0] + half_stroke, box[1] + half_stroke, box[2] - half_stroke, box[3] - half_stroke


def circle_outline(box: tuple[float, float, float, float], half_stroke: float) -> tuple[float, float, float]:
    """(cx, cy, r) of a line-art circle's centre line."""
    x0, y0, x1, y1 = _path_box(box, half_stroke)
    return 0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * min(x1 - x0, y1 - y0)


def polygon_outline(
    kind: str, box: tuple[float, float, float, float], half_stroke: float
) -> list[tuple[float, float]]:
    """Vertices (x, y) of a line-art polygon's centre line."""
    x0, y0, x1, y1 = _path_box(box, half_stroke)
    cx, w, h = 0.5 * (x0 + x1), x1 - x0, y1 - y0
    if kind == "square":
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if kind == "triangle":
        return [(cx, y0), (x1, y1), (x0, y1)]
    if kind == "star":
        radius = w / _STAR_WIDTH
        cy = y0 + radius
        points = []
        for k in range(10):
            r = radius if k % 2 == 0 else radius * STAR_INNER
            angle = math.radians(-90 + 36 * k)
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        return points
    if kind == "house":
        eaves = y0 + 0.42 * h
        return [(cx, y0), (x1, eaves), (x1, y1), (x0, y1), (x0, eaves)]
    if kind == "tree":
        canopy, trunk = y0 + 0.72 * h, 0.13 * w
        return [
            (cx, y0),
            (x1, canopy),
            (cx + trunk, canopy),
            (cx + trunk, y1),
            (cx - trunk, y1),
            (cx - trunk, canopy),
            (x0, canopy),
        ]
    raise ValueError(f"not a line-art polygon: {kind!r}")

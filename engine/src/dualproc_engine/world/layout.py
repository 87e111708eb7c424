"""Where objects go: ground-plane perspective for landscapes, non-crowding placement for line art.

Landscape perspective (a pinhole camera over flat ground, horizon at eye level): an object standing at
distance d has its base `(1 - horizon) / d` below the horizon line, so d = 1 puts the base on the bottom
edge and d -> infinity on the horizon, and its height is `ratio * (base - horizon)` where `ratio` is the
object's height over the camera's height (a person ~1: heads stay near the horizon, as in a photograph).
So the farther, the smaller and the closer to the horizon. Mountains stand on the horizon itself, far
behind everything (distance 100-200). `distance` in the attributes is this d.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .attributes import LANDSCAPE_OBJECTS, LINEART_OBJECTS, SceneObject
from .coloring import ColorPicker, LandscapeColors, LineArtColors
from .shapes import lineart_aspect

MIN_HEIGHT = 0.06
"""Smallest object height (fraction of the side): about 4 px at 64 px."""
TOP_MARGIN = 0.03
MAX_MOUNTAIN_COVER = 0.45
"""Mountains stand on at most this share of the horizon's width."""
MAX_HORIZON_COVER = 0.6
"""Mountains and objects rising above the horizon hide at most this share of its width (see below)."""
MAX_WIDTH = 0.5
"""Widest object on the ground (fraction of the side): a near house may not fill the picture."""


@dataclass(frozen=True)
class Proportions:
    """Height over camera height, and width over height, of a kind of object (uniform ranges)."""

    ratio: tuple[float, float]
    aspect: tuple[float, float]
    weight: float


PROPORTIONS = {
    "tree": Proportions((1.6, 2.6), (0.45, 0.7), 0.35),
    "house": Proportions((1.1, 1.6), (1.0, 1.35), 0.2),
    "person": Proportions((0.85, 1.05), (0.3, 0.36), 0.25),
    "animal": Proportions((0.45, 0.7), (1.3, 1.6), 0.2),
}


def horizon_y(horizon: float, tilt_deg: float, x: float) -> float:
    """Height of the horizon line at column x (fractions; the line passes through (0.5, horizon))."""
    return horizon + (x - 0.5) * math.tan(math.radians(tilt_deg))


def _r4(x: float) -> float:
    return round(x, 4)


class HorizonCover:
    """Which stretches of the horizon's width objects stand in front of (a union of intervals)."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    def covered(self) -> float:
        total, end = 0.0, 0.0
        for x0, x1 in sorted(self.intervals):
            start = max(x0, end)
            if x1 > start:
                total += x1 - start
                end = x1
        return total

    def would_cover(self, x0: float, x1: float) -> float:
        self.intervals.append((x0, x1))
        total = self.covered()
        self.intervals.pop()
        return total

    def add(self, x0: float, x1: float) -> None:
        self.intervals.append((x0, x1))


def mountains(
    rng: random.Random,
    horizon: float,
    tilt_deg: float,
    colors: Callable[[], str],
    count: int,
    cover: HorizonCover,
    required: bool = False,
) -> list[SceneObject]:
    """`count` mountains on the horizon, together covering at most MAX_MOUNTAIN_COVER of it (when a
    mountain cannot fit it is left out, unless `required`: asked-for kinds always appear)."""
    out: list[SceneObject] = []
    for _ in range(count):
        for attempt in range(20):
            half_width = rng.uniform(0.12, 0.28)
            # Wholly inside the width, so that the box carries the mountain's full geometry.
            cx = rng.uniform(half_width, 1.0 - half_width)
            x0, x1 = cx - half_width, cx + half_width
            if cover.would_cover(x0, x1) <= MAX_MOUNTAIN_COVER or (required and attempt == 19):
                break
        else:
            continue
        cover.add(x0, x1)
        base = horizon_y(horizon, tilt_deg, cx)
        # Broad rather than spiky: no steeper than about 40 degrees on a square image.
        height = min(rng.uniform(0.2, 0.6) * (base - TOP_MARGIN), rng.uniform(0.45, 0.85) * half_width)
        y1 = max(horizon_y(horizon, tilt_deg, x0), horizon_y(horizon, tilt_deg, x1))
        box = (_r4(x0), _r4(base - height), _r4(x1), _r4(y1))
        out.append(SceneObject("mountain", colors(), box, round(rng.uniform(100, 200), 3)))
    return out


def _fits(ratio: float, horizon: float, min_height: float) -> tuple[float, float] | None:
    """Range of the base's offset below the horizon for which the object is visible and fits."""
    ground = 1.0 - horizon
    low = min_height / ratio
    high = 0.92 * ground
    if ratio > 1.0:  # the top rises above the horizon: keep it inside the image
        high = min(high, (horizon - TOP_MARGIN) / (ratio - 1.0))
    return (low, high) if low < high else None


def ground_object(
    rng: random.Random, kind: str, horizon: float, tilt_deg: float, color: str, min_height: float = MIN_HEIGHT
) -> SceneObject | None:
    """One object standing on the ground at a random distance, or None if this kind cannot fit."""
    props = PROPORTIONS[kind]
    ratio = rng.uniform(*props.ratio)
    span = _fits(ratio, horizon, min_height)
    if span is None:
        return None
    # Skewed toward the horizon: many small far objects, a few large near ones.
    offset = span[0] + (span[1] - span[0]) * rng.random() ** 2
    height = ratio * offset
    width = rng.uniform(*props.aspect) * height
    if width > MAX_WIDTH:
        return None
    cx = rng.uniform(width / 2 + 0.01, 1.0 - width / 2 - 0.01)
    base = horizon_y(horizon, tilt_deg, cx) + offset
    if base > 0.995 or base - height < 0.0:  # a tilted horizon can push the extremes out
        return None
    box = (_r4(cx - width / 2), _r4(base - height), _r4(cx + width / 2), _r4(base))
    distance = (1.0 - horizon) / offset
    return SceneObject(kind, color, box, round(distance, 4))


def _crosses_horizon(obj: SceneObject, horizon: float, tilt_deg: float) -> bool:
    return obj.box[1] < horizon_y(horizon, tilt_deg, 0.5 * (obj.box[0] + obj.box[2]))


def landscape_objects(
    rng: random.Random,
    horizon: float,
    tilt_deg: float,
    colors: LandscapeColors,
    kinds: list[str] | None = None,
    color_rng: random.Random | None = None,
) -> list[SceneObject]:
    """Mountains and ground objects, farthest first. `kinds` asks for exactly these kinds (in any order).

    Objects rising above the horizon may together hide at most MAX_HORIZON_COVER of its width, so the
    horizon stays measurable; an object that would hide more is placed again (farther, or elsewhere).
    """
    if kinds is None:
        n_mountains = rng.choices((0, 1, 2, 3), weights=(0.25, 0.35, 0.25, 0.15))[0]
        n_ground = rng.choices((1, 2, 3, 4, 5, 6), weights=(0.15, 0.25, 0.25, 0.15, 0.12, 0.08))[0]
        ground_kinds = [_weighted_kind(rng) for _ in range(n_ground)]
    else:
        unknown = [k for k in kinds if k not in LANDSCAPE_OBJECTS]
        if unknown:
            raise ValueError(f"landscape objects are {LANDSCAPE_OBJECTS}, got {unknown}")
        n_mountains = kinds.count("mountain")
        ground_kinds = [k for k in kinds if k != "mountain"]
    cover = HorizonCover()
    # Colours from their own stream, so that positions do not depend on them. Mountains pick first:
    # large areas show unused palette colours best.
    picker = ColorPicker(color_rng or rng, colors.used)
    objects = mountains(
        rng,
        horizon,
        tilt_deg,
        partial(picker.pick, colors.mountain_choices),
        n_mountains,
        cover,
        kinds is not None,
    )
    for kind in ground_kinds:
        color = picker.pick(colors.object_choices)
        for attempt in range(40):
            # Asked-for kinds must appear: the last attempts accept a smaller object...
            min_height = MIN_HEIGHT if kinds is None or attempt < 35 else 0.02
            obj = ground_object(rng, kind, horizon, tilt_deg, color, min_height)
            if obj is None:
                continue
            crosses = _crosses_horizon(obj, horizon, tilt_deg)
            # ... and give up on the horizon's share.
            if (
                crosses
                and (kinds is None or attempt < 30)
                and cover.would_cover(obj.box[0], obj.box[2]) > MAX_HORIZON_COVER
            ):
                continue
            if crosses:
                cover.add(obj.box[0], obj.box[2])
            objects.append(obj)
            break
    return sorted(objects, key=lambda o: -o.distance)


def _weighted_kind(rng: random.Random) -> str:
    kinds = list(PROPORTIONS)
    return rng.choices(kinds, weights=[PROPORTIONS[k].weight for k in kinds])[0]


def lineart_objects(
    rng: random.Random,
    stroke_width_px: float,
    size_px: int,
    colors: LineArtColors,
    kinds: list[str] | None = None,
    color_rng: random.Random | None = None,
    fill_probability: float = 0.7,
) -> list[SceneObject]:
    """2 to 5 outlined shapes (or exactly `kinds`), first drawn first; boxes include the stroke."""
    if kinds is None:
        kinds = [rng.choice(LINEART_OBJECTS) for _ in range(rng.randint(2, 5))]
    unknown = [k for k in kinds if k not in LINEART_OBJECTS]
    if unknown:
        raise ValueError(f"line-art shapes are {LINEART_OBJECTS}, got {unknown}")
    half_stroke = stroke_width_px / size_px / 2
    picker = ColorPicker(color_rng or rng, colors.used)  # colours (and fills) from their own stream
    boxes: list[tuple[float, float, float, float]] = []
    objects = []
    for order, kind in enumerate(kinds):
        box = _place(rng, kind, half_stroke, 1.0 / size_px, boxes)
        boxes.append(box)
        filled = picker.rng.random() < fill_probability
        color = picker.pick(colors.fill_choices) if filled else colors.ink
        # Larger distance = drawn earlier = behind: the first shape gets the largest.
        objects.append(SceneObject(kind, color, box, float(len(kinds) - order)))
    return objects


def _place(
    rng: random.Random,
    kind: str,
    half_stroke: float,
    air: float,
    others: list[tuple[float, float, float, float]],
) -> tuple[float, float, float, float]:
    """A box (the stroke's outer extent) for a shape, trying not to hide over 40% of an earlier one."""
    aspect = lineart_aspect(kind)  # width over height of the stroke's centre line
    margin = half_stroke + air  # keep a pixel of paper between the stroke and the image edge
    box = (0.0, 0.0, 1.0, 1.0)
    # Thick strokes need room inside a shape, or it closes into a blob whose outline cannot be measured.
    smallest = min(0.36, max(0.22, 7.0 * half_stroke))
    for _attempt in range(20):
        height = rng.uniform(smallest, 0.42)
        width = height * aspect
        if width > 0.6:
            width, height = 0.6, 0.6 / aspect
        cx = rng.uniform(width / 2 + margin, 1 - width / 2 - margin)
        cy = rng.uniform(height / 2 + margin, 1 - height / 2 - margin)
        half_w, half_h = width / 2 + half_stroke, height / 2 + half_stroke
        box = (_r4(cx - half_w), _r4(cy - half_h), _r4(cx + half_w), _r4(cy + half_h))
        if all(_overlap(box, other) <= 0.4 for other in others):
            break
    return box


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection area over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller

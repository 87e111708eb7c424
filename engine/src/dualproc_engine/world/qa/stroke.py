"""stroke_width: are the drawing's outlines as thick as the sample stroke at the bottom?

Widths are in pixels at 64 px, the unit of the stroke overlay, whatever the scene's size.
"""

from __future__ import annotations

import random

from ...prompts.spec import StrokeSpec, overlay_to_dict
from .common import Ask, Scene, ask, hard_or_easy

STROKE_TOLERANCE_PX = 0.1
STROKE_HARD_PX = (1.0, 1.5)
"""Near misses: one pixel at 64 px is the smallest difference a 64 px judge can see."""
STROKE_EASY_PX = (1.5, 3.0)
STROKE_RANGE_PX = (0.5, 12.0)
"""Sample widths drawn: thinner vanishes at 64 px, thicker fills the band."""


def stroke_width_at_64(scene: Scene) -> float:
    """The scene's outline width in pixels at 64 px, the unit of the stroke overlay."""
    return float(scene["stroke_width_px"]) * 64.0 / float(scene["size_px"])


def stroke_width_truth(scene: Scene, width_px: float) -> bool | None:
    """Is a sample stroke `width_px` thick (px at 64 px) as thick as the scene's outlines?"""
    off = abs(width_px - stroke_width_at_64(scene))
    if off <= STROKE_TOLERANCE_PX:
        return True
    return False if off >= STROKE_HARD_PX[0] else None


def wrong_width(true_px: float, off: float) -> float | None:
    """A sample `off` px from the true width, to the other side where that side leaves STROKE_RANGE_PX; None
    where neither side is in it."""
    if not STROKE_RANGE_PX[0] <= true_px + off <= STROKE_RANGE_PX[1]:
        off = -off
    width = true_px + off
    return width if STROKE_RANGE_PX[0] <= width <= STROKE_RANGE_PX[1] else None


def sample_curve(rng: random.Random) -> float:
    """The sample stroke's bend: straight half of the time."""
    return 0.0 if rng.random() < 0.5 else round(rng.uniform(0.2, 0.6), 2)


def sample_stroke_width(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    true_px = stroke_width_at_64(scene)
    width = true_px
    if not want:
        wrong = wrong_width(true_px, hard_or_easy(rng, STROKE_HARD_PX, STROKE_EASY_PX) * rng.choice((-1, 1)))
        if wrong is None:
            return None
        width = wrong
    width = round(width, 3)
    curve = sample_curve(rng)
    return ask(
        stroke_width_truth(scene, width),
        want,
        overlay=overlay_to_dict(StrokeSpec(width_px=width, curve=curve)),
        margin=abs(width - true_px),
        margin_unit="px_at_64",
        params={"width_px": width, "curve": curve},
    )

"""horizon_line (is the red line on the horizon?) and horizon_band (is the horizon high / middle / low?).

Heights are fractions of the image height from the top, measured at the horizontal centre, as the
contract's `horizon`: a small value is a high horizon.
"""

from __future__ import annotations

import random

from ...prompts.spec import HorizonSpec, overlay_to_dict
from .common import Ask, Scene, ask, hard_or_easy

HORIZON_LINE_TOLERANCE = 0.005
"""A line this close counts as on the horizon (a third of a pixel at 64 px)."""
HORIZON_LINE_HARD = (0.03, 0.08)
"""Near misses: 2 to 5 px at 64 px, just above what the 2 px line's own width blurs."""
HORIZON_LINE_EASY = (0.08, 0.25)
BANDS = ("high", "middle", "low")
BAND_EDGES = (1 / 3, 2 / 3)
BAND_MARGIN = 0.03
"""Horizons closer than this to a band edge are not asked about: "high or middle?" has no sure answer."""


def horizon_line_truth(scene: Scene, y: float) -> bool | None:
    """Is a line at height y (fraction from the top, at the centre) on the horizon?"""
    offset = abs(y - scene["horizon"])
    if offset <= HORIZON_LINE_TOLERANCE:
        return True
    return False if offset >= HORIZON_LINE_HARD[0] else None


def sample_horizon_line(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    horizon = scene["horizon"]
    if want:
        offset = 0.0 if rng.random() < 0.5 else rng.uniform(-HORIZON_LINE_TOLERANCE, HORIZON_LINE_TOLERANCE)
    else:
        offset = hard_or_easy(rng, HORIZON_LINE_HARD, HORIZON_LINE_EASY) * rng.choice((-1, 1))
        if not 0.02 <= horizon + offset <= 0.98:
            offset = -offset  # horizons lie in [0.1, 0.9], so the other side always fits
    y = min(max(horizon + offset, 0.0), 1.0)
    # the line follows the scene's tilt, so only its height can be wrong
    spec = HorizonSpec(y=y, tilt_deg=scene.get("horizon_tilt_deg", 0.0))
    return ask(
        horizon_line_truth(scene, y),
        want,
        overlay=overlay_to_dict(spec),
        margin=abs(y - horizon),
        margin_unit="fraction_of_height",
        params={"line_y": y},
    )


def horizon_band(horizon: float) -> tuple[str, float]:
    """(band, distance to the nearer band edge); high means a small value (near the top)."""
    band = "high" if horizon < BAND_EDGES[0] else "middle" if horizon <= BAND_EDGES[1] else "low"
    return band, min(abs(horizon - edge) for edge in BAND_EDGES)


def horizon_band_truth(scene: Scene, band: str) -> bool | None:
    true_band, margin = horizon_band(scene["horizon"])
    return None if margin < BAND_MARGIN else band == true_band


def sample_horizon_band(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    true_band, margin = horizon_band(scene["horizon"])
    band = true_band if want else rng.choice([b for b in BANDS if b != true_band])
    return ask(
        horizon_band_truth(scene, band),
        want,
        variant=band,
        margin=margin,
        margin_unit="fraction_of_height",
        params={"band": band},
    )

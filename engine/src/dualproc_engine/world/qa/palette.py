"""palette_match: does the palette strip at the bottom show the scene's palette?"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ...prompts.spec import PaletteSpec, overlay_to_dict
from ..color_names import delta_e_matrix
from .common import Ask, Scene, ask

PALETTE_MATCH_TOLERANCE = 1.0
"""CIEDE2000 below which two colours are the same swatch (hex rounding is about 0.3)."""
PALETTE_MISS_MIN = 15.0
"""Every wrong strip has a swatch at least this far from all scene colours: clearly another colour."""
PALETTE_NEAR_MISS = (15.0, 30.0)
"""How far a swapped-in colour is from the colour it replaces: a near miss, not a random colour."""


def palette_mismatch(scene_colors: Sequence[str], strip: Sequence[str]) -> float:
    """CIEDE2000 of the worst-matched colour, over strip -> scene and scene -> strip."""
    d = delta_e_matrix(strip, scene_colors)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def palette_truth(scene: Scene, strip: Sequence[str]) -> bool | None:
    """Does a palette strip of these colours show the scene's palette?"""
    mismatch = palette_mismatch(scene["palette"]["colors"], strip)
    if mismatch <= PALETTE_MATCH_TOLERANCE and len(strip) == len(scene["palette"]["colors"]):
        return True
    return False if mismatch >= PALETTE_MISS_MIN else None


def near_miss_color(rng: random.Random, original: str, avoid: Sequence[str], rounds: int = 8) -> str | None:
    """A colour PALETTE_NEAR_MISS away from `original` and at least PALETTE_MISS_MIN from all of `avoid`."""
    from ..colorspace import hex_to_rgb, oklab_to_rgb, rgb_to_hex, rgb_to_oklab

    lab = rgb_to_oklab(hex_to_rgb(original))
    for _ in range(rounds):
        candidates = []
        for _ in range(32):
            # a random direction in OKLab, at a radius where CIEDE2000 often lands in the near-miss range
            direction = [rng.gauss(0.0, 1.0) for _ in range(3)]
            norm = math.sqrt(sum(d * d for d in direction)) or 1.0
            step = [rng.uniform(0.05, 0.16) * d / norm for d in direction]
            rgb = oklab_to_rgb((lab[0] + step[0], lab[1] + step[1], lab[2] + step[2]))
            if all(-1e-6 <= c <= 1 + 1e-6 for c in rgb):
                candidates.append(rgb_to_hex(rgb))
        if not candidates:
            continue
        d = delta_e_matrix(candidates, [original, *avoid])
        for candidate, row in zip(candidates, d, strict=True):
            if PALETTE_NEAR_MISS[0] <= row[0] <= PALETTE_NEAR_MISS[1] and row[1:].min() >= PALETTE_MISS_MIN:
                return candidate
    return None


def _other_palette(rng: random.Random, scene: Scene) -> tuple[list[str], str]:
    from ..palettes import NAMED_PALETTES, random_palette

    if rng.random() < 0.5:
        name = rng.choice([n for n in NAMED_PALETTES if n != scene["palette"].get("name")])
        return list(NAMED_PALETTES[name].colors), f"named:{name}"
    return list(random_palette(rng.randrange(2**31)).colors), "random"


def sample_palette_match(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    colors = list(scene["palette"]["colors"])
    strip, perturbation = list(colors), "none"
    if not want:
        perturbation = rng.choices(("swap1", "swap2", "other"), weights=(0.4, 0.3, 0.3))[0]
        if perturbation == "other":
            strip, perturbation = _other_palette(rng, scene)
        else:
            for position in rng.sample(range(len(colors)), 1 if perturbation == "swap1" else 2):
                replacement = near_miss_color(rng, colors[position], avoid=colors + strip)
                if replacement is None:
                    return None
                strip[position] = replacement
    return ask(
        palette_truth(scene, strip),
        want,
        overlay=overlay_to_dict(PaletteSpec(colors=tuple(strip))),
        margin=palette_mismatch(colors, strip),
        margin_unit="ciede2000",
        params={"colors": strip, "perturbation": perturbation},
    )

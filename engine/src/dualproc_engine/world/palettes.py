"""Colour palettes: a dozen named ones, and random ones drawn from a seed with well separated colours.

Every palette has five colours. Random palettes are drawn in OKLCh and kept only when every pair differs
by at least `MIN_DELTA_E` (CIEDE2000, the measurers' metric) and the lightness spans dark to light, so
that the colour scheme (see `coloring`) always finds a contrasting sky, ground and objects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .colorspace import ciede2000, hex_to_rgb, oklch_to_rgb, rgb_to_cielab, rgb_to_hex

PALETTE_SIZE = 5
MIN_DELTA_E = 18.0
"""Smallest CIEDE2000 difference between two colours of a random palette: clearly distinct swatches."""


@dataclass(frozen=True)
class Palette:
    """A named palette (`name` set) or a random one (`name` None); colours are '#rrggbb'."""

    name: str | None
    colors: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 4 <= len(self.colors) <= 6:
            raise ValueError(f"a palette has 4 to 6 colours, got {len(self.colors)}")
        for color in self.colors:
            hex_to_rgb(color)  # raises a readable error on a malformed colour

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "colors": list(self.colors)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Palette:
        return cls(name=data.get("name"), colors=tuple(str(c).lower() for c in data["colors"]))


NAMED_PALETTES: dict[str, Palette] = {
    p.name: p  # type: ignore[misc]
    for p in (
        Palette("pastel", ("#ffb3ba", "#ffdfba", "#fff5ba", "#baffc9", "#bae1ff")),
        Palette("retro", ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51")),
        Palette("dark_academia", ("#2b1d14", "#5a3e2b", "#8c6d46", "#3c4a3e", "#d8c8a8")),
        Palette("neon", ("#ff2079", "#00f0ff", "#39ff14", "#ffe700", "#7a04eb")),
        Palette("earth", ("#6b4226", "#a67c52", "#e3d3b0", "#7d8c4a", "#2f4532")),
        Palette("monochrome", ("#1c1c1c", "#4a4a4a", "#7a7a7a", "#adadad", "#e0e0e0")),
        Palette("ocean", ("#03045e", "#0077b6", "#00b4d8", "#90e0ef", "#f1e9d2")),
        Palette("autumn", ("#8c2f39", "#d2691e", "#e3a018", "#6b705c", "#3a2618")),
        Palette("forest", ("#1b4332", "#2d6a4f", "#52b788", "#c7ecd4", "#6f4e37")),
        Palette("terracotta", ("#3d405b", "#e07a5f", "#f2cc8f", "#81b29a", "#f4f1de")),
        Palette("vaporwave", ("#ff71ce", "#01cdfe", "#05ffa1", "#b967ff", "#fffb96")),
        Palette("nordic", ("#2e3440", "#5e81ac", "#88c0d0", "#e5e9f0", "#bf616a")),
    )
}


def palette_names() -> list[str]:
    return list(NAMED_PALETTES)


def named_palette(name: str) -> Palette:
    try:
        return NAMED_PALETTES[name]
    except KeyError:
        raise ValueError(
            f"unknown palette {name!r}; named palettes are {', '.join(NAMED_PALETTES)}"
        ) from None


def random_palette(seed: int) -> Palette:
    """A palette of five well separated colours, the same for the same seed."""
    rng = random.Random(seed)
    while True:
        lightness = sorted(rng.uniform(0.25, 0.95) for _ in range(PALETTE_SIZE))
        if lightness[0] > 0.45 or lightness[-1] < 0.8:
            continue  # need a dark and a light colour for the sky/ground contrast
        colors = [
            rgb_to_hex(oklch_to_rgb(lig, rng.uniform(0.02, 0.2), rng.uniform(0, 360))) for lig in lightness
        ]
        if min_pairwise_delta_e(colors) >= MIN_DELTA_E:
            rng.shuffle(colors)  # the order carries no meaning; don't let it leak lightness
            return Palette(None, tuple(colors))


def min_pairwise_delta_e(colors: list[str] | tuple[str, ...]) -> float:
    """Smallest CIEDE2000 difference over all pairs of colours."""
    import numpy as np

    lab = rgb_to_cielab(np.array([hex_to_rgb(c) for c in colors]))
    d = ciede2000(lab[:, None, :], lab[None, :, :])
    d[np.eye(len(colors), dtype=bool)] = np.inf
    return float(d.min())

"""Basic colour names for '#rrggbb' colours: the nearest named reference under CIEDE2000.

Eleven basic colour terms (Berlin & Kay's: red, orange, yellow, green, blue, purple, pink, brown, black,
white, grey). Each name has a few reference colours spread over its region (a light, a dark and a typical
one), because one reference per name would put, say, dark green nearer to black than to green. A colour
takes the name of its nearest reference in CIELAB under CIEDE2000, and its *naming margin* is how much
farther the nearest reference of any other name is: questions about colour names only use colours whose
margin is comfortable, since near a border people (and judges) disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from .colorspace import ciede2000, hex_to_rgb, rgb_to_cielab

if TYPE_CHECKING:
    import numpy as np

COLOR_NAMES = (
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "black",
    "white",
    "grey",
)

# fmt: off
REFERENCES: dict[str, tuple[str, ...]] = {
    "red": ("#ff0000", "#e02020", "#b01010", "#c83232"),
    "orange": ("#ff8000", "#ffa500", "#e06010", "#f08c3c"),
    "yellow": ("#ffff00", "#ffd700", "#fff080", "#f0e68c"),
    "green": ("#00ff00", "#00a000", "#006400", "#80c040", "#2e8b57", "#90ee90"),
    "blue": ("#0000ff", "#1e64dc", "#000080", "#4682b4", "#87cefa", "#00bfff"),
    "purple": ("#800080", "#8a2be2", "#9370db", "#4b0082", "#c8a0f0"),
    "pink": ("#ff69b4", "#ffc0cb", "#ff1493", "#db7093", "#ffb6c1"),
    "brown": ("#8b4513", "#a0522d", "#654321", "#d2b48c", "#c68642"),
    "black": ("#000000", "#1c1c1c"),
    "white": ("#ffffff", "#f5f5f5"),
    "grey": ("#808080", "#a9a9a9", "#505050", "#c8c8c8"),
}
# fmt: on


@cache
def _reference_table() -> tuple[tuple[str, ...], np.ndarray]:
    """(name of each reference, CIELAB of each reference): built once, on first use."""
    import numpy as np

    names = tuple(name for name in COLOR_NAMES for _ in REFERENCES[name])
    rgb = np.array([hex_to_rgb(h) for name in COLOR_NAMES for h in REFERENCES[name]])
    return names, rgb_to_cielab(rgb)


def name_distances(color: str) -> dict[str, float]:
    """CIEDE2000 from `color` to the nearest reference of each basic colour name."""
    import numpy as np

    names, labs = _reference_table()
    lab = rgb_to_cielab(np.array(hex_to_rgb(color)))
    d = ciede2000(lab[None, :], labs)
    out: dict[str, float] = {}
    for name, dist in zip(names, d.tolist(), strict=True):
        out[name] = min(out.get(name, float("inf")), dist)
    return out


def color_name(color: str) -> str:
    """The basic colour name of a '#rrggbb' colour."""
    return color_name_with_margin(color)[0]


@cache
def color_name_with_margin(color: str) -> tuple[str, float]:
    """(name, margin): margin is CIEDE2000 to the nearest other name's reference minus that to this name's."""
    ranked = sorted(name_distances(color).items(), key=lambda item: item[1])
    (best, d_best), (_, d_second) = ranked[0], ranked[1]
    return best, d_second - d_best


def delta_e(color_a: str, color_b: str) -> float:
    """CIEDE2000 difference between two '#rrggbb' colours."""
    return float(delta_e_matrix([color_a], [color_b])[0, 0])


def delta_e_matrix(colors_a: Sequence[str], colors_b: Sequence[str]) -> np.ndarray:
    """(len(a), len(b)) CIEDE2000 differences, in one vectorised call (palettes are compared often)."""
    import numpy as np

    lab_a = rgb_to_cielab(np.array([hex_to_rgb(c) for c in colors_a]).reshape(-1, 3))
    lab_b = rgb_to_cielab(np.array([hex_to_rgb(c) for c in colors_b]).reshape(-1, 3))
    return ciede2000(lab_a[:, None, :], lab_b[None, :, :])

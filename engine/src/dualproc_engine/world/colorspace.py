"""Colour spaces the Scenes world reasons in: sRGB, OKLab/OKLCh, CIELAB, and the CIEDE2000 difference.

OKLab (Ottosson 2020) is used to *design* colours: its lightness L in [0, 1] and chroma C behave
perceptually, so "make this palette colour night-dark but keep its hue" is one clamp. CIELAB with
CIEDE2000 (Sharma, Wu & Dalal 2005) is what the independent measurers use, so tests and the palette
separation check speak their language. Scalar helpers work on Python floats (a palette is a handful of
colours, and Python's `math` is deterministic everywhere); `ciede2000` and `rgb_to_cielab` are vectorised
over numpy arrays for checks over whole images.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RGB = tuple[float, float, float]
Lab = tuple[float, float, float]


def hex_to_rgb(color: str) -> RGB:
    """'#rrggbb' -> sRGB floats in [0, 1]."""
    text = color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"expected a colour as '#rrggbb', got {color!r}")
    return (int(text[0:2], 16) / 255.0, int(text[2:4], 16) / 255.0, int(text[4:6], 16) / 255.0)


def rgb_to_hex(rgb: RGB) -> str:
    """sRGB floats (clamped to [0, 1]) -> '#rrggbb'."""
    r, g, b = (min(255, max(0, round(c * 255.0))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _to_srgb(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * math.copysign(abs(c) ** (1 / 2.4), c) - 0.055


def rgb_to_oklab(rgb: RGB) -> Lab:
    """sRGB in [0, 1] -> OKLab (L in [0, 1])."""
    r, g, b = (_to_linear(c) for c in rgb)
    l_ = math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
    m_ = math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
    s_ = math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    return (
        0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
        1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
        0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_,
    )


def oklab_to_rgb(lab: Lab) -> RGB:
    """OKLab -> sRGB, not clamped (values outside [0, 1] mean out of gamut)."""
    lightness, a, b = lab
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return (
        _to_srgb(4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_),
        _to_srgb(-1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_),
        _to_srgb(-0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_),
    )


def oklab_to_oklch(lab: Lab) -> tuple[float, float, float]:
    """OKLab -> (L, C, hue in degrees [0, 360))."""
    lightness, a, b = lab
    return lightness, math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360.0


def oklch_to_rgb(lightness: float, chroma: float, hue_deg: float) -> RGB:
    """OKLCh -> sRGB inside the gamut: chroma is reduced (hue and lightness kept) until it fits."""
    lightness = min(1.0, max(0.0, lightness))
    h = math.radians(hue_deg)

    def rgb_at(c: float) -> RGB:
        return oklab_to_rgb((lightness, c * math.cos(h), c * math.sin(h)))

    rgb = rgb_at(chroma)
    if _in_gamut(rgb):
        return rgb
    low, high = 0.0, chroma  # bisection on chroma: gamut boundaries are monotone along it
    for _ in range(24):
        mid = 0.5 * (low + high)
        if _in_gamut(rgb_at(mid)):
            low = mid
        else:
            high = mid
    r, g, b = rgb_at(low)
    return (min(1.0, max(0.0, r)), min(1.0, max(0.0, g)), min(1.0, max(0.0, b)))


def _in_gamut(rgb: RGB, eps: float = 1e-6) -> bool:
    return all(-eps <= c <= 1.0 + eps for c in rgb)


def oklab_distance(a: Lab, b: Lab) -> float:
    """Euclidean OKLab difference (about 0.02 is just noticeable; 0.1 is clearly different)."""
    return math.dist(a, b)


def hue_distance(h1: float, h2: float) -> float:
    """Angle between two hues in degrees, in [0, 180]."""
    d = abs(h1 - h2) % 360.0
    return min(d, 360.0 - d)


def rgb_to_cielab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1], shape (..., 3) -> CIELAB (D65), shape (..., 3)."""
    import numpy as np

    c = np.asarray(rgb, dtype=np.float64)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005), broadcast over (..., 3) CIELAB arrays."""
    import numpy as np

    l1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_bar = 0.5 * (np.hypot(a1, b1) + np.hypot(a2, b2))
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where(c1p == 0, 0.0, np.degrees(np.arctan2(b1, a1p)) % 360)
    h2p = np.where(c2p == 0, 0.0, np.degrees(np.arctan2(b2, a2p)) % 360)
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    lp_bar, cp_bar = 0.5 * (l1 + l2), 0.5 * (c1p + c2p)
    hsum = h1p + h2p
    hp_bar = np.where(
        c1p * c2p == 0,
        hsum,
        np.where(
            np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hp_bar - 30))
        + 0.24 * np.cos(np.radians(2 * hp_bar))
        + 0.32 * np.cos(np.radians(3 * hp_bar + 6))
        - 0.20 * np.cos(np.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * np.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (lp_bar - 50) ** 2 / np.sqrt(20 + (lp_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt((dlp / s_l) ** 2 + (dcp / s_c) ** 2 + (dhp / s_h) ** 2 + r_t * (dcp / s_c) * (dhp / s_h))

"""The colour scheme: which palette colour plays which role, and how the sky kind bends it.

Two things must stay recognisable from pixels alone: the palette (measured as dominant colours under
CIEDE2000) and the sky kind. So the sky kind owns the *lightness structure* of the sky and the palette owns
the *hues* and everything below the horizon:

- Sky: the palette colour closest to the sky kind's band (in OKLCh lightness and chroma, with a hue
  preference) is moved into that band by the smallest clamp, keeping its hue. Bands: day L 0.62-0.80,
  chroma >= 0.07 and never a warm hue (a grey or warm palette gets a blue day sky; warm skies read as
  sunsets), lighter and paler toward the horizon (haze); sunset L 0.40-0.55 at the top (violet preferred)
  over a warm glow at the horizon (the warmest palette colour, its hue clamped into red-orange to orange,
  L 0.78-0.88), the ramp passing through violet and red rather than grey and gathering toward the
  horizon; night L 0.12-0.24, low chroma, plus a moon and stars; overcast L 0.60-0.70 with chroma <=
  0.025 (grey with a hint of the palette's hue), no sun. A palette colour already in the band is used
  unchanged.
- Ground, objects, mountains: palette colours *unchanged* (the ground's texture modulates it by a few
  percent). The ground takes the colour that best suits its kind (grass: green, sand: yellow-beige, snow:
  lightest, water: blue, rock: grey) among those contrasting with the sky at the horizon (OKLab distance >=
  `HORIZON_CONTRAST`), so the horizon is always a clean edge; objects take palette colours contrasting with
  the ground.
- Details (trunks, doors, legs, roofs, faces, the sun and moon, stars): the darkest or lightest palette
  colour, pushed darker or lighter only when it would not read as a detail.
- Line art: paper is the lightest palette colour (lifted to L >= 0.9 and chroma <= 0.06 if needed: a
  tinted sheet), the ink is the darkest one (darkened when it is too close to the paper), fills are the
  other palette colours.
- Every palette colour should show: objects and fills take the palette colours not shown yet first
  (`ColorPicker`), mountains (large) before ground objects.

Everything here is a pure function of the palette and the kinds, cached, so the renderer and the sampler
agree without storing derived colours in the attributes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .colorspace import (
    RGB,
    Lab,
    hex_to_rgb,
    hue_distance,
    oklab_distance,
    oklab_to_oklch,
    oklch_to_rgb,
    rgb_to_hex,
    rgb_to_oklab,
)

HORIZON_CONTRAST = 0.12
"""Smallest OKLab distance between the sky at the horizon and the ground (about 10 CIEDE2000 units)."""
OBJECT_CONTRAST = 0.10
"""Smallest OKLab distance between an object's colour and what it stands on."""
PAPER_LIGHTNESS = 0.9
PAPER_CHROMA = 0.06
"""Paper is at least this light and at most this colourful (OKLCh): a light, tinted sheet."""
FILL_CONTRAST = 0.15
"""Smallest OKLab distance of a line-art fill from the ink and the paper, so the outline stays measurable."""


@dataclass(frozen=True)
class SkyBand:
    """Where a sky kind puts the top of the sky in OKLCh, and which hues it prefers."""

    lightness: tuple[float, float]
    chroma: tuple[float, float]
    default_hue: float
    hue_weight: float = 0.1
    """How much a palette colour's hue distance from `default_hue` counts when choosing the sky's colour."""
    cool_only: bool = False
    """No warm hues (reds to yellows): a warm sky reads as a sunset."""


SKY_BANDS: dict[str, SkyBand] = {
    "day": SkyBand((0.62, 0.80), (0.07, 0.15), 245.0, cool_only=True),
    "sunset": SkyBand((0.40, 0.55), (0.06, 0.14), 300.0, hue_weight=0.3),
    "night": SkyBand((0.12, 0.24), (0.02, 0.06), 265.0),
    "overcast": SkyBand((0.60, 0.70), (0.0, 0.025), 245.0),
}
COOL_HUES = (105.0, 320.0)
"""OKLCh hues that do not read as warm (yellow-green through blue to violet)."""
GLOW_HUES = (30.0, 65.0)  # OKLCh hues from red-orange to orange: the sunset glow at the horizon
GLOW_LIGHTNESS = (0.78, 0.88)
GLOW_CHROMA = (0.12, 0.20)

GROUND_HUES = {"grass": 140.0, "sand": 80.0, "water": 235.0}


@dataclass(frozen=True)
class LandscapeColors:
    """Role colours of a landscape, as sRGB floats; `*_choices` are palette hex colours to draw from."""

    sky_top: RGB
    sky_middle: RGB
    """Halfway down the sky's ramp: a straight mix except at sunset (see `_sunset_middle`)."""
    sky_bottom: RGB
    ground: RGB
    sun: RGB
    moon: RGB
    star: RGB
    dark_accent: str
    light_accent: str
    object_choices: tuple[str, ...]
    mountain_choices: tuple[str, ...]
    used: tuple[str, ...] = ()
    """Palette colours already shown by the sky and the ground: objects prefer the others."""


@dataclass(frozen=True)
class LineArtColors:
    paper: RGB
    ink: str
    fill_choices: tuple[str, ...]
    used: tuple[str, ...] = ()
    """Palette colours already shown (as paper and ink): fills prefer the others."""


def _lch(color: str) -> tuple[float, float, float]:
    return oklab_to_oklch(rgb_to_oklab(hex_to_rgb(color)))


def _lab(color: str) -> Lab:
    return rgb_to_oklab(hex_to_rgb(color))


def _clamp(x: float, band: tuple[float, float]) -> float:
    return min(band[1], max(band[0], x))


def _hue_or(chroma: float, hue: float, default: float) -> float:
    # An (almost) grey colour has no meaningful hue; fall back to the kind's own.
    return hue if chroma >= 0.02 else default


def _is_warm(hue: float) -> bool:
    return not COOL_HUES[0] <= hue <= COOL_HUES[1]


def _band_cost(color: str, band: SkyBand) -> float:
    lightness, chroma, hue = _lch(color)
    cost = abs(lightness - _clamp(lightness, band.lightness)) + abs(chroma - _clamp(chroma, band.chroma))
    if chroma >= 0.02:
        cost += band.hue_weight * hue_distance(hue, band.default_hue) / 180.0
        if band.cool_only and _is_warm(hue):
            cost += 1.0
    return cost


def _into_band(color: str, band: SkyBand) -> RGB:
    lightness, chroma, hue = _lch(color)
    hue = _hue_or(chroma, hue, band.default_hue)
    if band.cool_only and _is_warm(hue):
        hue = band.default_hue
    return oklch_to_rgb(_clamp(lightness, band.lightness), _clamp(chroma, band.chroma), hue)


def _glow(colors: tuple[str, ...]) -> tuple[str, RGB]:
    """The sunset glow: the warmest palette colour, moved into the glow's hue, lightness and chroma."""

    def warmth(color: str) -> float:
        _, chroma, hue = _lch(color)
        return hue_distance(hue, 55.0) if chroma >= 0.04 else 180.0 + (0.04 - chroma)

    source = min(colors, key=warmth)
    lightness, chroma, hue = _lch(source)
    if chroma < 0.04:
        hue = 55.0
    elif not GLOW_HUES[0] <= hue <= GLOW_HUES[1]:  # to the nearer bound, going round the circle
        hue = min(GLOW_HUES, key=lambda bound: hue_distance(hue, bound))
    return source, oklch_to_rgb(_clamp(lightness, GLOW_LIGHTNESS), _clamp(chroma, GLOW_CHROMA), hue)


def _sunset_middle(top: RGB, glow: RGB) -> RGB:
    """Halfway from the sky's top to the glow, turning through violet and red rather than through grey
    (a straight mix of a teal top and an orange glow would be a dull grey band)."""
    l1, c1, h1 = oklab_to_oklch(rgb_to_oklab(top))
    l2, c2, h2 = oklab_to_oklch(rgb_to_oklab(glow))
    if _is_warm(h1):  # a warm top (brown, red): the short way round stays warm
        if abs(h2 - h1) > 180.0:
            h2 += 360.0 if h2 < h1 else -360.0
    elif h2 < h1:
        h2 += 360.0  # a cool top: go up from its hue through violet, magenta and red to the glow
    return oklch_to_rgb(0.5 * (l1 + l2), 0.9 * max(c1, c2), (0.5 * (h1 + h2)) % 360.0)


def _sky(colors: tuple[str, ...], sky: str) -> tuple[tuple[str, ...], RGB, RGB, RGB]:
    """(palette colours used as sources, top colour, middle colour, horizon colour)."""
    band = SKY_BANDS[sky]
    source = min(colors, key=lambda c: _band_cost(c, band))
    top = _into_band(source, band)
    lightness, chroma, hue = oklab_to_oklch(rgb_to_oklab(top))
    if sky == "sunset":
        glow_source, bottom = _glow(colors)
        return (source, glow_source), top, _sunset_middle(top, bottom), bottom
    if sky == "day":  # haze: lighter and paler toward the horizon
        bottom = oklch_to_rgb(min(0.9, lightness + 0.08), chroma * 0.6, hue)
    else:  # night and overcast: a gentle brightening toward the horizon
        bottom = oklch_to_rgb(lightness + 0.08, chroma, hue)
    middle = tuple(0.5 * (a + b) for a, b in zip(top, bottom, strict=True))
    return (source,), top, middle, bottom  # type: ignore[return-value]


def _ground_cost(color: str, ground: str) -> float:
    lightness, chroma, hue = _lch(color)
    if ground in GROUND_HUES:
        hue_cost = hue_distance(hue, GROUND_HUES[ground]) / 180.0 if chroma >= 0.03 else 1.0
        return hue_cost + (abs(lightness - 0.78) if ground == "sand" else 0.0)
    if ground == "snow":
        return 2.0 * (1.0 - lightness) + chroma
    return 3.0 * chroma + abs(lightness - 0.5)  # rock: grey, middling


def _push_away(color: str, reference: RGB, distance: float) -> RGB:
    """Change `color`'s lightness (darker if there is room) until it is `distance` from `reference`."""
    lightness, chroma, hue = _lch(color)
    ref = rgb_to_oklab(reference)
    for step in range(1, 100):
        for sign in (-1.0, 1.0):
            candidate = oklch_to_rgb(lightness + sign * 0.01 * step, chroma, hue)
            if oklab_distance(rgb_to_oklab(candidate), ref) >= distance:
                return candidate
    return oklch_to_rgb(0.1 if ref[0] > 0.5 else 0.95, chroma, hue)


def _ground(colors: tuple[str, ...], used: tuple[str, ...], ground: str, sky_bottom: RGB) -> tuple[str, RGB]:
    free = [c for c in colors if c not in used] or list(colors)
    ranked = sorted(free, key=lambda c: _ground_cost(c, ground))
    horizon = rgb_to_oklab(sky_bottom)
    for color in ranked:
        if oklab_distance(_lab(color), horizon) >= HORIZON_CONTRAST:
            return color, hex_to_rgb(color)
    return ranked[0], _push_away(ranked[0], sky_bottom, HORIZON_CONTRAST)


def contrasting(colors: tuple[str, ...], against: list[RGB], distance: float) -> tuple[str, ...]:
    """Palette colours at least `distance` (OKLab) from every colour in `against`; never empty."""
    refs = [rgb_to_oklab(c) for c in against]

    def margin(color: str) -> float:
        return min(oklab_distance(_lab(color), r) for r in refs)

    chosen = tuple(c for c in colors if margin(c) >= distance)
    return chosen or (max(colors, key=margin),)


def _mountain_choices(colors: tuple[str, ...], ground: RGB, sky: list[RGB]) -> tuple[str, ...]:
    """Mountains stand out from the sky, and from the ground as much as the sky does: their foot is the
    horizon, which must stay an edge where they stand."""
    ground_lab, sky_labs = rgb_to_oklab(ground), [rgb_to_oklab(c) for c in sky]

    def margin(color: str) -> float:
        lab = _lab(color)
        return min(
            oklab_distance(lab, ground_lab) / HORIZON_CONTRAST,
            *(oklab_distance(lab, s) / 0.08 for s in sky_labs),
        )

    chosen = tuple(c for c in colors if margin(c) >= 1.0)
    return chosen or (max(colors, key=margin),)


@lru_cache(maxsize=4096)
def landscape_colors(colors: tuple[str, ...], sky: str, ground: str) -> LandscapeColors:
    """Role colours of a landscape with this palette, sky kind and ground kind."""
    sky_sources, sky_top, sky_middle, sky_bottom = _sky(colors, sky)
    ground_source, ground_rgb = _ground(colors, sky_sources, ground, sky_bottom)
    ordered = by_lightness(colors)
    light_l, light_c, light_h = _lch(ordered[-1])
    warm = min(colors, key=lambda c: hue_distance(_lch(c)[2], 95.0) if _lch(c)[1] >= 0.04 else 360.0)
    _, warm_c, warm_h = _lch(warm)
    if sky == "sunset":
        glow_l, glow_c, glow_h = oklab_to_oklch(rgb_to_oklab(sky_bottom))
        sun = oklch_to_rgb(0.93, glow_c * 0.6, glow_h)
    else:
        sun = oklch_to_rgb(0.96, _clamp(warm_c, (0.05, 0.12)), warm_h if warm_c >= 0.04 else 95.0)
    objects = tuple(c for c in contrasting(colors, [ground_rgb], OBJECT_CONTRAST) if c != ground_source)
    return LandscapeColors(
        sky_top=sky_top,
        sky_middle=sky_middle,
        sky_bottom=sky_bottom,
        ground=ground_rgb,
        sun=sun,
        moon=oklch_to_rgb(0.92, min(light_c, 0.03), light_h),
        star=oklch_to_rgb(0.95, min(light_c, 0.02), light_h),
        dark_accent=_darkened(ordered[0], 0.35),
        light_accent=ordered[-1],
        object_choices=objects or contrasting(colors, [ground_rgb], OBJECT_CONTRAST),
        mountain_choices=_mountain_choices(colors, ground_rgb, [sky_bottom, sky_top]),
        used=(*sky_sources, ground_source),
    )


def _darkened(color: str, max_lightness: float) -> str:
    lightness, chroma, hue = _lch(color)
    if lightness <= max_lightness:
        return color
    return rgb_to_hex(oklch_to_rgb(max_lightness, chroma, hue))


@lru_cache(maxsize=8192)
def detail_color(body: str, preferred: str, darker: bool = True) -> str:
    """`preferred` unless it is too close to `body`; then `body` made darker (or lighter) in sRGB."""
    if oklab_distance(_lab(body), _lab(preferred)) >= OBJECT_CONTRAST:
        return preferred
    r, g, b = hex_to_rgb(body)
    if darker:
        return rgb_to_hex((0.55 * r, 0.55 * g, 0.55 * b))
    return rgb_to_hex((r + 0.55 * (1 - r), g + 0.55 * (1 - g), b + 0.55 * (1 - b)))


@lru_cache(maxsize=4096)
def by_lightness(colors: tuple[str, ...]) -> tuple[str, ...]:
    """The palette from darkest to lightest (OKLab L)."""
    return tuple(sorted(colors, key=lambda c: _lab(c)[0]))


@lru_cache(maxsize=8192)
def roof_color(colors: tuple[str, ...], body: str) -> str:
    """A house's roof: the darkest palette colour that stands out from the walls."""
    for color in by_lightness(colors):
        if oklab_distance(_lab(color), _lab(body)) >= OBJECT_CONTRAST:
            return color
    return detail_color(body, body)


@lru_cache(maxsize=4096)
def lineart_colors(colors: tuple[str, ...]) -> LineArtColors:
    """Paper, ink and fill colours of a line-art scene with this palette."""
    ordered = by_lightness(colors)
    light_l, light_c, light_h = _lch(ordered[-1])
    if light_l >= PAPER_LIGHTNESS and light_c <= PAPER_CHROMA:
        paper = hex_to_rgb(ordered[-1])  # light enough already: the palette colour itself
    else:
        paper = oklch_to_rgb(max(light_l, PAPER_LIGHTNESS), min(light_c, PAPER_CHROMA), light_h)
    paper_l = oklab_to_oklch(rgb_to_oklab(paper))[0]
    ink = _darkened(ordered[0], paper_l - 0.45)
    fills = contrasting(ordered[1:-1], [paper, hex_to_rgb(ink)], FILL_CONTRAST)
    return LineArtColors(paper=paper, ink=ink, fill_choices=fills, used=(ordered[0], ordered[-1]))


class ColorPicker:
    """Hands out palette colours least used first (ties at random), so every palette colour shows."""

    def __init__(self, rng: random.Random, used: tuple[str, ...] = ()):
        self.rng = rng
        self.counts: Counter[str] = Counter(used)

    def pick(self, choices: tuple[str, ...]) -> str:
        fewest = min(self.counts[c] for c in choices)
        color = self.rng.choice([c for c in choices if self.counts[c] == fewest])
        self.counts[color] += 1
        return color

"""Drawing scene attributes from a seed, with any attribute fixed on request.

Scene i of `sample_scenes(seed=s, ...)` is drawn from its own seed `s * 1_000_003 + i` (`scene_seed`), so
any scene can be regenerated alone, and a batch is the same whatever its length. Fixed attributes are
validated and used as given; everything else is drawn.
"""

from __future__ import annotations

import random
from typing import Any

from .attributes import (
    GROUND_KINDS,
    HORIZON_RANGE,
    MAX_TILT_DEG,
    SCENE_KINDS,
    SKY_KINDS,
    SceneAttributes,
    SceneObject,
)
from .coloring import landscape_colors, lineart_colors
from .layout import landscape_objects, lineart_objects
from .palettes import NAMED_PALETTES, Palette, named_palette, random_palette

__all__ = [
    "SceneAttributes",
    "SceneObject",
    "sample_scenes",
    "sample_scene",
    "scene_seed",
    "FIXABLE",
    "Streams",
]

SEED_STRIDE = 1_000_003
NAMED_PALETTE_PROBABILITY = 0.6
TILTED_PROBABILITY = 0.4
CELESTIAL_BY_SKY = {"day": "sun", "sunset": "sun", "night": "moon", "overcast": None}
STROKE_RANGE_AT_64 = (1.0, 6.0)

FIXABLE = (
    "palette",
    "horizon",
    "horizon_max",
    "horizon_tilt_deg",
    "sky",
    "ground",
    "celestial",
    "stroke_width_px",
    "objects",
    "object_kinds",
    "caption",
)
"""Keyword arguments `sample_scenes` accepts as fixed attributes. `object_kinds` asks for exactly these
kinds of objects, placed at random; `objects` fixes the objects themselves. `horizon_max` lowers a landscape's
horizon to at most this height, where it is higher (a bound, not a value: the twin of a relative-depth control
moves only the horizons that hide its nearer point)."""


def scene_seed(seed: int, index: int) -> int:
    """The seed of scene `index` in a batch drawn from `seed`."""
    return seed * SEED_STRIDE + index


def sample_scenes(
    seed: int, n: int, kind: str | None = None, size_px: int = 64, **fixed: Any
) -> list[SceneAttributes]:
    """`n` scenes drawn from `seed`; `kind` None mixes landscapes and line art half and half."""
    unknown = sorted(set(fixed) - set(FIXABLE))
    if unknown:
        raise ValueError(f"cannot fix {unknown}; fixable attributes are {', '.join(FIXABLE)}")
    if kind is not None and kind not in SCENE_KINDS:
        raise ValueError(f"kind must be one of {SCENE_KINDS} or None, got {kind!r}")
    return [sample_scene(scene_seed(seed, i), i, kind, size_px, **fixed) for i in range(n)]


def sample_scene(
    seed: int, index: int = 0, kind: str | None = None, size_px: int = 64, **fixed: Any
) -> SceneAttributes:
    """One scene drawn from its own seed (see `scene_seed`)."""
    streams = Streams(seed)
    kind = kind or streams["kind"].choice(SCENE_KINDS)
    palette = _palette(streams["palette"], fixed.get("palette"))
    if kind == "landscape":
        scene = _landscape(streams, seed, index, size_px, palette, fixed)
    else:
        scene = _lineart(streams, seed, index, size_px, palette, fixed)
    if "caption" in fixed:
        scene.caption = str(fixed["caption"])
    else:
        from .captions import caption  # captions read attributes; imported here to keep the import graph flat

        scene.caption = caption(scene, streams["caption"])
    scene.validate()
    return scene


class Streams:
    """One random stream per attribute, all from the scene's seed.

    Fixing an attribute then leaves every other draw unchanged: the same seed with `sky="night"` instead
    of `sky="day"` has the same horizon, ground, palette and object positions (object colours may differ,
    since they must contrast with what the sky kind does to the palette). Counterfactual pairs like this
    are what teaching a control needs.
    """

    def __init__(self, seed: int):
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __getitem__(self, name: str) -> random.Random:
        if name not in self._streams:
            # String seeds go through SHA-512: the same stream on every platform and Python run.
            self._streams[name] = random.Random(f"{self.seed}:{name}")
        return self._streams[name]


def _palette(rng: random.Random, fixed: Any) -> Palette:
    if isinstance(fixed, Palette):
        return fixed
    if isinstance(fixed, str) and fixed != "random":
        return named_palette(fixed)
    if isinstance(fixed, dict):
        return Palette.from_dict(fixed)
    if isinstance(fixed, list | tuple):
        return Palette(None, tuple(str(c).lower() for c in fixed))
    if fixed is None and rng.random() < NAMED_PALETTE_PROBABILITY:
        return NAMED_PALETTES[rng.choice(sorted(NAMED_PALETTES))]
    return random_palette(rng.getrandbits(63))


def _pick(rng: random.Random, fixed: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    if key in fixed:
        if fixed[key] not in choices:
            raise ValueError(f"{key} must be one of {choices}, got {fixed[key]!r}")
        return str(fixed[key])
    return rng.choice(choices)


def _landscape(
    streams: Streams, seed: int, index: int, size_px: int, palette: Palette, fixed: dict[str, Any]
) -> SceneAttributes:
    rng = streams["horizon"]
    horizon = float(fixed["horizon"]) if "horizon" in fixed else round(rng.uniform(*HORIZON_RANGE), 4)
    if "horizon_max" in fixed:
        horizon = min(horizon, float(fixed["horizon_max"]))
    rng = streams["tilt"]
    if "horizon_tilt_deg" in fixed:
        tilt = float(fixed["horizon_tilt_deg"])
    else:
        tilt = (
            round(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG), 3) if rng.random() < TILTED_PROBABILITY else 0.0
        )
    sky = _pick(streams["sky"], fixed, "sky", SKY_KINDS)
    ground = _pick(streams["ground"], fixed, "ground", GROUND_KINDS)
    celestial = fixed["celestial"] if "celestial" in fixed else CELESTIAL_BY_SKY[sky]
    if "stroke_width_px" in fixed and fixed["stroke_width_px"] is not None:
        raise ValueError("stroke_width_px applies to line art only; pass kind='lineart'")
    scene = SceneAttributes(
        seed=seed,
        index=index,
        size_px=size_px,
        kind="landscape",
        palette=palette,
        horizon=horizon,
        horizon_tilt_deg=tilt,
        sky=sky,
        ground=ground,
        celestial=celestial,
        stroke_width_px=None,
    )
    scene.validate()  # a bad fixed horizon or tilt fails here, before the layout uses it
    if "objects" in fixed:
        scene.objects = _fixed_objects(fixed["objects"])
    else:
        colors = landscape_colors(palette.colors, sky, ground)
        kinds = fixed.get("object_kinds")
        scene.objects = landscape_objects(
            streams["layout"], horizon, tilt, colors, list(kinds) if kinds else None, streams["colors"]
        )
    return scene


def _lineart(
    streams: Streams, seed: int, index: int, size_px: int, palette: Palette, fixed: dict[str, Any]
) -> SceneAttributes:
    for key in ("horizon", "sky", "ground", "celestial"):
        if fixed.get(key) is not None:
            raise ValueError(f"{key} applies to landscapes only; pass kind='landscape'")
    if fixed.get("stroke_width_px") is not None:
        stroke = float(fixed["stroke_width_px"])
    else:
        stroke = round(streams["stroke"].uniform(*STROKE_RANGE_AT_64) * size_px / 64, 4)
    scene = SceneAttributes(
        seed=seed,
        index=index,
        size_px=size_px,
        kind="lineart",
        palette=palette,
        horizon=None,
        horizon_tilt_deg=0.0,
        sky=None,
        ground=None,
        celestial=None,
        stroke_width_px=stroke,
    )
    scene.validate()
    if "objects" in fixed:
        scene.objects = _fixed_objects(fixed["objects"])
    else:
        colors = lineart_colors(palette.colors)
        kinds = fixed.get("object_kinds")
        scene.objects = lineart_objects(
            streams["layout"], stroke, size_px, colors, list(kinds) if kinds else None, streams["colors"]
        )
    return scene


def _fixed_objects(values: list[SceneObject | dict[str, Any]]) -> list[SceneObject]:
    """Given objects, copied and put in drawing order (farthest first; ties keep the given order)."""
    objects = [SceneObject.from_dict(v.to_dict() if isinstance(v, SceneObject) else v) for v in values]
    return sorted(objects, key=lambda o: -o.distance)

"""Captions written from a scene's attributes, in varied wording.

A caption only states what the attributes make true: every phrase is chosen from the ones that fit (no
"sunny" without a sun, no "by moonlight" without a moon), optional details are left out at random, and
colours of the ground are never named (the palette decides them). Given the same `random.Random` state,
the same caption comes out.
"""

from __future__ import annotations

import random
from collections import Counter

from .attributes import SceneAttributes

HORIZON_BANDS = ("high", "middle", "low")
STROKE_BANDS = ("thin", "medium", "thick")


def horizon_band(horizon: float) -> str:
    """'high' above the upper third line (horizon is measured from the top), 'low' below the lower one."""
    if horizon < 1 / 3:
        return "high"
    return "middle" if horizon <= 2 / 3 else "low"


def stroke_band(stroke_width_px: float, size_px: int) -> str:
    """Thirds of the sampled range of 1-6 px at 64 px: thin < 2.67, thick > 4.33 (scaled to size_px)."""
    at_64 = stroke_width_px * 64 / size_px
    if at_64 < 1 + 5 / 3:
        return "thin"
    return "medium" if at_64 <= 1 + 10 / 3 else "thick"


# Sky phrases; the second item says which celestial body the phrase implies (None: none).
SKY_PHRASES: dict[str, list[tuple[str, str | None]]] = {
    "day": [
        ("on a sunny day", "sun"),
        ("in bright sunshine", "sun"),
        ("under a clear sky", None),
        ("in daylight", None),
        ("at midday", None),
        ("on a bright day", None),
        ("in the daytime", None),
    ],
    "sunset": [
        ("at sunset", None),
        ("at dusk", None),
        ("at sundown", None),
        ("in the evening glow", None),
        ("as the sun goes down", "sun"),
        ("under a sunset sky", None),
    ],
    "night": [
        ("at night", None),
        ("under the stars", None),
        ("on a starry night", None),
        ("by moonlight", "moon"),
        ("under a crescent moon", "moon"),
        ("in the dark of night", None),
    ],
    "overcast": [
        ("on an overcast day", None),
        ("under a grey sky", None),
        ("on a cloudy day", None),
        ("under heavy clouds", None),
        ("beneath a dull sky", None),
    ],
}
SKY_NOUNS = {
    "day": ["a sunny day", "a bright day", "a clear day"],
    "sunset": ["sunset", "dusk", "sundown"],
    "night": ["a starry night", "night", "a night scene"],
    "overcast": ["an overcast day", "a grey day", "a cloudy day"],
}
GROUND_PHRASES = {
    "grass": ["a meadow", "grassland", "a grassy field", "a field of grass", "a grassy plain"],
    "sand": ["sand dunes", "a desert", "sandy ground", "the dunes", "a sandy plain"],
    "snow": ["a snowfield", "a snowy plain", "snow-covered ground", "deep snow", "a field of snow"],
    "water": ["a lake", "the sea", "calm water", "open water", "a wide lake"],
    "rock": ["rocky ground", "a stony plain", "bare rock", "a rocky plateau", "barren rocks"],
}
OBJECT_WORDS = {
    "tree": ("tree", "trees"),
    "house": ("house", "houses"),
    "mountain": ("mountain", "mountains"),
    "person": ("person", "people"),
    "animal": ("animal", "animals"),
    "circle": ("circle", "circles"),
    "square": ("square", "squares"),
    "triangle": ("triangle", "triangles"),
    "star": ("star", "stars"),
}
LINEART_HOUSE_TREE = {"house": ("house shape", "house shapes"), "tree": ("tree shape", "tree shapes")}
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
HORIZON_PHRASES = {
    "high": ["with a high horizon", "with the horizon in the upper third", "with the horizon near the top"],
    "middle": ["with the horizon in the middle", "with a centred horizon", "with the horizon halfway up"],
    "low": ["with a low horizon", "with the horizon in the lower third", "with the horizon near the bottom"],
}
STROKE_PHRASES = {
    "thin": ["thin lines", "fine lines", "thin strokes", "delicate outlines"],
    "medium": ["medium lines", "medium-weight strokes", "lines of medium weight", "regular outlines"],
    "thick": ["thick lines", "bold strokes", "heavy outlines", "thick strokes"],
}


def caption(attrs: SceneAttributes, rng: random.Random) -> str:
    """A caption for these attributes; varied by `rng`, deterministic given its state."""
    text = _landscape(attrs, rng) if attrs.kind == "landscape" else _lineart(attrs, rng)
    return text[0].upper() + text[1:]


def palette_phrase(attrs: SceneAttributes, rng: random.Random) -> str:
    """'in a retro palette' and the like, or '' for a random (unnamed) palette."""
    if attrs.palette.name is None:
        return ""
    name = attrs.palette.name.replace("_", " ")
    return rng.choice(
        [f"in a {name} palette", f"in {name} colours", f"with a {name} colour scheme", f"{name} palette"]
    )


def _count_phrase(kinds: list[str], words: dict[str, tuple[str, str]]) -> str:
    counts = Counter(kinds)
    items = []
    for kind, n in counts.items():
        singular, plural = words.get(kind, OBJECT_WORDS[kind])
        article = "an" if singular[0] in "aeiou" else "a"
        items.append(
            f"{article} {singular}" if n == 1 else f"{NUMBERS[n] if n < len(NUMBERS) else n} {plural}"
        )
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sky_phrase(attrs: SceneAttributes, rng: random.Random) -> str:
    fitting = [p for p, needs in SKY_PHRASES[attrs.sky or "day"] if needs is None or needs == attrs.celestial]
    return rng.choice(fitting)


def _landscape(attrs: SceneAttributes, rng: random.Random) -> str:
    sky = _sky_phrase(attrs, rng)
    ground = rng.choice(GROUND_PHRASES[attrs.ground or "grass"])
    kinds = [o.kind for o in attrs.objects]
    if kinds and rng.random() < 0.3:  # mention only some kinds
        keep = set(rng.sample(sorted(set(kinds)), k=rng.randint(1, len(set(kinds)))))
        kinds = [k for k in kinds if k in keep]
    objects = _count_phrase(kinds, OBJECT_WORDS) if kinds and rng.random() < 0.8 else ""
    template = rng.randrange(6)
    if template == 0:
        noun = rng.choice(["a landscape", "a scene", "a view", "a picture", "an illustration"])
        text = f"{noun} of {ground} {sky}" + (f" with {objects}" if objects else "")
    elif template == 1 and objects:
        text = f"{objects} on {ground} {sky}"
    elif template == 2:
        text = f"{rng.choice(SKY_NOUNS[attrs.sky or 'day'])} over {ground}" + (
            f", {objects}" if objects else ""
        )
    elif template == 3:
        text = f"{ground} {sky}" + (f"; {objects} in view" if objects else "")
    elif template == 4 and objects:
        text = f"a landscape with {objects}, {sky}"
    else:
        text = f"{sky}, {ground}" + (f" with {objects}" if objects else "")
    return _with_details(text, attrs, rng)


def _with_details(text: str, attrs: SceneAttributes, rng: random.Random) -> str:
    if attrs.horizon is not None and rng.random() < 0.5:
        text += ", " + rng.choice(HORIZON_PHRASES[horizon_band(attrs.horizon)])
    if abs(attrs.horizon_tilt_deg) >= 2.0 and rng.random() < 0.3:
        text += ", the horizon slightly tilted"
    palette = palette_phrase(attrs, rng)
    if palette and rng.random() < 0.6:
        text += ", " + palette
    return text


def _lineart(attrs: SceneAttributes, rng: random.Random) -> str:
    shapes = _count_phrase([o.kind for o in attrs.objects], LINEART_HOUSE_TREE)
    stroke = ""
    if attrs.stroke_width_px is not None and rng.random() < 0.8:
        stroke = rng.choice(STROKE_PHRASES[stroke_band(attrs.stroke_width_px, attrs.size_px)])
    template = rng.randrange(4)
    if template == 0:
        text = f"{rng.choice(['line art', 'a line drawing', 'an outline drawing'])} of {shapes}"
        text += f" in {stroke}" if stroke else ""
    elif template == 1:
        text = f"{shapes} drawn with {stroke}" if stroke else f"{shapes}, outlined"
    elif template == 2:
        n = len(attrs.objects)
        text = f"{NUMBERS[n] if n < len(NUMBERS) else n} outlined shapes: {shapes}"
        text += f", {stroke}" if stroke else ""
    else:
        text = f"simple shapes on paper: {shapes}" + (f", {stroke}" if stroke else "")
    palette = palette_phrase(attrs, rng)
    if palette and rng.random() < 0.6:
        text += ", " + palette
    return text

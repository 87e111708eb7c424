"""How QA questions are worded: nine phrasings per family, split into disjoint train and held-out sets.

A phrasing is a format string, or a dict from the sampled *variant* (the band asked about, "closer" or
"farther", ...) to one. Slots are filled from the sampled question's `slots`. Nothing here decides what
is asked or what the answer is: that is the family modules' job.

Splits: phrasing i is "heldout" when i % 3 == 2 and "train" otherwise (six train, three held-out per
family), so the second, evaluation-only judge can be trained on wordings the first never saw. " Answer
with Yes or No." is appended by the objective, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

Phrasing = str | Mapping[str, str]
PHRASING_SPLITS = ("train", "heldout", "all")

PHRASINGS: dict[str, tuple[Phrasing, ...]] = {
    "horizon_line": (
        "Is the red line on the horizon?",
        "Does the red line lie exactly along the horizon?",
        "Is the red line drawn at the height of the horizon?",
        "Does the red line follow the edge where the sky meets the ground?",
        "Is the horizon exactly where the red line is?",
        "Does the red line coincide with the horizon line?",
        "Is the red line aligned with the horizon?",
        "Does the red line trace the boundary between sky and land?",
        "Is the red line at the same height as the horizon?",
    ),
    "horizon_band": (
        {
            "high": "Is the horizon high in the image?",
            "middle": "Is the horizon in the middle of the image?",
            "low": "Is the horizon low in the image?",
        },
        {
            "high": "Is the horizon in the upper third of the picture?",
            "middle": "Is the horizon in the middle third of the picture?",
            "low": "Is the horizon in the lower third of the picture?",
        },
        {
            "high": "Does the horizon sit near the top of the image?",
            "middle": "Does the horizon sit near the vertical centre of the image?",
            "low": "Does the horizon sit near the bottom of the image?",
        },
        {
            "high": "Is the horizon line placed high in the frame?",
            "middle": "Is the horizon line placed at mid-height in the frame?",
            "low": "Is the horizon line placed low in the frame?",
        },
        {
            "high": "Is most of the image ground, with the horizon high up?",
            "middle": "Do sky and ground share the image, with the horizon near the middle?",
            "low": "Is most of the image sky, with the horizon low down?",
        },
        {
            "high": "Does the horizon fall in the top third of the image?",
            "middle": "Does the horizon fall in the central third of the image?",
            "low": "Does the horizon fall in the bottom third of the image?",
        },
        {
            "high": "Is this a high-horizon composition?",
            "middle": "Is this a centred-horizon composition?",
            "low": "Is this a low-horizon composition?",
        },
        {
            "high": "Would you say the horizon is high?",
            "middle": "Would you say the horizon is roughly centred vertically?",
            "low": "Would you say the horizon is low?",
        },
        {
            "high": "Is the line between sky and ground in the upper part of the image?",
            "middle": "Is the line between sky and ground in the central band of the image?",
            "low": "Is the line between sky and ground in the lower part of the image?",
        },
    ),
    # "band": the swatches in a strip along the bottom; "tiles": in small strips all over the image
    "palette_match": (
        {
            "band": "Does the image use the colours in the strip at the bottom?",
            "tiles": "Does the image use the colours of the swatches?",
        },
        {
            "band": "Is the image painted with the palette shown at the bottom?",
            "tiles": "Is the image painted with the palette of the swatches?",
        },
        {
            "band": "Do the swatches at the bottom match the colours of the image?",
            "tiles": "Do the swatches match the colours of the image?",
        },
        {
            "band": "Is the colour palette at the bottom the one this image uses?",
            "tiles": "Is the colour palette of the swatches the one this image uses?",
        },
        {
            "band": "Are the image's colours the same as the swatches in the bottom strip?",
            "tiles": "Are the image's colours the same as the swatches?",
        },
        {
            "band": "Does the bottom strip show this image's colour palette?",
            "tiles": "Do the swatches show this image's colour palette?",
        },
        {
            "band": "Is this picture coloured with exactly the palette in the strip below?",
            "tiles": "Is this picture coloured with exactly the palette of the swatches?",
        },
        {
            "band": "Do the colour swatches along the bottom match the picture?",
            "tiles": "Do the colour swatches match the picture?",
        },
        {
            "band": "Was this image made with the palette shown in the bottom band?",
            "tiles": "Was this image made with the palette of the swatches?",
        },
    ),
    "stroke_width": (
        "Are the lines in the drawing as thick as the sample stroke at the bottom?",
        "Does the outline width match the sample line at the bottom?",
        "Is the drawing's line weight the same as the stroke shown below?",
        "Do the outlines have the same thickness as the bottom sample?",
        "Is the sample stroke at the bottom as wide as the lines of the drawing?",
        "Does the stroke at the bottom match the thickness of the outlines?",
        "Are the shapes drawn with lines of the sample's width?",
        "Is the line weight of this drawing equal to the sample stroke?",
        "Do the strokes in the picture match the width of the example line at the bottom?",
    ),
    "relative_depth": (
        {
            "closer": "Is point A closer to the viewer than point B?",
            "farther": "Is point A farther from the viewer than point B?",
        },
        {
            "closer": "Is the object at point A nearer to the camera than the object at point B?",
            "farther": "Is the object at point A farther from the camera than the object at point B?",
        },
        {"closer": "Is point A in front of point B?", "farther": "Is point A behind point B?"},
        {
            "closer": "Does point A mark something closer than point B does?",
            "farther": "Does point A mark something farther away than point B does?",
        },
        {
            "closer": "Is the thing labelled A nearer to us than the thing labelled B?",
            "farther": "Is the thing labelled A farther from us than the thing labelled B?",
        },
        {"closer": "Is A closer to the viewer than B?", "farther": "Is A farther from the viewer than B?"},
        {
            "closer": "Looking at the labelled points, is A nearer than B?",
            "farther": "Looking at the labelled points, is A farther away than B?",
        },
        {
            "closer": "Is the point marked A on an object closer to the camera than the one marked B?",
            "farther": "Is the point marked A on an object farther from the camera than the one marked B?",
        },
        # B as the subject: "A closer" is "B farther", so the variant keeps its meaning about A
        {
            "closer": "Is point B farther from the viewer than point A?",
            "farther": "Is point B closer to the viewer than point A?",
        },
    ),
    "object_presence": (
        "Is there {a_kind} in the image?",
        "Does the picture contain {a_kind}?",
        "Can you see {a_kind}?",
        "Is {a_kind} visible in this scene?",
        "Does this image show {a_kind}?",
        "Are there any {kinds} in the picture?",
        "Is at least one {kind} depicted?",
        "Does the scene include {a_kind}?",
        "Do you see any {kinds} here?",
    ),
    "object_count": (
        {
            "one": "Is there exactly one {kind} in the image?",
            "many": "Are there exactly {n} {kinds} in the image?",
        },
        "Does the picture contain exactly {count_phrase}?",
        "Is the number of {kinds} in the picture {n}?",
        "Can you count exactly {count_phrase}?",
        "Does the image show exactly {count_phrase}?",
        {
            "one": "Is exactly one {kind} visible, no more and no fewer?",
            "many": "Are exactly {n} {kinds} visible, no more and no fewer?",
        },
        {
            "one": "Would you count one {kind} in this scene?",
            "many": "Would you count {n} {kinds} in this scene?",
        },
        "How many {kinds} are there: exactly {n}?",
        "Is the {kind} count in this image equal to {n}?",
    ),
    "object_color": (
        "Is there {a_color_kind} in the image?",
        "Does the picture contain {a_color_kind}?",
        "Is any {kind} in the image {color}?",
        "Can you see {a_color_kind}?",
        "Is at least one {kind} coloured {color}?",
        "Does the scene show {a_color_kind}?",
        "Is there a {kind} whose colour is {color}?",
        "Do you see {a_color_kind} here?",
        "Is {a_color_kind} present in this picture?",
    ),
    "sky": (
        {
            "day": "Is the sky a clear daytime sky?",
            "sunset": "Is the sky a sunset sky?",
            "night": "Is the sky a night sky?",
            "overcast": "Is the sky overcast?",
        },
        {
            "day": "Does the image show a bright, clear sky?",
            "sunset": "Does the image show a sunset glow in the sky?",
            "night": "Does the image show a dark night sky?",
            "overcast": "Does the image show a grey, cloudy sky?",
        },
        {
            "day": "Is the sky bright and clear?",
            "sunset": "Is the sky lit by a setting sun?",
            "night": "Is the sky dark as at night?",
            "overcast": "Is the sky covered in grey cloud?",
        },
        {
            "day": "Is it a clear day sky above the scene?",
            "sunset": "Is it a sunset sky above the scene?",
            "night": "Is it a night sky above the scene?",
            "overcast": "Is it an overcast sky above the scene?",
        },
        {
            "day": "Would you describe the sky as clear daylight?",
            "sunset": "Would you describe the sky as a sunset?",
            "night": "Would you describe the sky as night?",
            "overcast": "Would you describe the sky as overcast?",
        },
        {
            "day": "Is the weather clear, with a bright daytime sky?",
            "sunset": "Does the sky glow with the colours of sunset?",
            "night": "Is the sky the dark sky of night?",
            "overcast": "Is the weather dull, with a grey overcast sky?",
        },
        {
            "day": "Does the sky look like a clear day?",
            "sunset": "Does the sky look like a sunset?",
            "night": "Does the sky look like night?",
            "overcast": "Does the sky look overcast?",
        },
        {
            "day": "Is the sky in this picture a bright day sky?",
            "sunset": "Is the sky in this picture a sunset?",
            "night": "Is the sky in this picture a night sky?",
            "overcast": "Is the sky in this picture grey and overcast?",
        },
        {
            "day": "Is the sky clear and light, as on a fine day?",
            "sunset": "Is the sky warm near the horizon, as at sunset?",
            "night": "Is the sky black or deep blue, as at night?",
            "overcast": "Is the sky a flat grey, as on a cloudy day?",
        },
    ),
    "time_of_day": (
        {"day": "Is it daytime?", "evening": "Is it evening?", "night": "Is it night-time?"},
        {
            "day": "Was this scene captured during the day?",
            "evening": "Was this scene captured at dusk?",
            "night": "Was this scene captured at night?",
        },
        {
            "day": "Does this take place in the daytime?",
            "evening": "Does this take place around sunset?",
            "night": "Does this take place at night?",
        },
        {
            "day": "Is the time of day daytime?",
            "evening": "Is the time of day evening?",
            "night": "Is the time of day night?",
        },
        {
            "day": "Is this a daytime scene?",
            "evening": "Is this an evening scene?",
            "night": "Is this a night scene?",
        },
        {"day": "Is it day here?", "evening": "Is it dusk here?", "night": "Is it night here?"},
        {
            "day": "Is the scene set during daylight hours?",
            "evening": "Is the scene set at sundown?",
            "night": "Is the scene set after dark?",
        },
        {
            "day": "Would you say it is day in this picture?",
            "evening": "Would you say it is evening in this picture?",
            "night": "Would you say it is night in this picture?",
        },
        {
            "day": "Does the light suggest daytime?",
            "evening": "Does the light suggest evening?",
            "night": "Does the light suggest night?",
        },
    ),
    "layout_match": (
        "Does the image follow the layout drawn on it?",
        "Are the objects where the labelled boxes say they are?",
        "Does each labelled box contain the object it names?",
        "Does the picture match the annotated layout?",
        "Is every object inside the box with its name?",
        "Do the outlined boxes show where each object is?",
        "Does the composition agree with the boxes and labels?",
        "Are the labelled boxes placed on the matching objects?",
        "Is the layout overlay correct for this image?",
    ),
}


def split_of(index: int) -> str:
    """The split ("train" or "heldout") phrasing `index` belongs to, in every family."""
    return "heldout" if index % 3 == 2 else "train"


def phrasing_indices(family: str, split: str) -> list[int]:
    """Indices of the family's phrasings in `split` ("train", "heldout" or "all")."""
    if split not in PHRASING_SPLITS:
        raise ValueError(f"phrasing_split: expected one of {', '.join(PHRASING_SPLITS)}, got {split!r}")
    indices = range(len(PHRASINGS[family]))
    return list(indices) if split == "all" else [i for i in indices if split_of(i) == split]


def phrase(family: str, index: int, variant: str | None, slots: Mapping[str, str]) -> str:
    """The question text of phrasing `index` for the sampled variant and slot values."""
    phrasing = PHRASINGS[family][index]
    template = phrasing if isinstance(phrasing, str) else phrasing[variant or ""]
    return template.format(**slots)


_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Wording:
    family: str
    index: int
    variant: str | None
    pattern: re.Pattern[str]
    slots: frozenset[str]
    fixed_chars: int
    """How much of it is fixed words (not slots): the more, the more specific."""


def _pattern(template: str) -> re.Pattern[str]:
    """The template as an anchored regex whose named groups capture its slots' values."""
    parts = _SLOT.split(template)  # literal, slot, literal, slot, ..., literal
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(f"^{body}$")


@cache
def _wordings() -> list[_Wording]:
    """Every phrasing of every family as a pattern, the most literal first (templates without slots, then by
    the length of their fixed words), so that "Is there exactly one tree in the image?" is read as the count
    question it is, not as "Is there {a_kind} in the image?" with a_kind = "exactly one tree"."""
    out = []
    for family, phrasings in PHRASINGS.items():
        for index, phrasing in enumerate(phrasings):
            items = [(None, phrasing)] if isinstance(phrasing, str) else list(phrasing.items())
            for variant, template in items:
                slots = frozenset(_SLOT.findall(template))
                fixed = len(_SLOT.sub("", template))
                out.append(_Wording(family, index, variant, _pattern(template), slots, fixed))
    return sorted(out, key=lambda w: (bool(w.slots), -w.fixed_chars))


def _readings(question: str) -> list[tuple[_Wording, dict[str, str]]]:
    """Every phrasing `question` is, most specific first, with its slot values."""
    text = question.strip()
    return [(w, m.groupdict()) for w in _wordings() if (m := w.pattern.match(text)) is not None]


def scenes_reading(question: str) -> dict[str, str | None] | None:
    """What a question asks in the Scenes world, where it is worded as one of its phrasings: {"family",
    "variant"} (variant None for a family worded without variants), from its most specific reading; None for
    any other wording. The evaluation measures a plain question's answer by it (a sky kind, a horizon
    band)."""
    readings = _readings(question)
    if not readings:
        return None
    w, _ = readings[0]
    return {"family": w.family, "variant": w.variant}


def reword(question: str, split: str) -> str:
    """`question` in the first phrasing of `split` that says the same, where it is a Scenes phrasing of the
    other split (the same family, variant and slot values); otherwise `question` unchanged.

    A Scenes judge knows only its split's words (its tokenizer maps the rest to an unknown token), so the
    held-out judge asked a recipe's question in the training judge's words answers near chance; asked the
    same question in its own words, it answers as well as it can (docs/judge.md)."""
    if split not in ("train", "heldout"):
        return question
    readings = _readings(question)
    if any(split_of(w.index) == split for w, _ in readings):
        return question  # already in its own words (in some reading: a few wordings are two families')
    if not readings:
        return question
    w, slots = readings[0]  # the most specific reading only: another would read its words as slot values
    for j in phrasing_indices(w.family, split):
        phrasing = PHRASINGS[w.family][j]
        template = phrasing if isinstance(phrasing, str) else phrasing.get(w.variant or "")
        if template is not None and set(_SLOT.findall(template)) <= set(slots):
            return template.format(**slots)
    return question  # no wording of its split takes these slots

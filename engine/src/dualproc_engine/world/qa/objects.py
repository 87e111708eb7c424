"""object_presence, object_count, object_color: what is in the scene, how many, in which colour.

An object counts when something of it is in sight (`visible_point` not null). A kind with a fully hidden
instance is not counted or coloured: the image cannot show what the attributes know.
"""

from __future__ import annotations

import random

from ..color_names import COLOR_NAMES, color_name_with_margin
from .common import Ask, Scene, ask, of_kind, vocabulary

COLOR_NAME_MARGIN_MIN = 5.0
"""Objects whose basic colour name wins by less than this (CIEDE2000) make their kind's colour unasked."""


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _plural(kind: str) -> str:
    return {"person": "people"}.get(kind, kind + "s")


def _kind_slots(kind: str) -> dict[str, str]:
    return {"kind": kind, "kinds": _plural(kind), "a_kind": _article(kind)}


def object_presence_truth(scene: Scene, kind: str) -> bool | None:
    """Is at least one object of this kind visible? None when the only ones are fully hidden."""
    objects = of_kind(scene, kind)
    if not objects:
        return False
    return True if any(o.get("visible_point") is not None for o in objects) else None


def kinds_in_sight(scene: Scene) -> dict[str, bool]:
    """Each object kind this kind of scene can hold: in sight or absent; kinds seen only hidden left out."""
    return {k: v for k in vocabulary(scene) if (v := object_presence_truth(scene, k)) is not None}


def sample_object_presence(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    kinds = [k for k in vocabulary(scene) if object_presence_truth(scene, k) == want]
    if not kinds:
        return None
    kind = rng.choice(kinds)
    return ask(object_presence_truth(scene, kind), want, slots=_kind_slots(kind), params={"kind": kind})


NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def object_count_truth(scene: Scene, kind: str, n: int) -> bool | None:
    """Are exactly n objects of this kind visible? None when one of them is fully hidden."""
    objects = of_kind(scene, kind)
    if any(o.get("visible_point") is None for o in objects):
        return None
    return len(objects) == n


def sample_object_count(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    countable = [k for k in vocabulary(scene) if object_count_truth(scene, k, 0) is not None]
    if want:
        countable = [k for k in countable if of_kind(scene, k)]  # "exactly zero trees" is presence's job
    if not countable:
        return None
    kind = rng.choice(countable)
    count = len(of_kind(scene, kind))
    n = count
    if not want:
        options = [count + d for d in (-2, -1, 1, 2) if 1 <= count + d < len(NUMBER_WORDS)]
        n = rng.choice(options)
    word = NUMBER_WORDS[n]
    slots = _kind_slots(kind) | {"n": word, "count_phrase": f"{word} {kind if n == 1 else _plural(kind)}"}
    return ask(
        object_count_truth(scene, kind, n),
        want,
        variant="one" if n == 1 else "many",
        slots=slots,
        margin=float(abs(n - count)),
        margin_unit="count",
        params={"kind": kind, "n": n},
    )


def object_color_truth(scene: Scene, kind: str, color: str) -> bool | None:
    """Is some object of this kind `color` (a basic colour name)? None when one is hidden or ambiguous."""
    objects = of_kind(scene, kind)
    if not objects or any(o.get("visible_point") is None for o in objects):
        return None
    named = [color_name_with_margin(o["color"]) for o in objects]
    if min(margin for _, margin in named) < COLOR_NAME_MARGIN_MIN:
        return None
    return color in {name for name, _ in named}


def sample_object_color(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    kinds = [k for k in vocabulary(scene) if object_color_truth(scene, k, "red") is not None]
    if not kinds:
        return None
    kind = rng.choice(kinds)
    named = [color_name_with_margin(o["color"]) for o in of_kind(scene, kind)]
    names = sorted({name for name, _ in named})
    color = rng.choice(names) if want else rng.choice([c for c in COLOR_NAMES if c not in names])
    slots = _kind_slots(kind) | {"color": color, "a_color_kind": _article(f"{color} {kind}")}
    return ask(
        object_color_truth(scene, kind, color),
        want,
        slots=slots,
        margin=min(margin for _, margin in named),
        margin_unit="ciede2000",
        params={"kind": kind, "color": color},
    )

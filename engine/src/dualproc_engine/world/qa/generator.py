"""`make_qa`: question records for a list of scenes, balanced per family and deterministic in a seed."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .common import Sampler, Scene
from .depth import sample_relative_depth
from .horizon import sample_horizon_band, sample_horizon_line
from .layout import sample_layout_match
from .objects import sample_object_color, sample_object_count, sample_object_presence
from .palette import sample_palette_match
from .phrasings import phrase, phrasing_indices, split_of
from .sky import sample_sky, sample_time_of_day
from .stroke import sample_stroke_width


@dataclass(frozen=True)
class Family:
    name: str
    scene_kinds: tuple[str, ...]
    sample: Sampler


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("horizon_line", ("landscape",), sample_horizon_line),
        Family("horizon_band", ("landscape",), sample_horizon_band),
        Family("palette_match", ("landscape", "lineart"), sample_palette_match),
        Family("stroke_width", ("lineart",), sample_stroke_width),
        # line art's draw order is only visible where shapes overlap, so depth is asked of landscapes
        Family("relative_depth", ("landscape",), sample_relative_depth),
        Family("object_presence", ("landscape", "lineart"), sample_object_presence),
        Family("object_count", ("landscape", "lineart"), sample_object_count),
        Family("object_color", ("landscape", "lineart"), sample_object_color),
        Family("sky", ("landscape",), sample_sky),
        Family("time_of_day", ("landscape",), sample_time_of_day),
        Family("layout_match", ("landscape", "lineart"), sample_layout_match),
    )
}


def _as_dict(scene: Any) -> Scene:
    return scene.to_dict() if hasattr(scene, "to_dict") else scene


def _per_family(per_scene: int | Mapping[str, int], names: Sequence[str]) -> dict[str, int]:
    if isinstance(per_scene, Mapping):
        unknown = sorted(set(per_scene) - set(names))
        if unknown:
            raise ValueError(
                f"per_scene: {unknown[0]!r} is not among the families asked for: {', '.join(names)}"
            )
        return {name: int(per_scene.get(name, 0)) for name in names}
    return {name: int(per_scene) for name in names}


def make_qa(
    scenes: Iterable[Any],
    seed: int,
    families: Sequence[str] | None = None,
    per_scene: int | Mapping[str, int] = 1,
    phrasing_split: str = "train",
) -> list[dict[str, Any]]:
    """Yes/no question records for the scenes, exactly balanced per family and deterministic in `seed`.

    `per_scene` is how many questions each scene gets per family (a mapping sets the mix per family);
    scenes of a kind a family does not apply to, or that cannot answer it without doubt, get none.
    Records come out scene by scene: {"family", "question", "answer": "Yes"|"No", "overlay", "margin",
    "margin_unit", "scene_seed", "scene_index", "phrasing", "phrasing_split", "params"}.
    """
    names = list(FAMILIES) if families is None else list(families)
    for name in names:
        if name not in FAMILIES:
            raise ValueError(f"families: unknown family {name!r}; known: {', '.join(FAMILIES)}")
    counts = _per_family(per_scene, names)
    scene_list = [_as_dict(s) for s in scenes]
    keyed: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for family_order, name in enumerate(names):
        family, allowed = FAMILIES[name], phrasing_indices(name, phrasing_split)
        made: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
        tally = {True: 0, False: 0}
        for position, scene in enumerate(scene_list):
            if scene["kind"] not in family.scene_kinds:
                continue
            index = scene.get("index", position)
            for k in range(counts[name]):
                # one generator per (scene, family, k): a question does not change when others are added
                rng = random.Random(f"{seed}/{name}/{scene['seed']}/{index}/{k}")
                want = tally[True] <= tally[False]  # aim at the answer that is behind
                ask = family.sample(scene, rng, want) or family.sample(scene, rng, not want)
                if ask is None:
                    continue
                tally[ask.answer] += 1
                phrasing = rng.choice(allowed)
                record = {
                    "family": name,
                    "question": phrase(name, phrasing, ask.variant, ask.slots),
                    "answer": "Yes" if ask.answer else "No",
                    "overlay": ask.overlay,
                    "margin": ask.margin,
                    "margin_unit": ask.margin_unit,
                    "scene_seed": scene["seed"],
                    "scene_index": index,
                    "phrasing": phrasing,
                    "phrasing_split": split_of(phrasing),
                    "params": dict(ask.params),
                }
                made.append(((position, family_order, k), record))
        keyed.extend(_balanced(made, random.Random(f"{seed}/{name}/balance")))
    return [record for _, record in sorted(keyed, key=lambda item: item[0])]


def _balanced(
    made: list[tuple[tuple[int, int, int], dict[str, Any]]], rng: random.Random
) -> list[tuple[tuple[int, int, int], dict[str, Any]]]:
    """Drop a random surplus of the majority answer so that Yes and No are exactly as many."""
    yes = [m for m in made if m[1]["answer"] == "Yes"]
    no = [m for m in made if m[1]["answer"] == "No"]
    keep = min(len(yes), len(no))
    return rng.sample(yes, keep) + rng.sample(no, keep)

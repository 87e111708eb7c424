"""relative_depth: is the object at point A closer to the viewer than the one at point B?

Landscapes only: there, `distance` follows ground-plane perspective (size and height in the image), while
line art's draw order is visible only where shapes overlap.
"""

from __future__ import annotations

import itertools
import math
import random

from ...prompts.spec import PointsSpec, overlay_to_dict
from .common import Ask, Scene, ask, visible

DEPTH_RATIO_MIN = 1.5
"""Pairs whose distances differ by less than this factor are not asked: no clear gap."""
POINT_SEPARATION_MIN = 0.1
"""Points A and B at least this far apart (fraction of the side): their dots and labels must not merge."""


def relative_depth_truth(scene: Scene, a: int, b: int, relation: str) -> bool | None:
    """Is object a `relation` ("closer" / "farther") to the viewer than object b (indices into objects)?"""
    da, db = scene["objects"][a]["distance"], scene["objects"][b]["distance"]
    if min(da, db) <= 0 or max(da, db) / min(da, db) < DEPTH_RATIO_MIN:
        return None
    return (da < db) == (relation == "closer")


def _depth_pairs(scene: Scene) -> list[tuple[int, int]]:
    pairs = []
    for (i, oi), (j, oj) in itertools.combinations(visible(scene), 2):
        if math.dist(oi["visible_point"], oj["visible_point"]) < POINT_SEPARATION_MIN:
            continue
        if relative_depth_truth(scene, i, j, "closer") is not None:
            pairs.append((i, j))
    return pairs


def sample_relative_depth(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    pairs = _depth_pairs(scene)
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    relation = rng.choice(("closer", "farther"))
    if relative_depth_truth(scene, a, b, relation) != want:
        a, b = b, a  # the same pair the other way round answers the other way
    objects = scene["objects"]
    da, db = objects[a]["distance"], objects[b]["distance"]
    spec = PointsSpec(a=tuple(objects[a]["visible_point"]), b=tuple(objects[b]["visible_point"]))
    return ask(
        relative_depth_truth(scene, a, b, relation),
        want,
        variant=relation,
        overlay=overlay_to_dict(spec),
        margin=max(da, db) / min(da, db),
        margin_unit="distance_ratio",
        params={"a_object": a, "b_object": b, "relation": relation},
    )

"""What every question family shares: the sampled question (`Ask`), object look-ups, and the contract's
vocabularies (docs/world-contract.md)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Scene = Mapping[str, Any]

LANDSCAPE_OBJECTS = ("tree", "house", "mountain", "person", "animal")
LINEART_OBJECTS = ("circle", "square", "triangle", "star", "house", "tree")
SKY_KINDS = ("day", "sunset", "night", "overcast")

HARD_SHARE = 0.5
"""Share of the Nos drawn from the hard (near-miss) range, where the family has one."""


@dataclass(frozen=True)
class Ask:
    """A sampled question before wording: its exact answer, parameters and evidence margin."""

    answer: bool
    variant: str | None = None
    slots: Mapping[str, str] = field(default_factory=dict)
    overlay: dict[str, Any] | None = None
    margin: float | None = None
    margin_unit: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


Sampler = Callable[[Scene, random.Random, bool], Ask | None]
"""(scene, rng, wanted answer) -> an Ask, or None when this scene cannot give that answer without doubt."""


def ask(truth: bool | None, want: bool, **fields: Any) -> Ask | None:
    """The Ask when the truth function agrees with the aim; None for doubtful or missed parameters."""
    if truth is None or truth != want:
        return None
    return Ask(answer=truth, **fields)


def visible(scene: Scene) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, object) of the objects with something in sight."""
    return [(i, o) for i, o in enumerate(scene.get("objects", [])) if o.get("visible_point") is not None]


def of_kind(scene: Scene, kind: str) -> list[Mapping[str, Any]]:
    return [o for o in scene.get("objects", []) if o["kind"] == kind]


def vocabulary(scene: Scene) -> tuple[str, ...]:
    """The object kinds a scene of this kind can hold."""
    return LANDSCAPE_OBJECTS if scene["kind"] == "landscape" else LINEART_OBJECTS


def hard_or_easy(rng: random.Random, hard: tuple[float, float], easy: tuple[float, float]) -> float:
    lo, hi = hard if rng.random() < HARD_SHARE else easy
    return rng.uniform(lo, hi)

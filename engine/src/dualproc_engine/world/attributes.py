"""A scene's ground truth, exactly as docs/world-contract.md specifies it.

`SceneAttributes.to_dict()` is one line of `attributes.jsonl`; `from_dict` reads it back. The attributes
determine the rendered image: geometry the contract does not name (a tree's variant, which way an animal
faces, where the sun and the stars are) is drawn from the scene's own `seed` by the renderer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .palettes import Palette

SCENE_KINDS = ("landscape", "lineart")
SKY_KINDS = ("day", "sunset", "night", "overcast")
GROUND_KINDS = ("grass", "sand", "snow", "water", "rock")
CELESTIAL_KINDS = ("sun", "moon")
LANDSCAPE_OBJECTS = ("tree", "house", "mountain", "person", "animal")
LINEART_OBJECTS = ("circle", "square", "triangle", "star", "house", "tree")
HORIZON_RANGE = (0.1, 0.9)
MAX_TILT_DEG = 4.0


@dataclass
class SceneObject:
    """One object. Coordinates are fractions of the side, origin top-left, y down."""

    kind: str
    color: str
    box: tuple[float, float, float, float]
    distance: float
    visible_point: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "color": self.color,
            "box": list(self.box),
            "distance": self.distance,
            "visible_point": list(self.visible_point) if self.visible_point is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneObject:
        point = data.get("visible_point")
        x0, y0, x1, y1 = (float(v) for v in data["box"])
        return cls(
            kind=str(data["kind"]),
            color=str(data["color"]),
            box=(x0, y0, x1, y1),
            distance=float(data["distance"]),
            visible_point=(float(point[0]), float(point[1])) if point is not None else None,
        )


@dataclass
class SceneAttributes:
    """Everything known about one scene; `objects` are in drawing order (farthest first)."""

    seed: int
    index: int
    size_px: int
    kind: str
    palette: Palette
    horizon: float | None
    horizon_tilt_deg: float
    sky: str | None
    ground: str | None
    celestial: str | None
    stroke_width_px: float | None
    objects: list[SceneObject] = field(default_factory=list)
    caption: str = ""
    file: str | None = None

    def validate(self) -> None:
        """Raise ValueError naming the first attribute outside the contract."""
        _check(self.kind in SCENE_KINDS, f"kind must be one of {SCENE_KINDS}, got {self.kind!r}")
        _check(self.size_px >= 8, f"size_px must be at least 8, got {self.size_px}")
        _check(abs(self.horizon_tilt_deg) <= MAX_TILT_DEG, f"|horizon_tilt_deg| must be <= {MAX_TILT_DEG}")
        _check(
            self.celestial in (None, *CELESTIAL_KINDS),
            f"celestial must be sun, moon or null: {self.celestial!r}",
        )
        if self.kind == "landscape":
            _check(
                self.horizon is not None and HORIZON_RANGE[0] <= self.horizon <= HORIZON_RANGE[1],
                f"a landscape's horizon must be in {list(HORIZON_RANGE)}, got {self.horizon!r}",
            )
            _check(self.sky in SKY_KINDS, f"sky must be one of {SKY_KINDS}, got {self.sky!r}")
            _check(self.ground in GROUND_KINDS, f"ground must be one of {GROUND_KINDS}, got {self.ground!r}")
            allowed: tuple[str, ...] = LANDSCAPE_OBJECTS
        else:
            _check(
                self.stroke_width_px is not None and self.stroke_width_px > 0,
                f"line art needs a positive stroke_width_px, got {self.stroke_width_px!r}",
            )
            allowed = LINEART_OBJECTS
        for obj in self.objects:
            _check(obj.kind in allowed, f"a {self.kind} object is one of {allowed}, got {obj.kind!r}")
            _check(all(math.isfinite(v) for v in obj.box), f"object box must be finite, got {obj.box}")

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object; `file` is present only once the scene was written to disk."""
        data: dict[str, Any] = {"seed": self.seed, "index": self.index}
        if self.file is not None:
            data["file"] = self.file
        data.update(
            size_px=self.size_px,
            kind=self.kind,
            palette=self.palette.to_dict(),
            horizon=self.horizon,
            horizon_tilt_deg=self.horizon_tilt_deg,
            sky=self.sky,
            ground=self.ground,
            celestial=self.celestial,
            stroke_width_px=self.stroke_width_px,
            objects=[obj.to_dict() for obj in self.objects],
            caption=self.caption,
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneAttributes:
        def optional_float(key: str) -> float | None:
            value = data.get(key)
            return float(value) if value is not None else None

        return cls(
            seed=int(data["seed"]),
            index=int(data["index"]),
            size_px=int(data["size_px"]),
            kind=str(data["kind"]),
            palette=Palette.from_dict(data["palette"]),
            horizon=optional_float("horizon"),
            horizon_tilt_deg=float(data.get("horizon_tilt_deg", 0.0)),
            sky=data.get("sky"),
            ground=data.get("ground"),
            celestial=data.get("celestial"),
            stroke_width_px=optional_float("stroke_width_px"),
            objects=[SceneObject.from_dict(o) for o in data.get("objects", [])],
            caption=str(data.get("caption", "")),
            file=data.get("file"),
        )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)

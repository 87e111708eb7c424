"""The app's overlay bounds (its zod schema, exported to protocol/schemas) are the engine's: a visual prompt
the app lets a user write is one the engine draws, and one just past the app's bound the engine refuses too.

Both sides check overlays (the engine is also a library), so the bounds live twice; this test keeps them
equal, since a recipe the app accepts and the engine then refuses fails only once a job has started."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dualproc_engine.prompts import OverlaySpecError, parse_overlay

REQUEST_SCHEMA = Path(__file__).resolve().parents[3] / "protocol" / "schemas" / "request.schema.json"
BASE = {
    "horizon": {"kind": "horizon", "y": 0.5},
    "palette": {"kind": "palette", "colors": ["#aabbcc"]},
    "stroke": {"kind": "stroke", "width_px": 2},
    "layout": {"kind": "layout", "boxes": [{"box": [0.1, 0.2, 0.5, 0.9], "label": "tree"}]},
}


def _overlay_schemas(kind: str) -> list[dict[str, Any]]:
    """Every object schema in the request schema that is the overlay `kind` (recipes, ask, teach jobs)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and props.get("kind", {}).get("const") == kind and "path" not in props:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(REQUEST_SCHEMA.read_text()))
    assert found, f"no {kind} overlay in {REQUEST_SCHEMA}"
    return found


def _with(kind: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE[kind]), **changes}


def _box(label: str) -> dict[str, Any]:
    return {"box": [0.1, 0.2, 0.5, 0.9], "label": label}


def _at_and_past(kind: str, schema: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(at the app's bound, just past it) for each bound of the overlay `kind`."""
    props = schema["properties"]
    if kind == "horizon":
        hi, lo = props["y"]["maximum"], props["y"]["minimum"]
        return [(_with(kind, y=hi), _with(kind, y=hi + 0.01)), (_with(kind, y=lo), _with(kind, y=lo - 0.01))]
    if kind == "palette":
        n = props["colors"]["maxItems"]
        return [(_with(kind, colors=["#aabbcc"] * n), _with(kind, colors=["#aabbcc"] * (n + 1)))]
    if kind == "stroke":
        hi = props["width_px"]["maximum"]
        return [(_with(kind, width_px=hi), _with(kind, width_px=hi + 0.5))]
    boxes = props["boxes"]
    n, length = boxes["maxItems"], boxes["items"]["properties"]["label"]["maxLength"]
    return [
        (_with(kind, boxes=[_box("tree")] * n), _with(kind, boxes=[_box("tree")] * (n + 1))),
        (_with(kind, boxes=[_box("a" * length)]), _with(kind, boxes=[_box("a" * (length + 1))])),
    ]


@pytest.mark.parametrize("label", ["tree", "big tree-2", "tree!", "café", "a_b"])
def test_the_app_and_the_engine_draw_the_same_labels(label: str) -> None:
    (schema,) = {json.dumps(s, sort_keys=True): s for s in _overlay_schemas("layout")}.values()
    pattern = schema["properties"]["boxes"]["items"]["properties"]["label"]["pattern"]
    app_accepts = re.search(pattern, label) is not None
    try:
        parse_overlay(_with("layout", boxes=[_box(label)]))
        engine_accepts = True
    except OverlaySpecError:
        engine_accepts = False
    assert app_accepts == engine_accepts


@pytest.mark.parametrize("kind", sorted(BASE))
def test_the_app_bounds_are_the_engine_bounds(kind: str) -> None:
    for schema in _overlay_schemas(kind):
        for at_bound, past_bound in _at_and_past(kind, schema):
            parse_overlay(at_bound)  # the app lets a user write it: the engine must draw it
            with pytest.raises(OverlaySpecError):
                parse_overlay(past_bound)

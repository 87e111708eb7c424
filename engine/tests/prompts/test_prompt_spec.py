"""Overlay specs: the five JSON forms, their round trip, and one-line errors that name the field."""

import pytest

from dualproc_engine.errors import UserError
from dualproc_engine.prompts import OverlaySpecError, overlay_to_dict, parse_overlay
from dualproc_engine.prompts.spec import HorizonSpec, LayoutSpec, PointsSpec

FORMS = [
    {"kind": "horizon", "y": 0.35},
    {"kind": "palette", "colors": ["#aabbcc", "#112233"]},
    {"kind": "palette", "colors": ["#aabbcc", "#112233"], "layout": "tiles"},
    {"kind": "stroke", "width_px": 3},
    {"kind": "points", "a": [0.2, 0.7], "b": [0.6, 0.4]},
    {"kind": "layout", "boxes": [{"box": [0.1, 0.2, 0.5, 0.9], "label": "tree"}]},
    {"kind": "horizon", "y": 0.5, "tilt_deg": -3.5, "width_px": 1.5, "mode": "blend", "opacity": 0.3},
    {"kind": "stroke", "width_px": 1.25, "curve": 0.4, "color": "#102030", "mode": "blend"},
]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f["kind"])
def test_forms_parse_and_round_trip(form):
    spec = parse_overlay(form)
    assert spec.kind == form["kind"]
    assert overlay_to_dict(spec) == form
    assert parse_overlay(spec) is spec


def test_defaults_are_paste_and_half_opacity_for_blend():
    assert parse_overlay({"kind": "points", "a": [0, 0], "b": [1, 1]}).mode == "paste"
    assert parse_overlay({"kind": "horizon", "y": 0.5, "mode": "blend"}).blend_opacity == 0.5


def test_values_are_normalised():
    spec = parse_overlay({"kind": "palette", "colors": ["#AABBCC"]})
    assert spec.colors == ("#aabbcc",)
    points = parse_overlay({"kind": "points", "a": [0, 1], "b": [0.5, 0.5]})
    assert isinstance(points, PointsSpec) and points.a == (0.0, 1.0) and isinstance(points.a[0], float)


def test_dataclasses_validate_when_built_directly():
    assert HorizonSpec(y=0.25).y == 0.25
    with pytest.raises(OverlaySpecError, match=r"^overlay\.y: "):
        HorizonSpec(y=1.5)
    layout = LayoutSpec(boxes=[{"box": [0, 0, 1, 1], "label": "sky"}])  # type: ignore[list-item]
    assert layout.boxes[0].label == "sky"


BAD = [
    ([1, 2], "overlay: expected an object"),
    ({"y": 0.5}, "overlay.kind: expected one of horizon, palette, stroke, points, layout"),
    ({"kind": "circle"}, "overlay.kind: expected one of"),
    ({"kind": "horizon"}, "overlay.y: required for kind 'horizon'"),
    ({"kind": "horizon", "y": 1.2}, r"overlay.y: expected a number in \[0, 1\], got 1.2"),
    ({"kind": "horizon", "y": True}, "overlay.y: expected a number"),
    ({"kind": "horizon", "y": "0.5"}, "overlay.y: expected a number"),
    ({"kind": "horizon", "y": float("nan")}, "overlay.y: expected a number"),
    (
        {"kind": "horizon", "y": 0.5, "height": 2},
        "overlay.height: unknown field for kind 'horizon'; allowed:",
    ),
    ({"kind": "horizon", "y": 0.5, "width_px": 0}, r"overlay.width_px: expected a number in \(0, 32\]"),
    ({"kind": "horizon", "y": 0.5, "color": "red"}, "overlay.color: expected a colour '#rrggbb'"),
    ({"kind": "horizon", "y": 0.5, "mode": "over"}, "overlay.mode: expected 'paste' or 'blend'"),
    ({"kind": "horizon", "y": 0.5, "opacity": 0.3}, "overlay.opacity: only allowed with mode 'blend'"),
    (
        {"kind": "horizon", "y": 0.5, "mode": "blend", "opacity": 0},
        r"overlay.opacity: expected a number in \(0, 1\]",
    ),
    ({"kind": "palette", "colors": []}, "overlay.colors: expected a list of 1 to 12 colours"),
    ({"kind": "palette", "colors": "#aabbcc"}, "overlay.colors: expected a list"),
    (
        {"kind": "palette", "colors": ["#aabbcc"], "layout": "grid"},
        "overlay.layout: expected 'band' or 'tiles'",
    ),
    ({"kind": "palette", "colors": ["#aabbcc", "#12345"]}, r"overlay.colors\[1\]: expected a colour"),
    ({"kind": "stroke"}, "overlay.width_px: required for kind 'stroke'"),
    ({"kind": "stroke", "width_px": 3, "curve": 2}, r"overlay.curve: expected a number in \[0, 1\]"),
    ({"kind": "points", "a": [0.1, 0.2]}, "overlay.b: required for kind 'points'"),
    ({"kind": "points", "a": [0.1], "b": [0.2, 0.3]}, r"overlay.a: expected \[x, y\]"),
    ({"kind": "points", "a": [0.1, 0.2], "b": [0.2, -0.3]}, r"overlay.b\[1\]: expected a number in \[0, 1\]"),
    ({"kind": "layout", "boxes": []}, "overlay.boxes: expected a list of 1 to 16 boxes"),
    ({"kind": "layout", "boxes": [{"box": [0, 0, 1, 1]}]}, r"overlay.boxes\[0\]: expected \{"),
    (
        {"kind": "layout", "boxes": [{"box": [0.5, 0, 0.2, 1], "label": "x"}]},
        r"overlay.boxes\[0\].box: expected x0 < x1",
    ),
    (
        {"kind": "layout", "boxes": [{"box": [0, 0, 1, 1], "label": "tree!"}]},
        r"overlay.boxes\[0\].label: expected 1 to 16",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"), BAD, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(BAD)]
)
def test_bad_specs_raise_one_line_value_errors(data, message):
    with pytest.raises(OverlaySpecError, match="^" + message) as info:
        parse_overlay(data)
    assert isinstance(info.value, ValueError) and isinstance(info.value, UserError)
    assert "\n" not in str(info.value)

"""Scene attributes: reproducible sampling, fixed attributes, the contract's JSON, perspective."""

import json
import math

import pytest

from dualproc_engine.world.attributes import LANDSCAPE_OBJECTS, LINEART_OBJECTS, SceneAttributes
from dualproc_engine.world.layout import horizon_y
from dualproc_engine.world.scene import FIXABLE, sample_scene, sample_scenes, scene_seed

CONTRACT_KEYS = [
    "seed",
    "index",
    "size_px",
    "kind",
    "palette",
    "horizon",
    "horizon_tilt_deg",
    "sky",
    "ground",
    "celestial",
    "stroke_width_px",
    "objects",
    "caption",
]
OBJECT_KEYS = ["kind", "color", "box", "distance", "visible_point"]


@pytest.fixture(scope="module")
def scenes() -> list[SceneAttributes]:
    return sample_scenes(5, 200)


def test_same_seed_same_scenes_and_different_seeds_differ(scenes):
    again = sample_scenes(5, 200)
    assert [s.to_dict() for s in again] == [s.to_dict() for s in scenes]
    other = sample_scenes(6, 200)
    assert sum(a.to_dict() != b.to_dict() for a, b in zip(scenes, other, strict=True)) == 200


def test_any_scene_regenerates_alone(scenes):
    for i in (0, 17, 199):
        alone = sample_scene(scene_seed(5, i), i)
        assert alone.to_dict() == scenes[i].to_dict() and alone.seed == 5 * 1_000_003 + i
    assert [s.to_dict() for s in sample_scenes(5, 20)] == [s.to_dict() for s in scenes[:20]]


def test_kind_none_mixes_both_kinds(scenes):
    kinds = [s.kind for s in scenes]
    assert 60 <= kinds.count("landscape") <= 140


def test_attributes_follow_the_contract_and_round_trip_through_json(scenes):
    for scene in scenes:
        data = scene.to_dict()
        assert list(data) == CONTRACT_KEYS  # `file` only once written to disk
        for obj in data["objects"]:
            assert list(obj) == OBJECT_KEYS
        back = SceneAttributes.from_dict(json.loads(json.dumps(data)))
        assert back == scene and back.to_dict() == data
    scene = scenes[0]
    scene_file = SceneAttributes.from_dict({**scene.to_dict(), "file": "000000.png"})
    assert list(scene_file.to_dict())[:3] == ["seed", "index", "file"]


def test_landscape_and_lineart_fields(scenes):
    for s in scenes:
        if s.kind == "landscape":
            assert s.horizon is not None and 0.1 <= s.horizon <= 0.9
            assert abs(s.horizon_tilt_deg) <= 4.0
            assert s.sky and s.ground and s.stroke_width_px is None
            assert s.celestial == {"day": "sun", "sunset": "sun", "night": "moon", "overcast": None}[s.sky]
            assert all(o.kind in LANDSCAPE_OBJECTS for o in s.objects)
        else:
            assert s.horizon is None and s.sky is None and s.ground is None and s.celestial is None
            assert s.horizon_tilt_deg == 0.0
            assert s.stroke_width_px is not None and 1.0 <= s.stroke_width_px <= 6.0
            assert 2 <= len(s.objects) <= 5 and all(o.kind in LINEART_OBJECTS for o in s.objects)
        assert 4 <= len(s.palette.colors) <= 6


@pytest.mark.parametrize("size", [64, 256])
def test_object_boxes_are_inside_the_image(size):
    for s in sample_scenes(9, 150, size_px=size):
        for o in s.objects:
            x0, y0, x1, y1 = o.box
            assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0, (s.seed, o)


def test_objects_are_in_drawing_order(scenes):
    for s in scenes:
        distances = [o.distance for o in s.objects]
        assert distances == sorted(distances, reverse=True)


def test_perspective_farther_objects_are_smaller_and_closer_to_the_horizon():
    checked = 0
    for s in sample_scenes(3, 150, kind="landscape"):
        assert s.horizon is not None
        standing = [o for o in s.objects if o.kind != "mountain"]
        for o in standing:
            centre = 0.5 * (o.box[0] + o.box[2])
            offset = o.box[3] - horizon_y(s.horizon, s.horizon_tilt_deg, centre)
            # base below the horizon by (1 - horizon) / distance: the ground-plane projection
            assert offset == pytest.approx((1 - s.horizon) / o.distance, abs=2e-3)
        for a in standing:
            for b in standing:
                if a.kind == b.kind == "person" and a.distance > b.distance * 1.5:
                    assert a.box[3] - a.box[1] < b.box[3] - b.box[1]
                    checked += 1
        for o in s.objects:
            if o.kind == "mountain":  # standing on the horizon, behind everything on the ground
                assert all(o.distance > g.distance for g in standing)
    assert checked > 0


def test_fixed_attributes_are_used_as_given():
    for s in sample_scenes(1, 20, kind="landscape", horizon=0.3, palette="retro", sky="night", ground="snow"):
        assert (s.horizon, s.palette.name, s.sky, s.ground, s.celestial) == (
            0.3,
            "retro",
            "night",
            "snow",
            "moon",
        )
    for s in sample_scenes(1, 10, kind="lineart", stroke_width_px=3, object_kinds=["star", "circle"]):
        assert s.stroke_width_px == 3.0 and sorted(o.kind for o in s.objects) == ["circle", "star"]
    flat = sample_scenes(1, 5, kind="landscape", horizon_tilt_deg=0.0, object_kinds=["tree", "mountain"])
    assert all(s.horizon_tilt_deg == 0.0 for s in flat)
    assert all(sorted(o.kind for o in s.objects) == ["mountain", "tree"] for s in flat)
    custom = sample_scenes(1, 3, palette=["#102030", "#405060", "#708090", "#a0b0c0", "#d0e0f0"])
    assert all(s.palette.name is None and s.palette.colors[0] == "#102030" for s in custom)


def test_fixed_objects_are_sorted_into_drawing_order():
    objects = [
        {
            "kind": "house",
            "color": "#264653",
            "box": [0.4, 0.5, 0.6, 0.7],
            "distance": 2.0,
            "visible_point": None,
        },
        {
            "kind": "tree",
            "color": "#2a9d8f",
            "box": [0.45, 0.3, 0.55, 0.6],
            "distance": 5.0,
            "visible_point": None,
        },
    ]
    s = sample_scene(0, kind="landscape", horizon=0.5, objects=objects)
    assert [o.kind for o in s.objects] == ["tree", "house"]


@pytest.mark.parametrize(
    ("kind", "fixed", "message"),
    [
        ("landscape", {"horizon": 0.95}, "horizon"),
        ("landscape", {"horizon_tilt_deg": 7}, "tilt"),
        ("landscape", {"sky": "rainy"}, "sky"),
        ("landscape", {"ground": "lava"}, "ground"),
        ("landscape", {"stroke_width_px": 2}, "line art"),
        ("lineart", {"sky": "day"}, "landscapes"),
        ("lineart", {"object_kinds": ["mountain"]}, "line-art"),
        (None, {"colour": "red"}, "fixable"),
        (None, {"palette": "sepia"}, "palette"),
    ],
)
def test_bad_fixed_attributes_say_what_is_allowed(kind, fixed, message):
    with pytest.raises(ValueError, match=message):
        sample_scenes(0, 2, kind=kind, **fixed)


def test_every_fixable_attribute_is_documented():
    assert set(FIXABLE) >= {
        "palette",
        "horizon",
        "horizon_max",
        "horizon_tilt_deg",
        "sky",
        "ground",
        "celestial",
        "stroke_width_px",
    }


def test_stroke_width_scales_with_size():
    small = sample_scenes(4, 30, kind="lineart", size_px=64)
    large = sample_scenes(4, 30, kind="lineart", size_px=256)
    for a, b in zip(small, large, strict=True):
        assert a.stroke_width_px is not None and b.stroke_width_px is not None
        assert math.isclose(b.stroke_width_px, 4 * a.stroke_width_px, rel_tol=1e-3)


@pytest.mark.parametrize("horizon", [0.1, 0.9])
def test_asked_for_object_kinds_appear_even_at_extreme_horizons(horizon):
    kinds = ["animal", "house", "mountain", "person", "tree"]
    for s in sample_scenes(0, 10, kind="landscape", horizon=horizon, object_kinds=kinds):
        assert sorted(o.kind for o in s.objects) == kinds


def test_objects_leave_most_of_the_horizon_visible():
    from dualproc_engine.world.layout import MAX_HORIZON_COVER, HorizonCover

    for s in sample_scenes(2, 150, kind="landscape"):
        assert s.horizon is not None
        cover = HorizonCover()
        for o in s.objects:
            if o.box[1] < horizon_y(s.horizon, s.horizon_tilt_deg, 0.5 * (o.box[0] + o.box[2])):
                cover.add(o.box[0], o.box[2])
        assert cover.covered() <= MAX_HORIZON_COVER + 1e-9


def test_fixing_one_attribute_leaves_the_other_draws_unchanged():
    """Counterfactual pairs: the same seed with another sky keeps horizon, ground, palette and layout."""
    for seed in range(10):
        day = sample_scene(seed, kind="landscape", sky="day")
        night = sample_scene(seed, kind="landscape", sky="night")
        assert (day.horizon, day.horizon_tilt_deg, day.ground, day.palette) == (
            night.horizon,
            night.horizon_tilt_deg,
            night.ground,
            night.palette,
        )
        assert [(o.kind, o.box, o.distance) for o in day.objects] == [
            (o.kind, o.box, o.distance) for o in night.objects
        ]
        low = sample_scene(seed, kind="lineart", stroke_width_px=1.5, palette="retro")
        high = sample_scene(seed, kind="lineart", stroke_width_px=1.5, palette="neon")
        assert [o.kind for o in low.objects] == [o.kind for o in high.objects]


def test_horizon_max_lowers_only_the_horizons_above_it():
    """A relative-depth twin: horizons above the bound come down to it, the rest of each scene stays."""
    bound = 0.5
    for seed in range(20):
        plain = sample_scene(seed, kind="landscape")
        twin = sample_scene(seed, kind="landscape", horizon_max=bound)
        assert twin.horizon == min(plain.horizon, bound)
        assert (twin.horizon_tilt_deg, twin.sky, twin.ground, twin.palette) == (
            plain.horizon_tilt_deg,
            plain.sky,
            plain.ground,
            plain.palette,
        )
        if plain.horizon <= bound:
            assert twin.to_dict() == plain.to_dict()  # nothing to lower: the same scene

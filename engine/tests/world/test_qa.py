"""QA generator: exact answers on hand-made scenes, stated margins, balance, splits and determinism."""

import math
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest

from dualproc_engine.prompts import overlay_to_dict, parse_overlay
from dualproc_engine.world import qa
from dualproc_engine.world.color_names import color_name_with_margin
from dualproc_engine.world.colorspace import ciede2000, hex_to_rgb, rgb_to_cielab
from dualproc_engine.world.qa import make_qa
from dualproc_engine.world.qa.common import LANDSCAPE_OBJECTS, LINEART_OBJECTS, SKY_KINDS

PALETTE = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"]


def obj(kind: str, box: list[float], distance: float, color: str = "#ff0000", visible: bool = True) -> dict:
    point = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] if visible else None
    return {"kind": kind, "color": color, "box": box, "distance": distance, "visible_point": point}


def landscape(seed: int = 1, **fields: Any) -> dict:
    scene = {
        "seed": seed,
        "index": 0,
        "size_px": 64,
        "kind": "landscape",
        "palette": {"name": None, "colors": list(PALETTE)},
        "horizon": 0.5,
        "horizon_tilt_deg": 0.0,
        "sky": "day",
        "ground": "grass",
        "celestial": "sun",
        "stroke_width_px": None,
        "objects": [],
        "caption": "",
    }
    scene.update(fields)
    return scene


def lineart(seed: int = 1, **fields: Any) -> dict:
    scene = landscape(seed, kind="lineart", horizon=None, sky=None, ground=None, celestial=None)
    scene.update({"stroke_width_px": 2.0, **fields})
    return scene


def random_scene(rng: random.Random, index: int) -> dict:
    """A contract-shaped scene with random attributes, independent of the renderer."""
    kind = rng.choice(["landscape", "lineart"])
    colors = ["#" + "".join(f"{rng.randrange(256):02x}" for _ in range(3)) for _ in range(rng.randint(4, 6))]
    kinds = LANDSCAPE_OBJECTS if kind == "landscape" else LINEART_OBJECTS
    objects = []
    for order in range(rng.randint(0, 5)):
        w, h = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)
        x0, y0 = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
        k = rng.choice(kinds)
        distance = rng.uniform(100, 200) if k == "mountain" else rng.uniform(1.05, 20.0)
        if kind == "lineart":
            distance = float(5 - order)
        color = rng.choice(colors + ["#ff0000", "#0000ff", "#00a000", "#ffff00"])
        objects.append(obj(k, [x0, y0, x0 + w, y0 + h], distance, color, visible=rng.random() > 0.1))
    size = rng.choice([64, 128])
    common = {"seed": 1000 + index, "index": index, "size_px": size, "objects": objects}
    common["palette"] = {"name": None, "colors": colors}
    if kind == "landscape":
        sky = rng.choice(SKY_KINDS)
        return landscape(
            horizon=rng.uniform(0.1, 0.9), horizon_tilt_deg=rng.uniform(-4, 4), sky=sky, **common
        )
    return lineart(stroke_width_px=rng.uniform(1.0, 6.0) * size / 64, **common)


@pytest.fixture(scope="module")
def scenes() -> list[dict]:
    rng = random.Random(5)
    return [random_scene(rng, i) for i in range(240)]


@pytest.fixture(scope="module")
def records(scenes) -> list[dict]:
    return make_qa(scenes, seed=11, per_scene=2)


def of(records: list[dict], family: str) -> list[dict]:
    return [r for r in records if r["family"] == family]


def scene_of(scenes: list[dict], record: dict) -> dict:
    return next(s for s in scenes if s["seed"] == record["scene_seed"])


# --- exact answers on hand-made scenes -----------------------------------------------------------------


def test_horizon_line_answers():
    scene = landscape(horizon=0.5)
    assert qa.horizon_line_truth(scene, 0.5) is True
    assert qa.horizon_line_truth(scene, 0.504) is True
    assert qa.horizon_line_truth(scene, 0.58) is False
    assert qa.horizon_line_truth(scene, 0.47) is False
    assert qa.horizon_line_truth(scene, 0.515) is None  # between tolerance and the smallest miss: never asked


@pytest.mark.parametrize(
    ("horizon", "answers"),
    [
        (0.2, {"high": True, "middle": False, "low": False}),
        (0.5, {"high": False, "middle": True, "low": False}),
        (0.8, {"high": False, "middle": False, "low": True}),
        (0.35, {"high": None, "middle": None, "low": None}),  # 0.017 from the 1/3 edge: ambiguous
    ],
)
def test_horizon_band_is_measured_from_the_top(horizon, answers):
    scene = landscape(horizon=horizon)
    assert {band: qa.horizon_band_truth(scene, band) for band in answers} == answers


def test_palette_answers():
    scene = landscape()
    assert qa.palette_truth(scene, PALETTE) is True
    assert qa.palette_truth(scene, list(reversed(PALETTE))) is True  # order carries no meaning
    assert qa.palette_truth(scene, [*PALETTE[:4], "#ff00ff"]) is False
    assert qa.palette_truth(scene, PALETTE[:4]) is False  # a colour missing from the strip
    assert qa.palette_truth(scene, [*PALETTE[:4], "#e76f53"]) is True  # 2/255 off: the same colour


def flat_image(colors_by_row: list[str], size: int = 64) -> np.ndarray:
    """(3, size, size) in [0, 1]: horizontal bands of the given colours, top to bottom."""
    image = np.zeros((3, size, size))
    rows = np.array_split(np.arange(size), len(colors_by_row))
    for band, color in zip(rows, colors_by_row, strict=True):
        image[:, band] = np.array(hex_to_rgb(color))[:, None, None]
    return image


def test_visible_adherence_reads_the_pixels_above_the_strip():
    two_colours = flat_image([PALETTE[0], PALETTE[2]])
    assert qa.visible_adherence(two_colours, PALETTE) == pytest.approx(0.0, abs=0.5)
    # unused swatches cost nothing; a swatch the picture shows swapped away costs about half its pixels
    assert qa.visible_adherence(two_colours, PALETTE[:3]) == pytest.approx(0.0, abs=0.5)
    missing = qa.visible_adherence(two_colours, [PALETTE[0], PALETTE[4]])
    top_share = 32 / 56  # the bottom 8 px are under the strip and not counted
    gap = float(ciede2000(lab([PALETTE[2]]), lab([PALETTE[4]]))[0])
    assert missing == pytest.approx((1 - top_share) * gap, rel=0.02)
    # what sits under the strip is not seen
    hidden = flat_image([PALETTE[0]] * 7 + ["#ff00ff"])
    assert qa.visible_adherence(hidden, [PALETTE[0]]) == pytest.approx(0.0, abs=0.5)


def test_palette_records_agree_with_the_pixels():
    image = flat_image([PALETTE[0], PALETTE[2]])
    base = {"family": "palette_match", "scene_index": 0}
    unused_swap = {**base, "answer": "No", "params": {"colors": [PALETTE[0], PALETTE[2], "#ff00ff"]}}
    seen_swap = {**base, "answer": "No", "params": {"colors": [PALETTE[0], "#ff00ff"]}}
    yes = {**base, "answer": "Yes", "params": {"colors": PALETTE}}
    other = {"family": "sky", "answer": "Yes", "scene_index": 0, "params": {}}
    kept = qa.agree_with_pixels([unused_swap, seen_swap, yes, other], [image])
    assert [r["params"].get("colors") for r in kept] == [seen_swap["params"]["colors"], PALETTE, None]
    assert kept[0]["params"]["visible_adherence"] >= 12 and kept[1]["params"]["visible_adherence"] <= 6


def test_a_strip_whose_colours_the_picture_does_not_use_is_a_no():
    """Adherence alone called a wash of one strip colour a Yes; the palette question now also wants two of
    the strip's colours (its only one, if it has one) on enough of the picture."""
    from dualproc_engine.world.qa.palette import visible_fit, visible_truth

    wash = flat_image([PALETTE[3]])
    assert visible_fit(wash, PALETTE).adherence == pytest.approx(0.0, abs=0.5)
    assert visible_truth(visible_fit(wash, PALETTE)) is False
    assert visible_truth(visible_fit(wash, [PALETTE[3]])) is True  # a one-colour strip
    two = flat_image([PALETTE[0], PALETTE[3]])
    assert visible_fit(two, PALETTE).shares[0] == pytest.approx(32 / 56)
    assert visible_truth(visible_fit(two, PALETTE)) is True
    # a second colour on a sliver: 2 of 56 visible rows (3.6%) is neither clearly used nor clearly not
    sliver = flat_image([PALETTE[0]] * 26 + [PALETTE[3]] + [PALETTE[0]] * 5)
    assert visible_truth(visible_fit(sliver, PALETTE)) is None


def test_stroke_width_answers_in_px_at_64():
    scene = lineart(size_px=128, stroke_width_px=4.0)  # 2 px at 64 px
    assert qa.stroke_width_at_64(scene) == 2.0
    assert qa.stroke_width_truth(scene, 2.0) is True
    assert qa.stroke_width_truth(scene, 3.0) is False
    assert qa.stroke_width_truth(scene, 0.9) is False
    assert qa.stroke_width_truth(scene, 2.5) is None


def test_relative_depth_answers():
    scene = landscape(
        objects=[
            obj("tree", [0.1, 0.5, 0.2, 0.7], 2.0),
            obj("house", [0.6, 0.5, 0.7, 0.6], 5.0),
            obj("person", [0.3, 0.5, 0.35, 0.65], 2.4),
        ]
    )
    assert qa.relative_depth_truth(scene, 0, 1, "closer") is True
    assert qa.relative_depth_truth(scene, 0, 1, "farther") is False
    assert qa.relative_depth_truth(scene, 1, 0, "closer") is False
    assert qa.relative_depth_truth(scene, 0, 2, "closer") is None  # 2.4 / 2.0 is no clear gap


def test_object_answers():
    scene = landscape(
        objects=[
            obj("tree", [0.1, 0.5, 0.2, 0.7], 2.0, "#ff0000"),
            obj("tree", [0.3, 0.5, 0.4, 0.7], 3.0, "#e02020"),
            obj("house", [0.6, 0.5, 0.7, 0.6], 5.0, "#0000ff"),
            obj("person", [0.6, 0.5, 0.65, 0.6], 6.0, visible=False),
            obj("animal", [0.8, 0.6, 0.9, 0.7], 3.0, "#ff4000"),  # between red and orange
        ]
    )
    assert qa.object_presence_truth(scene, "tree") is True
    assert qa.object_presence_truth(scene, "mountain") is False
    assert qa.object_presence_truth(scene, "person") is None  # hidden: the image cannot tell
    assert qa.object_count_truth(scene, "tree", 2) is True
    assert qa.object_count_truth(scene, "tree", 3) is False
    assert qa.object_count_truth(scene, "mountain", 0) is True
    assert qa.object_count_truth(scene, "person", 1) is None
    assert qa.object_color_truth(scene, "tree", "red") is True
    assert qa.object_color_truth(scene, "tree", "green") is False
    assert qa.object_color_truth(scene, "house", "blue") is True
    assert qa.object_color_truth(scene, "animal", "red") is None


def test_sky_and_time_of_day_answers():
    overcast = landscape(sky="overcast")
    assert qa.sky_truth(overcast, "overcast") is True and qa.sky_truth(overcast, "day") is False
    assert qa.time_of_day_truth(overcast, "day") is True
    assert qa.time_of_day_truth(landscape(sky="sunset"), "evening") is True
    assert qa.time_of_day_truth(landscape(sky="night"), "day") is False


def test_layout_answers():
    tree, house = [0.1, 0.4, 0.3, 0.9], [0.5, 0.3, 0.9, 0.8]
    scene = landscape(objects=[obj("tree", tree, 2.0), obj("house", house, 3.0)])
    assert qa.layout_truth(scene, [(tree, "tree"), (house, "house")]) is True
    assert qa.layout_truth(scene, [(tree, "house"), (house, "tree")]) is False  # labels swapped
    assert qa.layout_truth(scene, [([0.6, 0.0, 0.8, 0.5], "tree"), (house, "house")]) is False  # moved away
    assert qa.layout_truth(scene, [([0.1, 0.45, 0.3, 0.95], "tree")]) is None  # IoU 0.82: a near miss
    hidden = landscape(objects=[obj("tree", tree, 2.0, visible=False)])
    assert qa.layout_truth(hidden, [(tree, "tree")]) is False  # a box on nothing visible


# --- generated records: answers re-derived, margins as stated ------------------------------------------


def test_every_family_is_generated_and_exactly_balanced(records):
    counts = Counter((r["family"], r["answer"]) for r in records)
    for family in qa.FAMILIES:
        assert counts[family, "Yes"] == counts[family, "No"] > 20, family


def test_horizon_line_records(scenes, records):
    margins = []
    for r in of(records, "horizon_line"):
        scene = scene_of(scenes, r)
        spec = parse_overlay(r["overlay"])
        assert spec.kind == "horizon" and spec.tilt_deg == pytest.approx(scene["horizon_tilt_deg"])
        offset = abs(spec.y - scene["horizon"])
        assert r["margin"] == pytest.approx(offset)
        assert (r["answer"] == "Yes") == (offset <= 0.005)
        if r["answer"] == "No":
            assert 0.03 <= offset <= 0.25
            margins.append(offset)
    hard = sum(m < 0.08 for m in margins)
    assert 0.3 < hard / len(margins) < 0.7  # about half of the misses are hard ones


def test_horizon_band_records(scenes, records):
    for r in of(records, "horizon_band"):
        h = scene_of(scenes, r)["horizon"]
        band = "high" if h < 1 / 3 else "low" if h > 2 / 3 else "middle"
        assert min(abs(h - 1 / 3), abs(h - 2 / 3)) >= 0.03
        assert (r["answer"] == "Yes") == (r["params"]["band"] == band)


def lab(colors: list[str]) -> np.ndarray:
    return rgb_to_cielab(np.array([hex_to_rgb(c) for c in colors]))


def test_palette_records(scenes, records):
    for r in of(records, "palette_match"):
        scene_colors = scene_of(scenes, r)["palette"]["colors"]
        strip = parse_overlay(r["overlay"]).colors
        d = ciede2000(lab(list(strip))[:, None], lab(scene_colors)[None, :])
        worst = max(d.min(axis=1).max(), d.min(axis=0).max())
        if r["answer"] == "Yes":
            assert list(strip) == scene_colors and r["margin"] == pytest.approx(0, abs=1e-6)
        else:
            assert worst >= 15 and r["margin"] == pytest.approx(worst)
        if r["params"]["perturbation"] in ("swap1", "swap2"):
            changed = [i for i, (a, b) in enumerate(zip(strip, scene_colors, strict=True)) if a != b]
            assert len(changed) == int(r["params"]["perturbation"][-1])
            for i in changed:  # a near miss of the colour it replaced
                assert 15 <= ciede2000(lab([strip[i]])[0], lab([scene_colors[i]])[0]) <= 30


def test_stroke_width_records(scenes, records):
    for r in of(records, "stroke_width"):
        scene = scene_of(scenes, r)
        true_px = scene["stroke_width_px"] * 64 / scene["size_px"]
        spec = parse_overlay(r["overlay"])
        off = abs(spec.width_px - true_px)
        assert r["margin"] == pytest.approx(off)
        assert off <= 0.1 if r["answer"] == "Yes" else 1.0 <= off <= 3.0


def test_relative_depth_records(scenes, records):
    for r in of(records, "relative_depth"):
        objects = scene_of(scenes, r)["objects"]
        a, b = objects[r["params"]["a_object"]], objects[r["params"]["b_object"]]
        spec = parse_overlay(r["overlay"])
        assert list(spec.a) == a["visible_point"] and list(spec.b) == b["visible_point"]
        assert math.dist(spec.a, spec.b) >= 0.1
        ratio = max(a["distance"], b["distance"]) / min(a["distance"], b["distance"])
        assert ratio >= 1.5 and r["margin"] == pytest.approx(ratio)
        a_closer = a["distance"] < b["distance"]
        expected = a_closer if r["params"]["relation"] == "closer" else not a_closer
        assert r["answer"] == ("Yes" if expected else "No")


def test_object_records(scenes, records):
    for r in of(records, "object_presence") + of(records, "object_count") + of(records, "object_color"):
        same = [o for o in scene_of(scenes, r)["objects"] if o["kind"] == r["params"]["kind"]]
        kind = r["params"]["kind"]
        assert kind in r["question"] or (kind == "person" and "people" in r["question"])
        if r["family"] == "object_presence":
            # Yes: one of them is in sight (others may be hidden); No: there are none at all
            assert (r["answer"] == "Yes") == any(o["visible_point"] is not None for o in same)
            assert (r["answer"] == "No") == (not same)
        elif r["family"] == "object_count":
            assert all(o["visible_point"] is not None for o in same)
            assert (r["answer"] == "Yes") == (len(same) == r["params"]["n"]) and r["params"]["n"] >= 1
            assert r["margin"] == abs(len(same) - r["params"]["n"])
        else:
            names = {color_name_with_margin(o["color"]) for o in same}
            assert min(m for _, m in names) >= 5 and r["params"]["color"] in r["question"]
            assert (r["answer"] == "Yes") == (r["params"]["color"] in {n for n, _ in names})


def test_sky_and_time_records(scenes, records):
    time_of = {"day": "day", "overcast": "day", "sunset": "evening", "night": "night"}
    for r in of(records, "sky"):
        assert (r["answer"] == "Yes") == (r["params"]["sky"] == scene_of(scenes, r)["sky"])
    for r in of(records, "time_of_day"):
        assert (r["answer"] == "Yes") == (r["params"]["time"] == time_of[scene_of(scenes, r)["sky"]])


def test_layout_records(scenes, records):
    perturbations = Counter()
    for r in of(records, "layout_match"):
        visible = [o for o in scene_of(scenes, r)["objects"] if o["visible_point"] is not None]
        spec = parse_overlay(r["overlay"])
        assert 1 <= len(spec.boxes) <= 3
        worst = min(
            max((qa.box_iou(b.box, o["box"]) for o in visible if o["kind"] == b.label), default=0.0)
            for b in spec.boxes
        )
        assert r["margin"] == pytest.approx(1 - worst)
        assert worst >= 0.9 if r["answer"] == "Yes" else worst <= 0.5
        perturbations[r["params"]["perturbation"]] += 1
    assert perturbations["shift"] > 0 and perturbations["swap_labels"] > 0


def test_overlays_are_valid_specs_in_their_json_form(records):
    for r in records:
        if r["overlay"] is not None:
            assert overlay_to_dict(parse_overlay(r["overlay"])) == r["overlay"]
    with_overlay = {r["family"] for r in records if r["overlay"] is not None}
    assert with_overlay == {"horizon_line", "palette_match", "stroke_width", "relative_depth", "layout_match"}


# --- splits, determinism, arguments --------------------------------------------------------------------


def test_phrasing_splits_give_disjoint_questions(scenes):
    train = make_qa(scenes, seed=3, phrasing_split="train")
    heldout = make_qa(scenes, seed=3, phrasing_split="heldout")
    for family in qa.FAMILIES:
        train_q = {r["question"] for r in of(train, family)}
        heldout_q = {r["question"] for r in of(heldout, family)}
        assert train_q and heldout_q and not train_q & heldout_q, family
        assert {r["phrasing_split"] for r in of(train, family)} == {"train"}
    # the same questions are asked, only worded differently
    assert [(r["family"], r["answer"], r["params"]) for r in train] == [
        (r["family"], r["answer"], r["params"]) for r in heldout
    ]


def test_same_seed_same_records_other_seed_other_records(scenes):
    first = make_qa(scenes[:60], seed=4)
    assert make_qa(scenes[:60], seed=4) == first
    assert make_qa(scenes[:60], seed=5) != first


def test_a_family_does_not_depend_on_the_others_asked(scenes, records):
    alone = make_qa(scenes, seed=11, per_scene=2, families=["relative_depth"])
    assert alone == of(records, "relative_depth")


def test_per_scene_mapping_sets_the_mix(scenes):
    mixed = make_qa(
        scenes[:80], seed=2, per_scene={"horizon_line": 3, "sky": 1}, families=["horizon_line", "sky"]
    )
    counts = Counter(r["family"] for r in mixed)
    assert counts["horizon_line"] > 2 * counts["sky"] > 0
    assert set(counts) == {"horizon_line", "sky"}


def test_records_carry_their_scene_and_phrasing(scenes, records):
    seeds = {s["seed"] for s in scenes}
    for r in records:
        assert r["scene_seed"] in seeds
        assert r["phrasing_split"] == ("heldout" if r["phrasing"] % 3 == 2 else "train") == "train"
        assert r["answer"] in ("Yes", "No")
        assert r["question"].endswith("?") and "{" not in r["question"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"families": ["horizon", "sky"]}, "families: unknown family 'horizon'"),
        ({"phrasing_split": "test"}, "phrasing_split: expected one of train, heldout, all"),
        ({"families": ["sky"], "per_scene": {"horizon_line": 1}}, "per_scene: 'horizon_line' is not among"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(scenes, kwargs, message):
    with pytest.raises(ValueError, match="^" + message):
        make_qa(scenes[:5], seed=0, **kwargs)

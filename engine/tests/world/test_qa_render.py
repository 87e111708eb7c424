"""QA on rendered scenes: records built from the renderer's own output, overlays checked against its pixels.

Where the QA generator and the overlays meet the renderer: the horizon line must lie on the rendered
horizon (tilt convention included), points must land on the objects they name, layout boxes must hold
their objects' pixels.
"""

import math

import pytest
import torch

from dualproc_engine.prompts import apply_overlay, overlay_layer, parse_overlay
from dualproc_engine.prompts.points import POINT_COLORS
from dualproc_engine.world.qa import FAMILIES, make_qa
from dualproc_engine.world.render import OWNER_GROUND, OWNER_SKY, Rendering, render_full
from dualproc_engine.world.scene import sample_scenes


@pytest.fixture(scope="module")
def rendering() -> Rendering:
    return render_full(sample_scenes(21, 64))  # half landscapes, half line art, 64 px


@pytest.fixture(scope="module")
def records(rendering) -> list[dict]:
    return make_qa([s.to_dict() for s in rendering.scenes], seed=0, per_scene=2)


def of(records: list[dict], family: str) -> list[dict]:
    return [r for r in records if r["family"] == family]


def test_every_family_comes_out_of_rendered_scenes_balanced(records):
    for family in FAMILIES:
        answers = [r["answer"] for r in of(records, family)]
        assert answers and answers.count("Yes") == answers.count("No"), family


def test_overlays_composite_onto_rendered_images(rendering, records):
    for r in records:
        if r["overlay"] is None:
            continue
        image = rendering.images[r["scene_index"] : r["scene_index"] + 1]
        out = apply_overlay(image, r["overlay"])
        alpha = overlay_layer(parse_overlay(r["overlay"]), 64, 64).alpha[0]
        assert out.shape == image.shape and out.min() >= 0 and out.max() <= 1
        assert torch.equal(out[..., alpha == 0], image[..., alpha == 0])
        assert (alpha > 0).any()


def test_horizon_line_lies_on_the_rendered_horizon(rendering, records):
    checked_tilted = 0
    yes = [r for r in of(records, "horizon_line") if r["answer"] == "Yes"]
    assert yes
    for r in yes:
        owner = rendering.owner[r["scene_index"]]
        alpha = overlay_layer(parse_overlay(r["overlay"]), 64, 64).alpha[0]
        rows = torch.arange(64, dtype=torch.float32) + 0.5
        columns = 0
        for c in range(64):
            col = owner[:, c]
            edges = [i + 1 for i in range(63) if col[i] == OWNER_SKY and col[i + 1] == OWNER_GROUND]
            if len(edges) != 1:
                continue  # an object or the sun stands on the horizon here
            line_centre = (alpha[:, c] * rows).sum() / alpha[:, c].sum()
            # owners switch where coverage passes 1/2, so the edge is within half a pixel of the horizon
            assert abs(line_centre.item() - edges[0]) <= 1.0, (r["scene_seed"], c)
            columns += 1
        assert columns >= 8
        scene = rendering.scenes[r["scene_index"]]
        checked_tilted += abs(scene.horizon_tilt_deg) > 1.5
    assert checked_tilted > 0  # the tilt convention was exercised, not only flat horizons


def test_depth_points_land_on_the_objects_they_name(rendering, records):
    depth = of(records, "relative_depth")
    assert depth
    for r in depth:
        owner = rendering.owner[r["scene_index"]]
        spec = parse_overlay(r["overlay"])
        out = apply_overlay(rendering.images[r["scene_index"] : r["scene_index"] + 1], spec)
        for label, point, index in (
            ("A", spec.a, r["params"]["a_object"]),
            ("B", spec.b, r["params"]["b_object"]),
        ):
            row, col = math.floor(point[1] * 64), math.floor(point[0] * 64)
            assert owner[row, col] == index
            torch.testing.assert_close(out[0, :, row, col], torch.tensor(POINT_COLORS[label]))


def test_layout_boxes_hold_their_objects_pixels(rendering, records):
    matches = [r for r in of(records, "layout_match") if r["answer"] == "Yes"]
    assert matches
    for r in matches:
        scene = rendering.scenes[r["scene_index"]]
        owner = rendering.owner[r["scene_index"]]
        for box in parse_overlay(r["overlay"]).boxes:
            index = next(i for i, o in enumerate(scene.objects) if tuple(o.box) == box.box)
            ys, xs = torch.nonzero(owner == index, as_tuple=True)
            x0, y0, x1, y1 = (v * 64 for v in box.box)
            # owned pixel centres inside the box, give or take the pixel that antialiasing rounds up
            assert xs.min() + 0.5 >= x0 - 1 and xs.max() + 0.5 <= x1 + 1
            assert ys.min() + 0.5 >= y0 - 1 and ys.max() + 0.5 <= y1 + 1


def test_palette_records_of_rendered_scenes_agree_with_what_is_seen():
    """Judge data keep a palette record only where the picture shows its answer (the scene's palette is often
    not what a render shows: unused swatches, outlines, gradients)."""
    from dualproc_engine.world.judge_data import scenes_qa
    from dualproc_engine.world.qa.palette import visible_fit

    data = scenes_qa(31, 96, "train", families=["palette_match"])
    answers = [r["answer"] for r in data.records]
    assert answers.count("Yes") >= 20 and answers.count("No") >= 20
    for record in data.records:
        fit = visible_fit(data.images[record["scene_index"]], record["params"]["colors"])
        assert fit.adherence == pytest.approx(record["params"]["visible_adherence"], abs=0.01)
        if record["answer"] == "Yes":
            assert fit.adherence <= 6.0 and fit.colors_used(0.07) >= fit.colors_needed
        else:
            assert fit.adherence >= 12.0 or fit.colors_used(0.03) < fit.colors_needed
    # the rule drops records, not questions of other families
    sky = scenes_qa(31, 24, "train", families=["sky"]).records
    mixed = scenes_qa(31, 24, "train", families=["sky", "palette_match"]).records
    assert sky and [r for r in mixed if r["family"] == "sky"] == sky


def test_painted_palette_negatives_are_painted_and_still_visibly_wrong():
    """Palette Nos with a band of the strip's own colours painted in: the band is where params say, in the
    strip's colours column by column, and the painted picture still visibly misses the strip."""
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.world.judge_data import record_images, scenes_qa
    from dualproc_engine.world.qa import visible_adherence

    data = scenes_qa(33, 64, "train", families=["palette_match"], painted_palette_share=1.0)
    painted = [r for r in data.records if r["params"]["perturbation"] == "painted"]
    assert len(painted) >= 10 and all(r["answer"] == "No" for r in painted)
    images = record_images(data.images, painted)
    for record, image in zip(painted, images, strict=True):
        paint = record["params"]["paint"]
        top, rows = round(paint["top_frac"] * 64), round(paint["height_frac"] * 64)
        strip = apply_overlay(torch.zeros(1, 3, 64, 64), record["overlay"])[0, :, 63]  # the strip's last row
        assert torch.allclose(image[:, top : top + rows], strip[:, None, :].expand(3, rows, 64), atol=1e-6)
        unpainted = data.images[record["scene_index"]]
        assert not torch.allclose(image[:, :56], unpainted[:, :56])
        seen = visible_adherence(image, record["params"]["colors"])  # the strip hides nothing above it
        assert seen >= 12.0 and seen == pytest.approx(record["params"]["visible_adherence"], abs=0.01)
    plain = scenes_qa(33, 64, "train", families=["palette_match"])
    assert [r for r in data.records if r["params"]["perturbation"] != "painted"] == plain.records


def test_recolored_palette_records_are_repainted_in_strip_colours_and_answered_by_their_pixels():
    """Palette records asked again of the scene repainted in some of the strip's colours: the picture is what
    params say, a one-colour wash is a No, several colours on enough of the picture a Yes."""
    from dualproc_engine.world.colorspace import hex_to_rgb
    from dualproc_engine.world.judge_data import record_images, scenes_qa
    from dualproc_engine.world.qa.palette import recolor_in_strip, visible_fit, visible_truth

    data = scenes_qa(34, 96, "train", families=["palette_match"], recolored_palette_share=1.0)
    recolored = [r for r in data.records if r["params"]["perturbation"] == "recolored"]
    washes = [r for r in recolored if len(r["params"]["recolor"]["colors"]) == 1]
    several = [r for r in recolored if len(r["params"]["recolor"]["colors"]) > 1]
    assert len(washes) >= 10 and all(r["answer"] == "No" for r in washes)
    assert {r["params"]["recolor"]["texture"] for r in recolored} == {0.0, 0.1, 0.2, 0.3}  # flat fields too
    assert sum(r["answer"] == "Yes" for r in several) >= 10
    images = record_images(data.images, recolored)
    for record, image in zip(recolored, images, strict=True):
        recolor = record["params"]["recolor"]
        repainted = recolor_in_strip(data.images[record["scene_index"]], **recolor)
        assert torch.allclose(image[:, :56], repainted[:, :56], atol=1e-6)  # the strip covers the rest
        fit = visible_fit(repainted, record["params"]["colors"])
        assert visible_truth(fit) is (record["answer"] == "Yes")
        # every visible pixel is near one of the colours it was repainted in, by at most its texture's share
        swatches = torch.tensor([hex_to_rgb(c) for c in recolor["colors"]]) + torch.tensor(recolor["offset"])
        gap = (repainted[:, :56].flatten(1).T[:, None] - swatches[None].clamp(0, 1)).abs().amax(-1).amin(-1)
        assert float(gap.max()) <= recolor["texture"] + 1e-5
    plain = scenes_qa(34, 96, "train", families=["palette_match"])
    assert [r for r in data.records if r["params"]["perturbation"] != "recolored"] == plain.records


def test_tiled_palette_records_use_the_tiles_wording_and_the_whole_picture():
    """Palette records asked again with the swatches tiled over the image: the tiles overlay, the same
    phrasing's tiles wording, and an answer the whole picture's pixels agree with; the rest unchanged."""
    from dualproc_engine.world.judge_data import scenes_qa
    from dualproc_engine.world.qa.palette import visible_fit, visible_truth
    from dualproc_engine.world.qa.phrasings import phrase

    data = scenes_qa(35, 64, "train", families=["palette_match"], tiled_palette_share=1.0)
    tiled = [r for r in data.records if r["overlay"].get("layout") == "tiles"]
    plain = scenes_qa(35, 64, "train", families=["palette_match"]).records
    assert [r for r in data.records if r["overlay"].get("layout") != "tiles"] == plain
    assert len(tiled) >= 0.8 * len(plain) and {r["answer"] for r in tiled} == {"Yes", "No"}
    for record in tiled:
        assert record["question"] == phrase("palette_match", record["phrasing"], "tiles", {})
        assert "bottom" not in record["question"] and "strip" not in record["question"]
        fit = visible_fit(data.images[record["scene_index"]], record["params"]["colors"], band_frac=0.0)
        assert visible_truth(fit) is (record["answer"] == "Yes")

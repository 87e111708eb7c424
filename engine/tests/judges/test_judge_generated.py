"""Judge QA on generated images: measurements become scenes, records follow them, unseen means No."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dualproc_engine.world.judge_generated import measured_scene, pool_records


def _measurement(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "horizon": None,
        "horizon_confidence": None,
        "horizon_tilt_deg": None,
        "sky": None,
        "sky_confidence": None,
        "stroke_width_px": None,
        "stroke_confidence": None,
    }
    return {**base, **fields}


def test_measured_scene_keeps_only_confident_readings() -> None:
    sure = measured_scene(
        _measurement(horizon=0.3, horizon_confidence=0.9, sky="night", sky_confidence=0.8), "landscape", 1, 0
    )
    assert sure["horizon"] == pytest.approx(0.3) and sure["sky"] == "night"
    assert not sure["horizon_unseen"]
    unsure = measured_scene(
        _measurement(horizon=0.3, horizon_confidence=0.2, sky="night", sky_confidence=0.1), "landscape", 1, 1
    )
    assert unsure["horizon"] is None and unsure["sky"] is None
    assert not unsure["horizon_unseen"]  # read, but not surely: no question either way
    assert measured_scene(_measurement(), "landscape", 1, 2)["horizon_unseen"]
    wide = measured_scene(_measurement(stroke_width_px=6.0, stroke_confidence=0.9), "lineart", 1, 3)
    assert wide["stroke_width_px"] is None and not wide["stroke_unseen"]  # the measurer misreads wide strokes
    assert wide["stroke_wide"]  # ... but never reads a 2 px stroke that wide
    assert measured_scene(_measurement(), "lineart", 1, 4)["stroke_unseen"]


def _scenes() -> list[dict[str, object]]:
    scenes = []
    for i in range(12):
        horizon = 0.15 + 0.06 * i
        scenes.append(
            measured_scene(
                _measurement(
                    horizon=horizon,
                    horizon_confidence=0.9,
                    sky=("day", "night", "sunset", "overcast")[i % 4],
                    sky_confidence=0.9,
                ),
                "landscape",
                5,
                len(scenes),
            )
        )
    for i in range(8):
        stroke = {"stroke_width_px": 1.0 + 0.4 * i, "stroke_confidence": 0.9} if i % 2 else {}
        scenes.append(measured_scene(_measurement(**stroke), "lineart", 5, len(scenes)))
    wide = {"stroke_width_px": 9.0, "stroke_confidence": 0.2}  # a blob read as a very wide stroke
    scenes.append(measured_scene(_measurement(**wide), "lineart", 5, len(scenes)))
    scenes.append(measured_scene(_measurement(), "landscape", 5, len(scenes)))  # no horizon found
    return scenes


def test_pool_records_ask_about_what_was_measured() -> None:
    scenes = _scenes()
    records = pool_records(scenes, seed=3, phrasing_split="train")
    families = {r["family"] for r in records}
    assert {"horizon_line", "horizon_band", "sky", "time_of_day", "stroke_width"} <= families
    for r in records:
        scene = scenes[r["scene_index"]]
        if r["family"] == "horizon_line" and not r["params"].get("unseen"):
            on_line = abs(r["params"]["line_y"] - scene["horizon"]) <= 0.005
            assert on_line == (r["answer"] == "Yes")
        if r["family"] == "sky":
            assert (r["params"]["sky"] == scene["sky"]) == (r["answer"] == "Yes")
        if r["family"] == "stroke_width" and not r["params"].get("unseen"):
            assert scene["stroke_width_px"] is not None
    unseen = [r for r in records if r["params"].get("unseen")]
    # the four line drawings without a readable stroke, the blob, and the landscape without a horizon
    assert sorted(r["scene_index"] for r in unseen) == [12, 14, 16, 18, 20, 21]
    assert all(r["answer"] == "No" and r["overlay"] for r in unseen)
    blob = next(r for r in unseen if r["scene_index"] == 20)
    assert blob["family"] == "stroke_width" and blob["params"]["width_px"] <= 2.0
    assert records == pool_records(scenes, seed=3, phrasing_split="train")  # deterministic


def test_fine_tuning_from_a_judge_with_a_generated_pool(tiny_judge_dir: Path, tmp_path: Path) -> None:
    from dualproc_engine.world.train_judge import GeneratedData, TrainJudgeConfig, train_judge

    torch.set_num_threads(1)
    scenes = _scenes()
    pool = {"images": torch.randint(0, 255, (len(scenes), 3, 64, 64), dtype=torch.uint8), "scenes": scenes}
    pool["sources"] = ["base"] * len(scenes)
    torch.save(pool, tmp_path / "pool.pt")
    cfg = TrainJudgeConfig(generated_pool=str(tmp_path / "pool.pt"), seed=2)
    data = GeneratedData.load(cfg)
    drawn = data.draw(step=0, n=8)
    assert [r["answer"] for r in drawn] == ["Yes", "No"] * 4
    assert data.images_for(drawn).shape == (8, 3, 64, 64)
    assert len(data.families) > 1
    # asked one family only, the pool leaves the judge's answers to the others alone
    only_sky = GeneratedData.load(
        TrainJudgeConfig(generated_pool=cfg.generated_pool, generated_families="sky")
    )
    assert only_sky.families == ["sky"]
    assert {r["family"] for r in only_sky.draw(step=0, n=16)} == {"sky"}
    with pytest.raises(ValueError, match="generated_families: unknown question family skies"):
        TrainJudgeConfig(generated_families="sky,skies")

    summary = train_judge(
        tmp_path / "tuned",
        max_steps=2,
        init_from=str(tiny_judge_dir),
        generated_pool=str(tmp_path / "pool.pt"),
        generated_share=0.5,
        train_batch_size=4,
        scenes_per_chunk=8,
        eval_every=100,
        validation_scenes=4,
        calibration_scenes=4,
    )
    assert summary["steps"] == 2
    from dualproc_engine.judges.embedded import EmbeddedJudge

    before = EmbeddedJudge.from_pretrained(tiny_judge_dir)
    after = EmbeddedJudge.from_pretrained(tmp_path / "tuned")
    image = torch.rand(1, 3, 64, 64)
    lp_before = before.logprob(image, ["Is it night?"], ["Yes"])
    lp_after = after.logprob(image, ["Is it night?"], ["Yes"])
    assert not torch.allclose(lp_before, lp_after)  # it trained from the given judge ...
    # ... and kept its words
    assert before.processor.tokenizer.get_vocab() == after.processor.tokenizer.get_vocab()


def test_pools_merge_with_renumbered_scenes(tmp_path: Path) -> None:
    from dualproc_engine.world.judge_generated import load_pool

    scenes = _scenes()
    for name, part in (("a", scenes[:5]), ("b", scenes[5:9])):
        pool = {"images": torch.full((len(part), 3, 64, 64), len(part), dtype=torch.uint8), "scenes": part}
        torch.save({**pool, "sources": [name] * len(part)}, tmp_path / f"{name}.pt")
    merged = load_pool(f"{tmp_path / 'a.pt'},{tmp_path / 'b.pt'}")
    assert [s["index"] for s in merged["scenes"]] == list(range(9))
    assert merged["sources"] == ["a"] * 5 + ["b"] * 4
    assert merged["images"][:5].eq(5).all() and merged["images"][5:].eq(4).all()
    assert merged["scenes"][5]["horizon"] == scenes[5]["horizon"]


def test_pool_sources_name_each_lora_at_two_scales() -> None:
    from dualproc_engine.world.judge_generated import pool_sources

    assert pool_sources(2, ["h=runs/h"]) == [
        ("base", None, 1.0),
        ("base", None, 1.0),
        ("h@0.5", "runs/h", 0.5),
        ("h@1.0", "runs/h", 1.0),
    ]
    with pytest.raises(ValueError, match="NAME=RUN_FOLDER"):
        pool_sources(1, ["just-a-folder"])


def test_palette_records_of_generated_images_follow_their_pixels() -> None:
    """A flat picture in two colours of a named palette: its own colours are a Yes strip; a picture in
    colours no named palette has is a No for the nearest named palette."""
    from dualproc_engine.prompts import parse_overlay
    from dualproc_engine.world.colorspace import hex_to_rgb
    from dualproc_engine.world.judge_generated import own_colors, palette_records
    from dualproc_engine.world.palettes import NAMED_PALETTES
    from dualproc_engine.world.qa import visible_adherence

    def flat(top: str, bottom: str) -> torch.Tensor:
        image = torch.empty(3, 64, 64)
        image[:, :28] = torch.tensor(hex_to_rgb(top))[:, None, None]
        image[:, 28:] = torch.tensor(hex_to_rgb(bottom))[:, None, None]
        return image

    retro = list(NAMED_PALETTES["retro"].colors)
    images = torch.stack([flat(retro[0], retro[2]), flat("#808000", "#ff00ff")])
    assert visible_adherence(images[0], own_colors(images[0])) < 1.0
    scenes = [{"seed": 0, "index": i} for i in range(2)]
    pool = {"images": (images * 255).round().to(torch.uint8), "scenes": scenes, "sources": ["a", "b"]}
    records = palette_records(pool, seed=0, phrasing_split="train")
    by_kind = {(r["scene_index"], r["params"]["perturbation"].split(":")[0]): r for r in records}
    assert by_kind[(0, "own")]["answer"] == "Yes" and by_kind[(1, "own")]["answer"] == "Yes"
    assert by_kind[(1, "named")]["answer"] == "No"
    # the nearest named palette and one other: both visibly missed by a picture in colours no palette has
    named = [r for r in records if r["scene_index"] == 1 and r["params"]["perturbation"].startswith("named")]
    assert len(named) == 2 and len({tuple(r["params"]["colors"]) for r in named}) == 2
    for record in records:
        strip = parse_overlay(record["overlay"]).colors
        seen = visible_adherence(images[record["scene_index"]], strip)
        assert seen <= 6.0 if record["answer"] == "Yes" else seen >= 12.0
        assert record["question"].endswith("?") and record["source"] == "generated"


def test_a_loras_pool_images_are_drawn_at_the_steps_it_was_taught_with(tmp_path: Path) -> None:
    from dualproc_engine.world.judge_generated import recipe_steps

    run = tmp_path / "line-weight"
    run.mkdir()
    (run / "recipe.yaml").write_text("training:\n  num_inference_steps: 2\n")
    assert recipe_steps(str(run)) == 2
    assert recipe_steps(str(run / "pytorch_lora_weights.safetensors")) == 2  # the LoRA file of the run
    (run / "recipe.yaml").write_text("training:\n  max_train_steps: 3\n")
    assert recipe_steps(str(run)) == 1
    assert recipe_steps(str(tmp_path)) == 1  # no recipe: a bare LoRA file's folder


def test_a_palette_loras_images_are_asked_about_its_recipes_strip(tmp_path: Path) -> None:
    """A pool image made through a palette LoRA is asked about the strip its recipe taught, answered by its
    pixels: a wash in none of the strip's colours is a No there (the hack its judge took for a Yes)."""
    from dualproc_engine.world.colorspace import hex_to_rgb
    from dualproc_engine.world.judge_generated import palette_records, recipe_palette

    strip = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"]
    run = tmp_path / "palette-run"
    run.mkdir()
    (run / "recipe.yaml").write_text(
        "questions:\n  - question: Is the sky blue?\n"
        "  - question: Does it use the strip's colours?\n"
        f"    visual_prompt: {{kind: palette, colors: {strip}}}\n"
    )
    assert recipe_palette(str(run)) == strip
    assert recipe_palette(str(run / "pytorch_lora_weights.safetensors")) == strip  # the LoRA file of the run
    assert recipe_palette(str(tmp_path)) is None  # no recipe.yaml: a LoRA file's folder
    (run / "recipe.yaml").write_text("questions:\n  - question: Is the sky blue?\n")
    assert recipe_palette(str(run)) is None  # a recipe without a palette question

    def flat(colour: str) -> torch.Tensor:
        return torch.tensor(hex_to_rgb(colour))[:, None, None].expand(3, 64, 64)

    images = torch.stack([flat("#fdf0d5"), flat(strip[3])])  # a pale wash; one of the strip's colours
    scenes = [{"seed": 0, "index": i, "recipe_palette": strip} for i in range(2)]
    pool = {"images": (images * 255).round().to(torch.uint8), "scenes": scenes, "sources": ["a", "a"]}
    asked = {
        r["scene_index"]: r["answer"]
        for r in palette_records(pool, seed=0, phrasing_split="train")
        if r["params"]["perturbation"] == "recipe"
    }
    assert asked[0] == "No"
    assert asked.get(1, "Yes") == "Yes"  # in the strip's colours: a Yes, or unasked where it is the nearest


def _sky_over_ground(horizon: float) -> torch.Tensor:
    image = torch.empty(3, 64, 64)
    row = round(horizon * 64)
    image[:, :row] = torch.tensor([0.45, 0.7, 0.95])[:, None, None]  # sky
    image[:, row:] = torch.tensor([0.3, 0.6, 0.2])[:, None, None]  # grass
    return image


def test_depth_records_of_generated_images_follow_the_depth_measurer() -> None:
    """Pairs of points compared by the app's depth measurer (node, as `build_pool` measures): the lower of
    two ground points is nearer; sky is nearer than nothing; a picture without a horizon has no ground, so
    neither point is nearer whatever is asked. A depth LoRA's image is also asked at its recipe's points."""
    from dualproc_engine.generators.evaluate import measure
    from dualproc_engine.world.judge_generated import both_ways, depth_pairs, depth_records, measured_scene

    ground = ((0.3, 0.9), (0.6, 0.5))  # both on the ground, A far lower: A nearer
    sky = ((0.2, 0.1), (0.7, 0.2))  # both in the sky
    ground_sky = ((0.5, 0.2), (0.5, 0.8))  # A in the sky, B on the ground: B nearer
    pairs = [ground, sky, ground_sky]
    images = torch.stack([_sky_over_ground(0.4), torch.full((3, 64, 64), 0.8)])  # ... and a plain field
    scenes = []
    for m in measure(images, "landscape", both_ways(pairs)):
        scenes.append(measured_scene(m, "landscape", 7, len(scenes)))
        scenes[-1]["depth_pairs"] = depth_pairs(pairs, m["depth"])
    landscape, field = (s["depth_pairs"] for s in scenes)
    assert [(p["a_nearer"], p["b_nearer"]) for p in landscape] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    assert [p["depth_a"] is None for p in landscape] == [False, True, True]
    assert all(not p["horizon_found"] and not (p["a_nearer"] or p["b_nearer"]) for p in field)

    answers = {  # every question each pair can be asked, as the records would answer it
        (
            tuple(map(tuple, (r["overlay"]["a"], r["overlay"]["b"]))),
            r["params"]["relation"],
            r["scene_index"],
        ): r["answer"]
        for seed in range(40)
        for r in depth_records(scenes, seed, "train")
    }
    expected = {
        (ground, "closer", 0): "Yes",
        (ground, "farther", 0): "No",
        (sky, "closer", 0): "No",
        (sky, "farther", 0): "No",
        (ground_sky, "closer", 0): "No",
        (ground_sky, "farther", 0): "Yes",
        **{(pair, relation, 1): "No" for pair in pairs for relation in ("closer", "farther")},
    }
    assert answers == expected  # over 40 seeds every pair and relation is drawn; none answered otherwise

    scenes[0]["recipe_points"] = [list(p) for p in ground]
    own = [r for r in depth_records(scenes, 0, "train") if r["params"]["recipe_points"]]
    assert [(r["scene_index"], r["overlay"]["a"]) for r in own] == [(0, [0.3, 0.9])]
    assert depth_records(scenes, 3, "train") == depth_records(scenes, 3, "train")  # deterministic


def test_a_loras_recipe_points_and_stroke_width_are_read_from_its_run(tmp_path: Path) -> None:
    from dualproc_engine.world.judge_generated import recipe_points, recipe_stroke

    run = tmp_path / "run"
    run.mkdir()
    (run / "recipe.yaml").write_text(
        "questions:\n  - question: Is point A closer to the viewer than point B?\n"
        "    visual_prompt: {kind: points, a: [0.3, 0.8], b: [0.7, 0.55]}\n"
        "  - question: Are the lines in the drawing as thick as the sample stroke?\n"
        "    visual_prompt: {kind: stroke, width_px: 2.5}\n"
    )
    assert recipe_points(str(run / "pytorch_lora_weights.safetensors")) == ((0.3, 0.8), (0.7, 0.55))
    assert recipe_stroke(str(run)) == 2.5
    assert recipe_points(str(tmp_path)) is None and recipe_stroke(str(tmp_path)) is None


def test_a_stroke_loras_tangles_are_asked_at_their_loose_reading_and_near_misses() -> None:
    from dualproc_engine.judges.evaluate import family_key
    from dualproc_engine.world.judge_generated import STROKE_NEAR_MISS_PX, STROKE_SAME_PX, stroke_records

    readings = [1.2, 1.45, 1.9, 2.1, 2.45, 3.0]
    scenes = [
        measured_scene(_measurement(stroke_width_px=w, stroke_confidence=0.35), "lineart", 7, i)
        for i, w in enumerate(readings)
    ]
    assert all(s["stroke_width_px"] is None for s in scenes)  # below STROKE_CONFIDENCE: no confident record
    assert [s["stroke_loose_px"] for s in scenes] == pytest.approx(readings)
    assert stroke_records(scenes, 0, "train") == []  # not a stroke LoRA's images: not asked
    for scene in scenes:
        scene["recipe_stroke_px"] = 2.0
    faint = measured_scene(_measurement(stroke_width_px=2.0, stroke_confidence=0.1), "lineart", 7, 9)
    assert faint["stroke_loose_px"] is None  # too unsure even for a LoRA's tangle

    seen: set[tuple[bool, str]] = set()
    for seed in range(30):
        for r in stroke_records(scenes, seed, "train"):
            read, width = r["params"]["read_px"], r["overlay"]["width_px"]
            assert r["family"] == "stroke_width" and family_key(r) == "stroke_width (stroke LoRA)"
            off = abs(width - read)
            if r["answer"] == "Yes":
                assert off <= (STROKE_SAME_PX if r["params"]["recipe_width"] else 1e-3)
            else:
                assert off >= STROKE_NEAR_MISS_PX[0] - 1e-3
            if r["params"]["recipe_width"]:
                assert r["overlay"] == {"kind": "stroke", "width_px": 2.0}  # as the recipe asks
            seen.add((r["params"]["recipe_width"], r["answer"]))
    assert seen == {(False, "Yes"), (False, "No"), (True, "Yes"), (True, "No")}
    records = stroke_records(scenes, 0, "train")
    own = {r["scene_index"]: r["answer"] for r in records if r["params"]["recipe_width"]}
    assert own == {0: "No", 2: "Yes", 3: "Yes", 5: "No"}  # 1.45 and 2.45: between, not asked

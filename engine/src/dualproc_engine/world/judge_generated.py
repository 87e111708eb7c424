"""Judge QA on the generator's own images, labelled by the app's measurers instead of a scene description.

Why: a judge trained on renders alone answers less well on generated images (horizon line 95% on renders,
74% on the generator's images) and, worse, rewards textures no render has: a LoRA taught the line-weight
question turned every drawing into green noise and the judge called the noise "2 px lines" with 98%. The
teach loop optimises against exactly those blind spots. So the judge also trains on generated images, base
and through taught LoRAs, with answers the measurers decide (they share no code with the judge):

- where a measurer reads an attribute with confidence, the family's own sampler asks about it as if the
  measured values were the scene's (horizon line and band, sky and time of day, stroke width);
- where an image of a landscape caption has no horizon the measurer can find, "is the red line on the
  horizon?" is No wherever the line is; where a line-art image has no stroke it can read, "are the lines as
  thick as the sample?" is No for any sample; where it reads strokes wider than `STROKE_MAX_PX` (a blob, or
  a 3-4 px stroke it overestimates; at 2 px it is right 97% of the time), it is No for samples of 2 px and
  thinner. These are the answers a hacked image must get.
- on the line art of a stroke LoRA (one whose recipe asks a stroke), the stroke width the measurer reads at
  lower confidence too (`STROKE_LOOSE_CONFIDENCE`: a tangle of strokes has no one width, and the measurer
  reads its thinnest), asked at that width (Yes), at a near miss 0.6-1.5 px off (No), and at the recipe's
  own width (`stroke_records`): the shipped judges said Yes to a 2 px sample on every tangle a line-weight
  LoRA drew, 1 px strokes and 3 px alike, since the renders' near misses are a pixel off and their strokes
  are clean.
- on landscapes, "is point A closer than point B?" (and "farther") at pairs of points the depth measurer
  compares (`depth_records`): where what is at A stands on the ground nearer than what is at B, where neither
  stands on any ground (both sky, or no horizon at all: No either way), at random pairs and at a LoRA's own
  recipe points, so that a depth LoRA's hack (one field of colour over both points) is asked where it was
  made.

`build_pool` writes the images and their measurements once (pool.pt); `pool_records` makes QA records for
them with the same phrasings and record format as `qa.make_qa`, so training and evaluation treat them like
any other record (`scene_index` indexes the pool's images).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ..generators.evaluate import PointPair

HORIZON_CONFIDENCE = 0.5
"""Least horizon confidence for a measured horizon to stand for the scene's."""
SKY_CONFIDENCE = 0.5
STROKE_CONFIDENCE = 0.6
STROKE_MAX_PX = 4.0
"""The stroke measurer misreads about half of all renders at 3-4 px (docs/generator.md); wider readings are
not trusted as labels."""
STROKE_LOOSE_CONFIDENCE = 0.25
"""Least stroke confidence for a stroke LoRA's image (`stroke_records`): its tangles read at 0.28-0.7."""
STROKE_SAME_PX = 0.3
"""A stroke read within this of a sample is as thick as it (`stroke_records`; the evaluation passes 0.5)."""
STROKE_NEAR_MISS_PX = (0.6, 1.5)
"""How far off a near-miss sample is: past the evaluation's 0.5 px, below the renders' 1 px near misses."""
GENERATED_FAMILIES = ("horizon_line", "horizon_band", "sky", "time_of_day", "stroke_width", "relative_depth")
POOL_POINT_PAIRS = 16
"""Random point pairs per source whose depths the measurer compares on each of its landscapes."""
DEPTH_LABEL_RATIO = 1.2
"""Two points on the ground whose depths differ by less than this factor are not asked: at 64 px a row or two
decides them (the measurer's own tie rule is for the evaluation, where a pair must be decided)."""

Source = tuple[str, str | None, float]
"""(name, LoRA file or run folder or None for the base generator, LoRA scale)."""


def measured_scene(measurement: Mapping[str, Any], kind: str, seed: int, index: int) -> dict[str, Any]:
    """A scene dict the QA samplers accept, holding only what the measurers read with confidence.

    `horizon`, `sky`, `stroke_width_px` are None where unread; `horizon_unseen` / `stroke_unseen` are True
    where the measurer found nothing at all (the cases whose answer is No whatever is asked)."""
    horizon = measurement.get("horizon")
    horizon_ok = horizon is not None and (measurement.get("horizon_confidence") or 0) >= HORIZON_CONFIDENCE
    sky_ok = measurement.get("sky") is not None and (measurement.get("sky_confidence") or 0) >= SKY_CONFIDENCE
    stroke = measurement.get("stroke_width_px")
    stroke_ok = (
        stroke is not None
        and (measurement.get("stroke_confidence") or 0) >= STROKE_CONFIDENCE
        and stroke <= STROKE_MAX_PX
    )
    return {
        "kind": kind,
        "seed": seed,
        "index": index,
        "size_px": 64,
        "horizon": float(horizon) if horizon is not None and horizon_ok else None,
        "horizon_tilt_deg": float(measurement.get("horizon_tilt_deg") or 0.0),
        "horizon_unseen": kind == "landscape" and horizon is None,
        "sky": measurement.get("sky") if sky_ok else None,
        "stroke_width_px": float(stroke) if stroke is not None and stroke_ok else None,
        "stroke_unseen": kind == "lineart" and stroke is None,
        "stroke_wide": kind == "lineart" and stroke is not None and stroke > STROKE_MAX_PX,
        "stroke_loose_px": loose_stroke(measurement, kind),
    }


def loose_stroke(measurement: Mapping[str, Any], kind: str) -> float | None:
    """The stroke width read well enough for `stroke_records` (less surely than STROKE_CONFIDENCE); None."""
    stroke = measurement.get("stroke_width_px")
    confident = (measurement.get("stroke_confidence") or 0) >= STROKE_LOOSE_CONFIDENCE
    if kind != "lineart" or stroke is None or not confident or stroke > STROKE_MAX_PX:
        return None
    return float(stroke)


def build_pool(
    out_file: str | Path,
    sources: Sequence[Source],
    n_per_source: int,
    seed: int,
    generator: str = "scenes-generator",
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Generate `n_per_source` images per source (half landscape, half line-art captions of fresh scenes
    from `seed`), measure them, and save {"images" uint8, "scenes", "sources"} to `out_file`."""
    from ..generators.evaluate import measure
    from ..generators.generate import generate_images, load_checked_lora
    from ..generators.load import load_generator
    from .scene import sample_scenes

    images: list[Tensor] = []
    scenes: list[dict[str, Any]] = []
    names: list[str] = []
    for k, (name, lora, scale) in enumerate(sources):
        gen = load_generator(generator)
        strip, own_points, own_stroke = None, None, None
        if lora is not None:
            load_checked_lora(gen, lora, generator)
            gen.set_lora_scale(scale)
            strip, own_points, own_stroke = recipe_palette(lora), recipe_points(lora), recipe_stroke(lora)
        pairs = random_point_pairs(random.Random(f"{seed}/points/{k}"), POOL_POINT_PAIRS)
        pairs += [own_points] if own_points else []
        half = n_per_source // 2
        captions = {
            kind: sample_scenes(seed * 1_000 + 2 * k + j, half, kind=kind)
            for j, kind in enumerate(("landscape", "lineart"))
        }
        steps = 1 if lora is None else recipe_steps(lora)
        for kind, kind_scenes in captions.items():
            prompts = [s.caption for s in kind_scenes]
            batch = generate_images(gen, prompts, seed=seed * 100_000 + k * 10_000, num_inference_steps=steps)
            asked = both_ways(pairs) if kind == "landscape" else []
            for m in measure(batch, kind, asked):
                scenes.append(measured_scene(m, kind, seed, len(scenes)))
                if asked:
                    scenes[-1]["depth_pairs"] = depth_pairs(pairs, m.get("depth"))
                if asked and own_points:
                    scenes[-1]["recipe_points"] = [list(p) for p in own_points]
                if strip is not None:
                    scenes[-1]["recipe_palette"] = strip
                if own_stroke is not None and kind == "lineart":
                    scenes[-1]["recipe_stroke_px"] = own_stroke
                names.append(name)
            images.append((batch * 255).round().to(torch.uint8))
        if on_progress:
            on_progress(k + 1, len(sources))
    pool = {"images": torch.cat(images), "scenes": scenes, "sources": names}
    torch.save(pool, out_file)
    return pool


def recipe_visual_prompt(lora: str, kind: str) -> dict[str, Any] | None:
    """The first visual prompt of `kind` a teach run's recipe asks with, if any."""
    for question in run_recipe(lora).get("questions") or []:
        prompt = question.get("visual_prompt") or {}
        if prompt.get("kind") == kind:
            return dict(prompt)
    return None


def recipe_palette(lora: str) -> list[str] | None:
    """The palette strip a teach run's recipe asks about (its first palette visual prompt), if any.

    Why: a palette LoRA's hack is a picture its judge takes for the recipe's strip, so the pool asks each of
    its images about that strip too (`palette_records`), answered by the pixels; neither the nearest named
    palette nor a random one need be that strip."""
    prompt = recipe_visual_prompt(lora, "palette") or {}
    return [str(c) for c in prompt["colors"]] if prompt.get("colors") else None


def recipe_points(lora: str) -> PointPair | None:
    """Points A and B a teach run's recipe asks about (its first points visual prompt), if any: a depth
    LoRA's hack is made at those points, so the pool compares them on each of its images too."""
    prompt = recipe_visual_prompt(lora, "points")
    if not prompt or not prompt.get("a") or not prompt.get("b"):
        return None
    (xa, ya), (xb, yb) = prompt["a"], prompt["b"]
    return (float(xa), float(ya)), (float(xb), float(yb))


def recipe_stroke(lora: str) -> float | None:
    """The sample stroke width a teach run's recipe asks about (its first stroke visual prompt), if any."""
    prompt = recipe_visual_prompt(lora, "stroke") or {}
    return float(prompt["width_px"]) if prompt.get("width_px") is not None else None


def random_point_pairs(rng: random.Random, n: int) -> list[PointPair]:
    """`n` pairs of points across the picture below its top fifth (where skies and horizons are), at least
    as far apart as the Scenes depth questions' points (their labels must not merge)."""
    from .qa.depth import POINT_SEPARATION_MIN

    pairs: list[PointPair] = []
    while len(pairs) < n:
        a, b = [(round(rng.uniform(0.1, 0.9), 3), round(rng.uniform(0.2, 0.95), 3)) for _ in range(2)]
        if math.dist(a, b) >= POINT_SEPARATION_MIN:
            pairs.append((a, b))
    return pairs


def both_ways(pairs: Sequence[PointPair]) -> list[PointPair]:
    """Each pair, then each pair with A and B swapped: "is A farther than B?" is "is B nearer than A?"."""
    return [*pairs, *[(b, a) for a, b in pairs]]


def depth_pairs(pairs: Sequence[PointPair], measured: Sequence[Mapping[str, Any]] | None) -> list[dict]:
    """Per pair, the measured depths (None: infinitely far, or no horizon found) and which point is nearer,
    from the measurer's answer to `both_ways(pairs)`. Without a horizon nothing stands on any ground: neither
    point is nearer."""
    n = len(pairs)
    return [
        {
            "a": list(a),
            "b": list(b),
            "depth_a": measured[i]["a"] if measured else None,
            "depth_b": measured[i]["b"] if measured else None,
            "a_nearer": bool(measured[i]["a_nearer"]) if measured else False,
            "b_nearer": bool(measured[n + i]["a_nearer"]) if measured else False,
            "horizon_found": measured is not None,
        }
        for i, (a, b) in enumerate(pairs)
    ]


def depth_answers(pair: Mapping[str, Any]) -> dict[str, str] | None:
    """The answers to "is A closer than B?" and "is A farther than B?" at a measured pair, or None where the
    measurer's call is too close to train on (two points on the ground at nearly the same depth)."""
    da, db = pair["depth_a"], pair["depth_b"]
    if da is None and db is None:  # neither stands on any ground: neither is nearer
        return {"closer": "No", "farther": "No"}
    if pair["a_nearer"] == pair["b_nearer"]:
        return None
    if da is not None and db is not None and max(da, db) / min(da, db) < DEPTH_LABEL_RATIO:
        return None
    return {"closer": "Yes" if pair["a_nearer"] else "No", "farther": "Yes" if pair["b_nearer"] else "No"}


def depth_records(
    scenes: Sequence[Mapping[str, Any]], seed: int, phrasing_split: str
) -> list[dict[str, Any]]:
    """relative_depth on the pool's landscapes, answered by the depth measurer: one question at a random pair
    and, for a depth LoRA's image, one at its recipe's points; each drawn Yes or No at even odds where the
    image's pairs allow both."""
    from ..prompts.spec import PointsSpec, overlay_to_dict
    from .qa.phrasings import phrasing_indices

    records = []
    for scene in scenes:
        pairs = scene.get("depth_pairs") or []
        rng = random.Random(f"{seed}/depth/{scene['seed']}/{scene['index']}")
        own = scene.get("recipe_points")
        groups = [[p for p in pairs if [p["a"], p["b"]] == own]] if own else []
        for group in [pairs, *groups]:
            asks = [(p, rel, ans) for p in group for rel, ans in (depth_answers(p) or {}).items()]
            if not asks:
                continue
            wanted = [x for x in asks if x[2] == rng.choice(("Yes", "No"))]
            pair, relation, answer = rng.choice(wanted or asks)
            records.append(
                pool_record(
                    "relative_depth",
                    rng.choice(phrasing_indices("relative_depth", phrasing_split)),
                    relation,
                    answer,
                    overlay_to_dict(PointsSpec(a=tuple(pair["a"]), b=tuple(pair["b"]))),
                    scene,
                    {
                        "relation": relation,
                        "depth_a": pair["depth_a"],
                        "depth_b": pair["depth_b"],
                        "horizon_found": pair["horizon_found"],
                        "recipe_points": group is not pairs,
                    },
                )
            )
    return records


def stroke_records(
    scenes: Sequence[Mapping[str, Any]], seed: int, phrasing_split: str
) -> list[dict[str, Any]]:
    """stroke_width on a stroke LoRA's line art whose stroke the measurer reads loosely (`stroke_loose_px`):
    one question at that width (Yes) or at a near miss (No), at even odds, and one at the LoRA's recipe
    width, Yes where the reading is within STROKE_SAME_PX of it, No where it is a near miss or farther, not
    asked between."""
    from ..prompts.spec import StrokeSpec, overlay_to_dict
    from .qa.phrasings import phrasing_indices
    from .qa.stroke import sample_curve, wrong_width

    records = []
    for scene in scenes:
        read, own = scene.get("stroke_loose_px"), scene.get("recipe_stroke_px")
        if read is None or own is None:
            continue
        rng = random.Random(f"{seed}/stroke/{scene['seed']}/{scene['index']}")
        asks: list[tuple[float, str, float, bool]] = []  # width, answer, curve, at the recipe's width
        if rng.random() < 0.5:
            asks.append((read, "Yes", sample_curve(rng), False))
        else:
            near_miss = wrong_width(read, rng.uniform(*STROKE_NEAR_MISS_PX) * rng.choice((-1, 1)))
            if near_miss is not None:
                asks.append((near_miss, "No", sample_curve(rng), False))
        off_own = abs(read - own)
        if off_own <= STROKE_SAME_PX or off_own >= STROKE_NEAR_MISS_PX[0]:  # straight, as the recipe asks
            asks.append((own, "Yes" if off_own <= STROKE_SAME_PX else "No", 0.0, True))
        for width, answer, curve, at_recipe in asks:
            width = round(width, 3)
            records.append(
                pool_record(
                    "stroke_width",
                    rng.choice(phrasing_indices("stroke_width", phrasing_split)),
                    None,
                    answer,
                    overlay_to_dict(StrokeSpec(width_px=width, curve=curve)),
                    scene,
                    {"width_px": width, "curve": curve, "read_px": round(read, 3), "recipe_width": at_recipe},
                )
            )
    return records


def pool_record(
    family: str,
    phrasing: int,
    variant: str | None,
    answer: str,
    overlay: dict[str, Any],
    scene: Mapping[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """A QA record about a pool image whose answer a measurer gave, in `qa.make_qa`'s format."""
    from .qa.phrasings import phrase, split_of

    return {
        "family": family,
        "question": phrase(family, phrasing, variant, {}),
        "answer": answer,
        "overlay": overlay,
        "margin": None,
        "margin_unit": None,
        "scene_seed": scene["seed"],
        "scene_index": scene["index"],
        "phrasing": phrasing,
        "phrasing_split": split_of(phrasing),
        "params": params,
        "source": "generated",
    }


def recipe_steps(lora: str) -> int:
    """The sampling steps a teach run's LoRA was taught with (1 where its recipe is not known): a LoRA taught
    at 2 steps may draw nothing of what it learned at 1, and the pool is to hold what it does draw."""
    return int((run_recipe(lora).get("training") or {}).get("num_inference_steps") or 1)


def run_recipe(lora: str) -> dict[str, Any]:
    """The resolved recipe of the teach run holding `lora` (its folder or the LoRA file in it); {} if none."""
    import yaml

    folder = Path(lora).parent if str(lora).endswith(".safetensors") else Path(lora)
    recipe = folder / "recipe.yaml"
    return (yaml.safe_load(recipe.read_text()) or {}) if recipe.is_file() else {}


def pool_sources(base: int, loras: Sequence[str]) -> list[Source]:
    """`base` sources of the base generator, then each "NAME=RUN_FOLDER" LoRA at scales 0.5 and 1."""
    sources: list[Source] = [("base", None, 1.0)] * base
    for item in loras:
        name, _, folder = item.partition("=")
        if not folder:
            raise ValueError(f"--lora {item}: expected NAME=RUN_FOLDER")
        sources += [(f"{name}@{scale}", folder, scale) for scale in (0.5, 1.0)]
    return sources


def pool_counts(scenes: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many images have each attribute read by the measurers, or none found."""
    return {
        "horizon_read": sum(s["horizon"] is not None for s in scenes),
        "horizon_none": sum(bool(s["horizon_unseen"]) for s in scenes),
        "sky_read": sum(s["sky"] is not None for s in scenes),
        "stroke_read": sum(s["stroke_width_px"] is not None for s in scenes),
        "stroke_none": sum(bool(s["stroke_unseen"]) for s in scenes),
        "stroke_wide": sum(bool(s.get("stroke_wide")) for s in scenes),
        "stroke_loose_lora": sum(
            s.get("stroke_loose_px") is not None and s.get("recipe_stroke_px") is not None for s in scenes
        ),
        "depth_read": sum(any(p["horizon_found"] for p in s.get("depth_pairs") or []) for s in scenes),
    }


def load_pool(paths: str | Path) -> dict[str, Any]:
    """One pool file, or several separated by commas, merged into one pool (scene indices renumbered)."""
    pools = [torch.load(p, map_location="cpu", weights_only=False) for p in str(paths).split(",") if p]
    return merge_pools(pools)


def merge_pools(pools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if not pools:
        raise ValueError("generated_pool: no pool file given")
    scenes: list[dict[str, Any]] = []
    for pool in pools:
        scenes += [{**scene, "index": len(scenes) + i} for i, scene in enumerate(pool["scenes"])]
    return {
        "images": torch.cat([pool["images"] for pool in pools]),
        "scenes": scenes,
        "sources": [name for pool in pools for name in pool["sources"]],
    }


def pool_images(pool: Mapping[str, Any], rows: Sequence[int] | None = None) -> Tensor:
    """The pool's images (or those at `rows`) in [0, 1]; the pool keeps them as uint8."""
    images = pool["images"] if rows is None else pool["images"][list(rows)]
    return images.float() / 255.0


def pool_records(
    scenes: Sequence[Mapping[str, Any]], seed: int, phrasing_split: str, per_scene: int = 2
) -> list[dict[str, Any]]:
    """QA records for measured scenes: the families' samplers where the measurers read the attribute, and
    No for the line / stroke questions where they found no horizon / no stroke."""
    from .qa import make_qa

    readable = {
        "horizon_line": [s for s in scenes if s["horizon"] is not None],
        "horizon_band": [s for s in scenes if s["horizon"] is not None],
        "sky": [s for s in scenes if s["sky"] is not None],
        "time_of_day": [s for s in scenes if s["sky"] is not None],
        "stroke_width": [s for s in scenes if s["stroke_width_px"] is not None],
    }
    records: list[dict[str, Any]] = []
    for family, subset in readable.items():
        records += make_qa(subset, seed, [family], per_scene=per_scene, phrasing_split=phrasing_split)
    records += unseen_records(scenes, seed, phrasing_split)
    for record in records:
        record["source"] = "generated"
    return records


def unseen_records(
    scenes: Sequence[Mapping[str, Any]], seed: int, phrasing_split: str
) -> list[dict[str, Any]]:
    """No-records: a red line anywhere on a landscape without a horizon; any sample stroke on line art
    without a readable stroke; a thin sample stroke on line art read as wider than STROKE_MAX_PX."""
    from ..prompts.spec import HorizonSpec, StrokeSpec, overlay_to_dict
    from .qa.phrasings import phrasing_indices

    records = []
    for scene in scenes:
        rng = random.Random(f"{seed}/unseen/{scene['seed']}/{scene['index']}")
        if scene["horizon_unseen"]:
            family = "horizon_line"
            y = round(rng.uniform(0.1, 0.9), 3)
            overlay, params = overlay_to_dict(HorizonSpec(y=y)), {"line_y": y}
        elif scene["stroke_unseen"] or scene.get("stroke_wide"):
            family = "stroke_width"
            width = round(rng.uniform(1.0, 6.0) if scene["stroke_unseen"] else rng.uniform(0.5, 2.0), 3)
            overlay, params = overlay_to_dict(StrokeSpec(width_px=width)), {"width_px": width}
        else:
            continue
        phrasing = rng.choice(phrasing_indices(family, phrasing_split))
        records.append(pool_record(family, phrasing, None, "No", overlay, scene, {**params, "unseen": True}))
    return records


PALETTE_IMAGES = 4000
"""Pool images asked the palette question per training run (the pixel check reads every other pixel along
each side, about 25 ms an image with 13 strips, so 4,000 images take under two minutes)."""


def own_colors(image: Tensor, k: int = 5, iterations: int = 8) -> list[str]:
    """The image's `k` main colours above the palette strip (k-means in RGB on every other pixel along each
    side, started at lightness quantiles)."""
    import numpy as np

    from .colorspace import rgb_to_hex
    from .qa.palette import visible_pixels

    visible = visible_pixels(image, stride=2)
    order = visible.sum(1).argsort()
    centres = visible[order[((np.arange(k) + 0.5) / k * len(order)).astype(int)]]
    for _ in range(iterations):
        nearest = ((visible[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            if (nearest == j).any():
                centres[j] = visible[nearest == j].mean(0)
    return sorted({rgb_to_hex((float(r), float(g), float(b))) for r, g, b in centres})


def palette_records(pool: Mapping[str, Any], seed: int, phrasing_split: str) -> list[dict[str, Any]]:
    """palette_match on up to PALETTE_IMAGES pool images, answered by their pixels (qa.visible_truth):
    the image's own main colours as the strip (Yes where they cover it), the named palette nearest to the
    picture (the hardest named No), one other named palette at random, and for an image of a palette
    LoRA the strip its recipe asks about (`recipe_palette`).

    Why the random one: a palette LoRA's hack need not be near its recipe's palette (the round-5 LoRA of
    palette-colours painted a pale wash, nearest to "pastel"), so asking only the nearest never showed the
    judge that wash under the recipe's strip."""
    from ..prompts.spec import PaletteSpec, overlay_to_dict
    from .palettes import NAMED_PALETTES
    from .qa.palette import visible_fits, visible_truth
    from .qa.phrasings import phrase, phrasing_indices, split_of

    rng = random.Random(f"{seed}/palette")
    rows = sorted(rng.sample(range(len(pool["scenes"])), min(PALETTE_IMAGES, len(pool["scenes"]))))
    names = sorted(NAMED_PALETTES)
    named = [list(NAMED_PALETTES[name].colors) for name in names]
    records = []
    for row in rows:
        image = pool_images(pool, [row])[0]
        own = own_colors(image)
        recipe = pool["scenes"][row].get("recipe_palette")
        fits = visible_fits(image, [own, *named, *([recipe] if recipe else [])], stride=2)
        nearest = min(range(len(names)), key=lambda i: fits[1 + i].adherence)
        other = rng.choice([i for i in range(len(names)) if i != nearest])
        strips = [
            (own, "own", fits[0]),
            (named[nearest], f"named:{names[nearest]}", fits[1 + nearest]),
            (named[other], f"named:{names[other]}", fits[1 + other]),
        ]
        if recipe and recipe not in (named[nearest], named[other]):
            strips.append((recipe, "recipe", fits[-1]))
        for strip, kind, fit in strips:
            truth, adherence = visible_truth(fit), fit.adherence
            if truth is None:
                continue
            phrasing = rng.choice(phrasing_indices("palette_match", phrasing_split))
            records.append(
                {
                    "family": "palette_match",
                    "question": phrase("palette_match", phrasing, "band", {}),
                    "answer": "Yes" if truth else "No",
                    "overlay": overlay_to_dict(PaletteSpec(colors=tuple(strip))),
                    "margin": round(adherence, 2),
                    "margin_unit": "mean_ciede2000_of_pixels",
                    "scene_seed": pool["scenes"][row]["seed"],
                    "scene_index": row,
                    "phrasing": phrasing,
                    "phrasing_split": split_of(phrasing),
                    "params": {
                        "colors": strip,
                        "perturbation": kind,
                        "visible_adherence": round(adherence, 2),
                    },
                    "source": "generated",
                }
            )
    return records


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Build a pool of measured generated images for judge training."
    )
    parser.add_argument("--out", required=True, help="pool file to write (pool.pt)")
    parser.add_argument("--seed", type=int, required=True, help="caption and noise seed of the pool")
    parser.add_argument(
        "--n", type=int, default=384, help="images per source (half landscape, half line art)"
    )
    parser.add_argument("--base", type=int, default=1, help="sources of the base generator alone")
    parser.add_argument(
        "--lora",
        action="append",
        default=[],
        help="NAME=RUN_FOLDER of a taught LoRA (used at scales 0.5 and 1)",
    )
    parser.add_argument("--generator", default="scenes-generator", help="preset or pipeline folder")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        sources = pool_sources(args.base, args.lora)
    except ValueError as error:
        parser.error(str(error))
    pool = build_pool(
        args.out,
        sources,
        args.n,
        args.seed,
        generator=args.generator,
        on_progress=lambda d, n: print(f"source {d}/{n}", flush=True),
    )
    print(f"{len(pool['scenes'])} images; {pool_counts(pool['scenes'])}")


if __name__ == "__main__":
    main()

"""Scenes QA as judge inputs: rendered scenes, question records, and each record's image with its overlay.

Shared by judge training (world/train_judge.py) and evaluation (judges/evaluate.py), so both see the same
pictures for the same records. Seed ranges are disjoint by construction (`SEED_BASES`): training draws
scenes from its own range, evaluation and calibration from theirs, and never the other's.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

SEED_BASES = {"train": 10_000_000, "validation": 3_000_000, "calibration": 2_000_000, "evaluation": 1_000_000}
"""Scene-batch seeds: training run seed s, chunk k uses SEED_BASES['train'] * (s + 1) + k; the others
use their base + a small offset. Batches from different seeds never share a scene (world/scene.py)."""

HARD_NEGATIVE = {
    "horizon_line": 0.08,  # line 2-5 px off the horizon (margin in fraction of the height)
    "stroke_width": 1.5,  # sample 1-1.5 px off the true width
    "palette_match": 30.0,  # one or two swatches swapped for near misses (CIEDE2000 15-30)
    "object_count": 1.5,  # off by one
    "relative_depth": 2.0,  # distance ratio under 2
}
"""Per family, the margin below which a No is a near miss: the curriculum brings these in gradually."""


def is_hard(record: Mapping[str, Any]) -> bool:
    """Is this record a near-miss negative (see HARD_NEGATIVE)?"""
    limit = HARD_NEGATIVE.get(record["family"])
    margin = record.get("margin")
    return record["answer"] == "No" and limit is not None and margin is not None and margin < limit


UNKNOWN_WORD = "zqxv"
"""A word no phrasing uses: the judge's word-level tokenizer maps it to its unknown token."""


def drop_words(question: str, p: float, rng: random.Random) -> str:
    """`question` with each word replaced by an unknown one with probability p (punctuation kept)."""
    return re.sub(r"[A-Za-z]+", lambda m: UNKNOWN_WORD if rng.random() < p else m.group(0), question)


@dataclass
class QABatch:
    images: Tensor
    """(S, 3, H, W) the rendered scenes, without overlays."""
    records: list[dict[str, Any]]
    """make_qa records; `scene_index` is the position in `images`."""
    kinds_in_sight: list[dict[str, bool]] = field(default_factory=list)
    """Per scene, each object kind its kind of scene can hold: in sight (True) or absent (False); a kind
    whose only instances are fully hidden is left out (the picture cannot decide it)."""


def scenes_qa(
    seed: int,
    n_scenes: int,
    phrasing_split: str,
    per_scene: int | Mapping[str, int] = 1,
    families: Sequence[str] | None = None,
    size_px: int = 64,
    painted_palette_share: float = 0.0,
    recolored_palette_share: float = 0.0,
    tiled_palette_share: float = 0.0,
) -> QABatch:
    """Render `n_scenes` scenes drawn from `seed` (both kinds) and make their QA records; with
    `painted_palette_share`, also that share of the palette Nos again with strip colours painted in
    (qa.painted_negatives); with `recolored_palette_share`, that share of the palette records again with the
    scene repainted in some of the strip's colours (qa.recolored_records); with `tiled_palette_share`, that
    share of the plain palette records again with the swatches tiled over the image (qa.tiled_records)."""
    from .qa import agree_with_pixels, kinds_in_sight, make_qa
    from .qa.palette import painted_negatives, recolored_records, tiled_records
    from .render import render_full
    from .scene import sample_scenes

    rendering = render_full(sample_scenes(seed, n_scenes, size_px=size_px))
    records = make_qa(
        rendering.scenes, seed, families=families, per_scene=per_scene, phrasing_split=phrasing_split
    )
    records = agree_with_pixels(records, rendering.images)
    if painted_palette_share > 0:
        rng = random.Random(f"{seed}/painted")
        records += painted_negatives(records, rendering.images, painted_palette_share, rng)
    if recolored_palette_share > 0:
        rng = random.Random(f"{seed}/recolored")
        plain = [r for r in records if r.get("params", {}).get("perturbation") != "painted"]
        records += recolored_records(plain, rendering.images, recolored_palette_share, rng)
    if tiled_palette_share > 0:
        rng = random.Random(f"{seed}/tiled")
        records += tiled_records(records, rendering.images, tiled_palette_share, rng)
    in_sight = [kinds_in_sight(scene.to_dict()) for scene in rendering.scenes]
    return QABatch(images=rendering.images, records=records, kinds_in_sight=in_sight)


def record_images(
    scene_images: Tensor,
    records: Sequence[Mapping[str, Any]],
    degradations: Sequence[str | None] | None = None,
    rng: random.Random | None = None,
) -> Tensor:
    """(N, 3, H, W): each record's scene (repainted in strip colours, or with the band of a painted palette
    negative, where its params say so), degraded as asked
    (before the overlay, as a generator's image would be), with the record's overlay composited on top."""
    from ..judges.degrade import degrade
    from ..prompts import apply_overlay
    from .qa.palette import paint_strip_band, recolor_in_strip

    rng = rng or random.Random(0)
    out = []
    for i, record in enumerate(records):
        image = scene_images[record["scene_index"] : record["scene_index"] + 1]
        recolor = record.get("params", {}).get("recolor")
        if recolor:
            image = recolor_in_strip(image[0], **recolor)[None]
        paint = record.get("params", {}).get("paint")
        if paint:
            image = paint_strip_band(image[0], record["params"]["colors"], **paint)[None]
        kind = degradations[i] if degradations is not None else None
        if kind is not None:
            image = degrade(image, kind, rng)
        if record.get("overlay"):
            image = apply_overlay(image, record["overlay"])
        out.append(image)
    return torch.cat(out) if out else scene_images[:0]

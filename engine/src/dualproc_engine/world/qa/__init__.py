"""Balanced yes/no questions with exact answers, built from scene attributes (docs/world-contract.md).

`make_qa(scenes, seed, families=None, per_scene=1, phrasing_split="train") -> list[dict]`; one module per
group of families (horizon, palette, stroke, depth, objects, sky, layout), `phrasings` for the wording and
`generator` for the records.

Each family has a *truth* function (scene + question parameters -> True, False, or None when the scene
cannot answer it without doubt) and a *sampler* that draws parameters aiming at a wanted answer. A
sampler's answer is always what the truth function says, never what it aimed at, and a parameter set the
truth function calls doubtful is never asked. Wording is separate (`phrasings`): a sampled question
becomes text only in `make_qa`, from the split of phrasings asked for.

Every record states its `margin`: how clearly the scene decides the answer, in `margin_unit`:
- horizon_line: |line - horizon| (fraction of the height). Yes <= 0.005; No >= 0.03, half of the Nos
  "hard" (0.03-0.08, about 2-5 px at 64 px), half easy (0.08-0.25).
- horizon_band: distance of the horizon from the nearer band edge (1/3, 2/3); always >= 0.03.
- palette_match: CIEDE2000 of the most mismatched swatch to its nearest scene colour (either way round).
  Yes: 0 (the scene's palette). No >= 15: one or two swatches swapped for near misses 15-30 away from the
  colour they replace, or another named or random palette. Where the rendered picture is at hand
  (`agree_with_pixels`: judge training and evaluation, the QA dataset), a record is kept only if the
  pixels agree: a Yes strip covers the visible picture (mean CIEDE2000 to the nearest swatch <= 6) and two
  of its colours (its only one, if it has one) each cover 7% of it; a No strip visibly misses (>= 12) or
  fewer than two of its colours cover 3% (a wash of one strip colour does not use the strip's colours).
- stroke_width: |sample - true width| in px at 64 px. Yes <= 0.1 (exact); No >= 1, half 1-1.5, half 1.5-3.
- relative_depth: the farther object's distance over the nearer one's; always >= 1.5.
- object_count: |asked - true count|, 1 or 2 for No, 0 for Yes.
- object_color: the smallest colour-naming margin (CIEDE2000) among the objects of that kind; >= 5.
- layout_match: 1 - IoU of the worst box with the best object of its label. Yes: <= 0.1; No: >= 0.5.
- object_presence, sky, time_of_day: null (the attribute decides them exactly).
"""

from .common import Ask
from .depth import relative_depth_truth
from .generator import FAMILIES, Family, make_qa
from .horizon import horizon_band, horizon_band_truth, horizon_line_truth
from .layout import box_iou, layout_truth
from .objects import kinds_in_sight, object_color_truth, object_count_truth, object_presence_truth
from .palette import agree_with_pixels, near_miss_color, palette_mismatch, palette_truth, visible_adherence
from .phrasings import PHRASING_SPLITS, PHRASINGS
from .sky import sky_truth, time_of_day_truth
from .stroke import stroke_width_at_64, stroke_width_truth

__all__ = [
    "FAMILIES",
    "PHRASINGS",
    "PHRASING_SPLITS",
    "Ask",
    "Family",
    "agree_with_pixels",
    "box_iou",
    "horizon_band",
    "horizon_band_truth",
    "horizon_line_truth",
    "kinds_in_sight",
    "layout_truth",
    "make_qa",
    "near_miss_color",
    "object_color_truth",
    "object_count_truth",
    "object_presence_truth",
    "palette_mismatch",
    "palette_truth",
    "relative_depth_truth",
    "sky_truth",
    "stroke_width_at_64",
    "stroke_width_truth",
    "time_of_day_truth",
    "visible_adherence",
]

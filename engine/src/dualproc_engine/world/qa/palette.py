"""palette_match: does the palette strip at the bottom (or the swatches tiled over the image) show the scene's
palette?"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...prompts.color import LUMA
from ...prompts.palette import DEFAULT_BAND_FRAC
from ...prompts.spec import PaletteSpec, overlay_to_dict
from ..color_names import delta_e_matrix
from .common import Ask, Scene, ask

PALETTE_MATCH_TOLERANCE = 1.0
"""CIEDE2000 below which two colours are the same swatch (hex rounding is about 0.3)."""
PALETTE_MISS_MIN = 15.0
"""Every wrong strip has a swatch at least this far from all scene colours: clearly another colour."""
PALETTE_NEAR_MISS = (15.0, 30.0)
"""How far a swapped-in colour is from the colour it replaces: a near miss, not a random colour."""
VISIBLE_YES_MAX = 6.0
"""A Yes strip must cover what is seen: mean CIEDE2000 from visible pixels to their nearest swatch <= this."""
VISIBLE_NO_MIN = 12.0
"""A No strip must visibly miss: that mean at least this (the app's palette control passes at <= 10)."""
USED_WITHIN = 10.0
"""A visible pixel counts for its nearest swatch when it is at most this far from it (CIEDE2000)."""
USED_SHARE = (0.03, 0.07)
"""A Yes strip has two swatches (its only one, if it has one) each covering at least the upper share of the
visible pixels; a strip with fewer than two covering the lower share is a No, however close the pixels are.
Why: the app's palette control wants two given colours on 5% of the image each, and a judge that took one
flat wash of one strip colour for a Yes taught exactly that wash (docs/judge.md)."""


def palette_mismatch(scene_colors: Sequence[str], strip: Sequence[str]) -> float:
    """CIEDE2000 of the worst-matched colour, over strip -> scene and scene -> strip."""
    d = delta_e_matrix(strip, scene_colors)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def palette_truth(scene: Scene, strip: Sequence[str]) -> bool | None:
    """Does a palette strip of these colours show the scene's palette?"""
    mismatch = palette_mismatch(scene["palette"]["colors"], strip)
    if mismatch <= PALETTE_MATCH_TOLERANCE and len(strip) == len(scene["palette"]["colors"]):
        return True
    return False if mismatch >= PALETTE_MISS_MIN else None


@dataclass(frozen=True)
class PaletteFit:
    """How a strip fits the visible picture."""

    adherence: float
    """Mean CIEDE2000 from each visible pixel to its nearest swatch (0: only strip colours are seen)."""
    shares: tuple[float, ...]
    """Per swatch, the share of visible pixels nearest to it and within USED_WITHIN."""

    @property
    def colors_needed(self) -> int:
        return min(2, len(self.shares))

    def colors_used(self, share: float) -> int:
        return sum(s >= share for s in self.shares)


def visible_adherence(image: Any, strip: Sequence[str], band_frac: float = DEFAULT_BAND_FRAC) -> float:
    """Mean CIEDE2000 from each pixel above the strip to its nearest swatch (0: only strip colours are seen).

    Why pixels and not the scene's palette: a scene shows a subset of its palette plus outlines, gradients
    and textures, so "the scene's palette" was often not what the picture shows (a quarter of Yes strips
    left a quarter of the pixels over 10 from every swatch, and a swap of an unused swatch made a No that
    looked exactly like a Yes). Unused swatches cost nothing, as in the app's palette control.
    """
    return visible_adherences(image, [strip], band_frac)[0]


def visible_adherences(
    image: Any, strips: Sequence[Sequence[str]], band_frac: float = DEFAULT_BAND_FRAC, stride: int = 1
) -> list[float]:
    """`visible_adherence` of one image to each of several strips (see `visible_fits`)."""
    return [fit.adherence for fit in visible_fits(image, strips, band_frac, stride)]


def visible_fit(image: Any, strip: Sequence[str], band_frac: float = DEFAULT_BAND_FRAC) -> PaletteFit:
    """How one strip fits the (3, H, W) picture above it."""
    return visible_fits(image, [strip], band_frac)[0]


def visible_fits(
    image: Any, strips: Sequence[Sequence[str]], band_frac: float = DEFAULT_BAND_FRAC, stride: int = 1
) -> list[PaletteFit]:
    """The fit of one image to each of several strips, with one colour-difference pass; `stride` > 1
    estimates it from every stride-th pixel along each side (stride**2 times faster)."""
    import numpy as np

    from ..colorspace import ciede2000, hex_to_rgb, rgb_to_cielab

    visible = visible_pixels(image, band_frac, stride)
    swatches = [hex_to_rgb(c) for strip in strips for c in strip]
    distances = ciede2000(rgb_to_cielab(visible)[:, None, :], rgb_to_cielab(np.array(swatches))[None, :, :])
    bounds = np.cumsum([0, *(len(strip) for strip in strips)])
    fits = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        nearest, gap = distances[:, a:b].argmin(axis=1), distances[:, a:b].min(axis=1)
        used = np.bincount(nearest[gap <= USED_WITHIN], minlength=b - a) / len(gap)
        fits.append(PaletteFit(float(gap.mean()), tuple(float(x) for x in used)))
    return fits


def visible_pixels(image: Any, band_frac: float = DEFAULT_BAND_FRAC, stride: int = 1) -> Any:
    """(N, 3) float64 RGB of the (3, H, W) image's pixels above the strip, every stride-th along each side."""
    import numpy as np

    pixels = np.asarray(image, dtype=np.float64)
    return pixels[:, : int(round(pixels.shape[1] * (1.0 - band_frac))) : stride, ::stride].reshape(3, -1).T


def visible_truth(fit: PaletteFit) -> bool | None:
    """Yes / No by what the strip covers of the visible picture and how many of its colours the picture
    uses; None in the ambiguous middle."""
    if fit.adherence >= VISIBLE_NO_MIN or fit.colors_used(USED_SHARE[0]) < fit.colors_needed:
        return False
    if fit.adherence <= VISIBLE_YES_MAX and fit.colors_used(USED_SHARE[1]) >= fit.colors_needed:
        return True
    return None


def near_miss_color(rng: random.Random, original: str, avoid: Sequence[str], rounds: int = 8) -> str | None:
    """A colour PALETTE_NEAR_MISS away from `original` and at least PALETTE_MISS_MIN from all of `avoid`."""
    from ..colorspace import hex_to_rgb, oklab_to_rgb, rgb_to_hex, rgb_to_oklab

    lab = rgb_to_oklab(hex_to_rgb(original))
    for _ in range(rounds):
        candidates = []
        for _ in range(32):
            # a random direction in OKLab, at a radius where CIEDE2000 often lands in the near-miss range
            direction = [rng.gauss(0.0, 1.0) for _ in range(3)]
            norm = math.sqrt(sum(d * d for d in direction)) or 1.0
            step = [rng.uniform(0.05, 0.16) * d / norm for d in direction]
            rgb = oklab_to_rgb((lab[0] + step[0], lab[1] + step[1], lab[2] + step[2]))
            if all(-1e-6 <= c <= 1 + 1e-6 for c in rgb):
                candidates.append(rgb_to_hex(rgb))
        if not candidates:
            continue
        d = delta_e_matrix(candidates, [original, *avoid])
        for candidate, row in zip(candidates, d, strict=True):
            if PALETTE_NEAR_MISS[0] <= row[0] <= PALETTE_NEAR_MISS[1] and row[1:].min() >= PALETTE_MISS_MIN:
                return candidate
    return None


def _other_palette(rng: random.Random, scene: Scene) -> tuple[list[str], str]:
    from ..palettes import NAMED_PALETTES, random_palette

    if rng.random() < 0.5:
        name = rng.choice([n for n in NAMED_PALETTES if n != scene["palette"].get("name")])
        return list(NAMED_PALETTES[name].colors), f"named:{name}"
    return list(random_palette(rng.randrange(2**31)).colors), "random"


def sample_palette_match(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    colors = list(scene["palette"]["colors"])
    strip, perturbation = list(colors), "none"
    if not want:
        perturbation = rng.choices(("swap1", "swap2", "other"), weights=(0.4, 0.3, 0.3))[0]
        if perturbation == "other":
            strip, perturbation = _other_palette(rng, scene)
        else:
            for position in rng.sample(range(len(colors)), 1 if perturbation == "swap1" else 2):
                replacement = near_miss_color(rng, colors[position], avoid=colors + strip)
                if replacement is None:
                    return None
                strip[position] = replacement
    return ask(
        palette_truth(scene, strip),
        want,
        variant="band",
        overlay=overlay_to_dict(PaletteSpec(colors=tuple(strip))),
        margin=palette_mismatch(colors, strip),
        margin_unit="ciede2000",
        params={"colors": strip, "perturbation": perturbation},
    )


def agree_with_pixels(records: list[dict[str, Any]], images: Any) -> list[dict[str, Any]]:
    """Palette records whose answer the rendered picture shows (`visible_truth`), each with its
    `visible_adherence` in params; other families pass unchanged. `images[record["scene_index"]]` is the
    record's scene without overlay."""
    kept = []
    for record in records:
        if record["family"] == "palette_match":
            fit = visible_fit(images[record["scene_index"]], record["params"]["colors"])
            if visible_truth(fit) != (record["answer"] == "Yes"):
                continue
            record = {**record, "params": {**record["params"], "visible_adherence": round(fit.adherence, 2)}}
        kept.append(record)
    return kept


def tiled_records(
    records: list[dict[str, Any]], images: Any, share: float, rng: random.Random
) -> list[dict[str, Any]]:
    """For a `share` of the plain palette records (not painted or recoloured), a copy asked with the
    swatches tiled over the image (overlay layout "tiles", the same phrasing's "tiles" wording), answered by
    the pixels of the whole picture (`visible_truth`; with tiles no rows are hidden under a strip) and kept
    where that answer is the record's.

    Why: a tiny judge compares a bottom strip mostly with the colours next to it, and palette LoRAs paint
    exactly there (docs/judge.md); with a small strip in every cell of the image, every part of it is next
    to the swatches."""
    from .phrasings import phrase

    out = []
    for record in records:
        params = record.get("params", {})
        if record["family"] != "palette_match" or "paint" in params or "recolor" in params:
            continue
        if rng.random() >= share:
            continue
        fit = visible_fit(images[record["scene_index"]], params["colors"], band_frac=0.0)
        if visible_truth(fit) != (record["answer"] == "Yes"):
            continue
        overlay = overlay_to_dict(PaletteSpec(colors=tuple(params["colors"]), layout="tiles"))
        out.append(
            {
                **record,
                "question": phrase("palette_match", record["phrasing"], "tiles", {}),
                "overlay": overlay,
                "params": {**params, "visible_adherence": round(fit.adherence, 2)},
            }
        )
    return out


def paint_strip_band(image: Any, colors: Sequence[str], top_frac: float, height_frac: float) -> Any:
    """A copy of the (3, H, W) image with a band of the strip's swatches (same columns as the strip) painted
    over rows [top_frac, top_frac + height_frac) of the height."""
    import torch

    from ...prompts.palette import palette_layer
    from ..colorspace import hex_to_rgb

    height, width = image.shape[-2:]
    swatches = palette_layer(height, width, [hex_to_rgb(c) for c in colors]).color[:, -1:]  # (3, 1, W)
    top, rows = round(top_frac * height), max(1, round(height_frac * height))
    painted = torch.as_tensor(image).clone()
    painted[:, top : top + rows] = swatches  # broadcast down the rows: each column keeps its swatch's colour
    return painted


def painted_negatives(
    records: list[dict[str, Any]], images: Any, share: float, rng: random.Random
) -> list[dict[str, Any]]:
    """For a `share` of the palette No records, a copy whose picture has a band of the strip's own colours
    painted in (4-16 px at 64 px; just above the strip 60% of the time, anywhere above it otherwise), kept
    where the painted picture still visibly misses the strip (`visible_truth` No).

    Why: taught against the palette question, LoRAs painted strip-like colours next to the strip and the
    judges said Yes (studies/palette_locality.py); these are such pictures, answered by their pixels. The
    band is stored in params["paint"] and painted by judge_data.record_images."""
    out = []
    for record in records:
        if record["family"] != "palette_match" or record["answer"] != "No" or rng.random() >= share:
            continue
        height_frac = rng.uniform(4, 16) / 64
        above_strip = 1.0 - DEFAULT_BAND_FRAC - height_frac
        top_frac = above_strip if rng.random() < 0.6 else rng.uniform(0.0, above_strip)
        paint = {"top_frac": round(top_frac, 4), "height_frac": round(height_frac, 4)}
        colors = record["params"]["colors"]
        painted = paint_strip_band(images[record["scene_index"]], colors, **paint)
        fit = visible_fit(painted, colors)
        if visible_truth(fit) is False:
            params = {**record["params"], "paint": paint, "visible_adherence": round(fit.adherence, 2)}
            out.append({**record, "params": {**params, "perturbation": "painted"}})
    return out


RECOLOR_TEXTURES = (0.0, 0.1, 0.2, 0.3)
"""Shares of each pixel's difference from its lightness group's mean that a recoloured picture may keep
(0: flat fields, like the taught LoRAs' washes; 0.3: the scene's edges plainly visible)."""
RECOLOR_OFFSET = 0.06
"""Largest shift of each RGB channel of the strip colours a recoloured picture is painted in (the LoRAs'
washes sit near a strip colour, not on it); the pixels decide the answer either way."""
RECOLOR_GROUPS = 5
"""Lightness groups a picture is split into before its groups are given strip colours."""


def lightness_groups(image: Any, groups: int = RECOLOR_GROUPS, iterations: int = 10) -> Any:
    """(H, W) group index 0..groups-1 of each pixel of the (3, H, W) image, by 1-D k-means on its lightness
    (0: darkest). Why k-means and not quantiles: a render's flat regions share one lightness, and a quantile
    cut would land inside one and leave the split to chance."""
    import torch

    pixels = torch.as_tensor(image, dtype=torch.float32)
    lightness = (pixels * torch.tensor(LUMA)[:, None, None]).sum(0)
    flat = lightness.flatten()
    centres = torch.quantile(flat, (torch.arange(groups) + 0.5) / groups)
    for _ in range(iterations):
        nearest = (flat[:, None] - centres[None]).abs().argmin(1)
        for g in range(groups):
            if (nearest == g).any():
                centres[g] = flat[nearest == g].mean()
    order = centres.argsort()
    rank = torch.empty_like(order)
    rank[order] = torch.arange(groups)
    return rank[(lightness[..., None] - centres).abs().argmin(-1)]


def recolor_in_strip(
    image: Any,
    colors: Sequence[str],
    cuts: Sequence[int],
    texture: float = 0.2,
    offset: Sequence[float] = (0.0, 0.0, 0.0),
) -> Any:
    """A copy of the (3, H, W) image repainted in `colors` shifted by the RGB `offset`: its lightness groups
    (`lightness_groups`), darkest first, split into len(colors) runs at the group indices `cuts` (ascending,
    1..RECOLOR_GROUPS-1), the darkest run in the darkest colour and so on; each pixel keeps `texture` of its
    difference from its group's mean, so that edges stay visible (0: flat fields)."""
    import torch

    from ..colorspace import hex_to_rgb

    pixels = torch.as_tensor(image, dtype=torch.float32)
    luma = torch.tensor(LUMA)
    palette = sorted((torch.tensor(hex_to_rgb(c)) for c in colors), key=lambda rgb: float(rgb @ luma))
    groups = lightness_groups(pixels)
    out = pixels.clone()
    for g in range(RECOLOR_GROUPS):
        inside = groups == g
        if inside.any():
            rgb = palette[sum(g >= cut for cut in cuts)] + torch.tensor(list(offset))
            mean = pixels[:, inside].mean(1, keepdim=True)
            out[:, inside] = rgb[:, None] + texture * (pixels[:, inside] - mean)
    return out.clamp(0.0, 1.0)


def recolored_records(
    records: list[dict[str, Any]], images: Any, share: float, rng: random.Random
) -> list[dict[str, Any]]:
    """For a `share` of the palette records, a copy whose picture is its scene repainted in some of the
    strip's own colours (`recolor_in_strip`), answered by the repainted pixels (`visible_truth`): in one
    colour half the time (a wash: No, the picture does not use the strip's colours), otherwise in two to
    four, each on a run of its lightness groups (Yes where each covers enough of the picture).

    Why: renders answer Yes only for their own palette, so the judges never saw a scene in a strip's colours
    that are not its palette, nor a wash of one strip colour as a No; taught through views that hide where
    the strip is, the palette LoRA painted exactly such a wash (docs/judge.md). The recolouring (colours,
    splits, texture, offset) is stored in params["recolor"] and repainted by judge_data.record_images."""
    out = []
    for record in records:
        if record["family"] != "palette_match" or rng.random() >= share:
            continue
        colors = record["params"]["colors"]
        k = 1 if len(colors) == 1 or rng.random() < 0.5 else rng.randint(2, min(4, len(colors)))
        recolor: dict[str, Any] = {
            "colors": rng.sample(list(colors), k),
            "cuts": sorted(rng.sample(range(1, RECOLOR_GROUPS), k - 1)),
            "texture": rng.choice(RECOLOR_TEXTURES),
            "offset": [round(rng.uniform(-RECOLOR_OFFSET, RECOLOR_OFFSET), 3) for _ in range(3)],
        }
        fit = visible_fit(recolor_in_strip(images[record["scene_index"]], **recolor), colors)
        truth = visible_truth(fit)
        if truth is None:
            continue
        params = {**record["params"], "recolor": recolor, "visible_adherence": round(fit.adherence, 2)}
        out.append(
            {
                **record,
                "answer": "Yes" if truth else "No",
                "margin": round(fit.adherence, 2),
                "margin_unit": "mean_ciede2000_of_pixels",
                "params": {**params, "perturbation": "recolored"},
            }
        )
    return out

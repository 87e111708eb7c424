"""Evaluating the embedded generator with the app's classical measurers (they share no code with it).

For held-out scenes (seeds never drawn in training), images are generated from the scenes' captions and
the same scenes are rendered; the measurers (`dualproc world measure`) read both. Reported:
- caption faithfulness: horizon band named in the caption matched; sky kind matched; palette distance
  (CIEDE2000, the measurers' matched-palette definition) of images whose caption names a palette;
- KID (Binkowski et al. 2018, unbiased MMD^2 with the cubic polynomial kernel) between generated images and
  renders, on a fixed random-weight conv feature extractor (no downloaded network exists here);
- diversity across noises: how much pictures of one caption differ from noise to noise (mean absolute
  pixel difference over pairs, per kind), beside renders of scenes that caption describes as well (its
  "twins"); KID, over all captions at once, does not see a generator that draws one picture per caption;
- images/s at 1, 2 and 4 steps;
- the baseline success rate on the controls the teach loop will teach (text alone cannot state them):
  horizon at 30% of the height (+-0.03), a palette given as colours (palette adherence <= 10 CIEDE2000), a
  stroke width of 2 px at 64 px (+-0.5 px). Renders with the control fixed give each check's ceiling (the
  measurers are not perfect: the stroke measurer misreads about half of all renders).

`python -m dualproc_engine.generators.evaluate --generator DIR --out DIR` writes eval.json and prints the
markdown tables of docs/generator.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

REPO = Path(__file__).resolve().parents[4]
HELDOUT_SEED = 999_999
"""Scene seeds s * 1_000_003 + i of this seed are far from any seed training draws (< 10**10)."""
DIVERSITY_CAPTIONS, DIVERSITY_NOISES = 32, 8
"""Held-out captions per kind, and noises (or twins) per caption, of the diversity across noises."""
HORIZON_TARGET, HORIZON_TOL = 0.30, 0.03
PALETTE_TOL = 10.0
STROKE_TARGET_PX, STROKE_TOL_PX = 2.0, 0.5
PointPair = tuple[tuple[float, float], tuple[float, float]]
"""Points A and B as fractions of the side, (x, y) from the top-left."""


# --- measuring --------------------------------------------------------------------------------------
def measure(
    images: Tensor, kind: str | None = None, points: Sequence[PointPair] = ()
) -> list[dict[str, Any]]:
    """Run the app's measurers on images in [0, 1]; one dict per image (fields of world-contract.md), with
    `depth` (one {a, b, a_nearer} per pair of `points`, or None without a horizon) where points are given."""
    from ..images import save_png

    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, image in enumerate(images):
            files.append(str(Path(tmp) / f"{i:06d}.png"))
            save_png(image, Path(files[-1]))
        cmd = ["node", str(REPO / "app" / "bin" / "dualproc.js"), "world", "measure", "-q"]
        cmd += ["--kind", kind] if kind else []
        for (xa, ya), (xb, yb) in points:
            cmd += ["--points", f"{xa},{ya},{xb},{yb}"]
        out = subprocess.run(cmd + files, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(rows) != len(files):
        raise RuntimeError(f"measured {len(rows)} of {len(files)} images")
    return rows


def palette_distance(measured: list[dict[str, Any]], target_hex: list[str]) -> float:
    """The measurers' palette distance (app/src/eval/measurers/palette.ts `paletteDistance`), in CIEDE2000:
    the smaller palette matched one-to-one to the larger by least total difference, leftovers of the
    larger paired with their nearest; mean over the larger palette's colours."""
    from ..world.colorspace import ciede2000, hex_to_rgb, rgb_to_cielab

    a = np.array([m["lab"] for m in measured], dtype=np.float64)
    b = rgb_to_cielab(np.array([hex_to_rgb(h) for h in target_hex]))
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    d = ciede2000(small[:, None, :], large[None, :, :])  # (small, large)
    best = float("inf")
    for perm in itertools.permutations(range(len(large)), len(small)):
        matched = sum(d[i, j] for i, j in enumerate(perm))
        rest = sum(d[:, j].min() for j in range(len(large)) if j not in perm)
        total = (matched + rest) / len(large)
        best = min(best, total)
    return float(best)


def palette_adherence(measured: list[dict[str, Any]], target_hex: list[str]) -> float:
    """How far the image's colours are from the palette: the weight-averaged CIEDE2000 from each measured
    dominant colour to its nearest palette colour (0 when every colour is a palette colour; unused palette
    colours cost nothing, unlike `palette_distance`)."""
    from ..world.colorspace import ciede2000, hex_to_rgb, rgb_to_cielab

    a = np.array([m["lab"] for m in measured], dtype=np.float64)
    w = np.array([m["weight"] for m in measured], dtype=np.float64)
    b = rgb_to_cielab(np.array([hex_to_rgb(h) for h in target_hex]))
    return float((ciede2000(a[:, None, :], b[None, :, :]).min(1) * w).sum() / w.sum())


# --- features and KID -------------------------------------------------------------------------------
def random_features(images: Tensor, seed: int = 0) -> Tensor:
    """A fixed random-weight conv net (3 strided convs, ReLU, mean+std pooling): 448 features per image."""
    g = torch.Generator().manual_seed(seed)
    x = images * 2 - 1
    feats = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        w = torch.randn(c_out, c_in, 4, 4, generator=g) / (c_in * 16) ** 0.5
        x = torch.relu(torch.nn.functional.conv2d(x, w, stride=2, padding=1))
        feats += [x.mean((2, 3)), x.std((2, 3))]
    return torch.cat(feats[2:], 1)  # the last two levels: 64 + 128 channels, mean and std


def kid(a: Tensor, b: Tensor) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 (the KID of Binkowski et al. 2018), x1000."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    m, n = a.shape[0], b.shape[0]
    mmd = (kaa.sum() - kaa.diag().sum()) / (m * (m - 1)) + (kbb.sum() - kbb.diag().sum()) / (n * (n - 1))
    return float(1000 * (mmd - 2 * kab.mean()))


# --- the evaluation ---------------------------------------------------------------------------------
def _generate(gen: Any, captions: list[str], steps: int, seed: int) -> Tensor:
    from .generate import generate_images

    return generate_images(gen, captions, seed, steps)


def faithfulness(gen: Any, n: int, steps_list: tuple[int, ...]) -> dict[str, Any]:
    from ..world.captions import horizon_band
    from ..world.horizon_noise import named_band
    from ..world.render import render
    from ..world.scene import sample_scenes

    land = sample_scenes(HELDOUT_SEED, n, kind="landscape")
    line = sample_scenes(HELDOUT_SEED + 1, n, kind="lineart")
    scenes = land + line
    captions = [s.caption for s in scenes]
    renders = render(scenes)

    def scores(images: Tensor) -> dict[str, Any]:
        m_land = measure(images[: len(land)], "landscape")
        m_all = m_land + measure(images[len(land) :], "lineart")
        bands = [
            (said[0], m["horizon"])
            for s, m in zip(land, m_land, strict=True)
            if (said := named_band(s)) is not None
        ]
        band_ok = [m is not None and horizon_band(m) == b for b, m in bands]
        sky_ok = [m["sky"] == s.sky for s, m in zip(land, m_land, strict=True)]
        named = [(s, m) for s, m in zip(scenes, m_all, strict=True) if _names_palette(s)]
        dist = [palette_distance(m["palette"], list(s.palette.colors)) for s, m in named]
        adherence = [palette_adherence(m["palette"], list(s.palette.colors)) for s, m in named]
        horizon_err = [
            abs(m["horizon"] - s.horizon)
            for s, m in zip(land, m_land, strict=True)
            if m["horizon"] is not None
        ]
        return {
            "horizon_band_matched": float(np.mean(band_ok)),
            "horizon_band_n": len(band_ok),
            "sky_matched": float(np.mean(sky_ok)),
            "sky_n": len(sky_ok),
            "palette_distance": float(np.mean(dist)),
            "palette_adherence": float(np.mean(adherence)),
            "palette_n": len(dist),
            "horizon_abs_error_vs_scene": float(np.median(horizon_err)) if horizon_err else None,
        }

    result: dict[str, Any] = {"renders": scores(renders)}
    feats_real = random_features(renders)
    feats_other = random_features(
        render(
            sample_scenes(HELDOUT_SEED + 2, n, kind="landscape")
            + sample_scenes(HELDOUT_SEED + 3, n, kind="lineart")
        )
    )
    result["renders"]["kid_x1000"] = kid(feats_other, feats_real)
    for steps in steps_list:
        images = _generate(gen, captions, steps, seed=0)
        row = scores(images)
        row["kid_x1000"] = kid(random_features(images), feats_real)
        result[f"steps_{steps}"] = row
    return result


def caption_twins(scene: Any, n: int) -> list[Any]:
    """`n` scenes that `scene`'s caption describes as well as it, its caption kept: what a caption can state
    is fixed (kind, sky, ground, the kinds of objects; the horizon band, a tilt, a palette and the stroke
    band where the caption names them, drawn anew within what it names) and the rest drawn again."""
    import random

    from ..world.attributes import HORIZON_RANGE
    from ..world.captions import horizon_band, stroke_band
    from ..world.horizon_noise import names_band
    from ..world.scene import STROKE_RANGE_AT_64, sample_scene, scene_seed

    text = scene.caption.lower()
    fixed: dict[str, Any] = {"caption": scene.caption, "object_kinds": [o.kind for o in scene.objects]}
    if _names_palette(scene):
        fixed["palette"] = scene.palette
    if scene.kind == "landscape":
        fixed.update(sky=scene.sky, ground=scene.ground, celestial=scene.celestial)
        if "tilted" in text:
            fixed["horizon_tilt_deg"] = scene.horizon_tilt_deg
    within: tuple[str, tuple[float, float], Callable[[float], bool]] | None = None  # what to draw anew
    if names_band(scene):
        band = horizon_band(scene.horizon)
        within = ("horizon", HORIZON_RANGE, lambda h: horizon_band(h) == band)
    if scene.kind == "lineart" and _names_stroke(text):
        thirds, scale = stroke_band(scene.stroke_width_px, scene.size_px), scene.size_px / 64
        stroke_range = (STROKE_RANGE_AT_64[0] * scale, STROKE_RANGE_AT_64[1] * scale)
        within = ("stroke_width_px", stroke_range, lambda w: stroke_band(w, scene.size_px) == thirds)
    twins = []
    for j in range(n):
        seed = scene_seed(scene.seed, j + 1)
        again = dict(fixed)
        if within:
            again[within[0]] = _draw_within(random.Random(f"{seed}:twin"), within[1], within[2])
        twins.append(sample_scene(seed, j, scene.kind, scene.size_px, **again))
    return twins


def _names_palette(scene: Any) -> bool:
    """Whether a scene's caption names its (named) palette."""
    return bool(scene.palette.name) and scene.palette.name.replace("_", " ") in scene.caption.lower()


def _names_stroke(text: str) -> bool:
    from ..world.captions import STROKE_PHRASES

    return any(p in text for ps in STROKE_PHRASES.values() for p in ps)


def _draw_within(rng: Any, bounds: tuple[float, float], accept: Callable[[float], bool]) -> float:
    """A uniform draw from `bounds` that `accept`s (the bands are thirds of the range: a few tries)."""
    while True:
        value = round(rng.uniform(*bounds), 4)
        if accept(value):
            return value


def mean_pairwise_difference(groups: Tensor) -> float:
    """Mean absolute pixel difference between two images of one group, over all pairs of every group
    ((G, N, C, H, W) in [0, 1]); 0 when each group is one picture. The same quantity as `dualproc eval`'s
    diversity across seeds (app/src/eval/diversity.ts)."""
    pairs = list(itertools.combinations(range(groups.shape[1]), 2))
    first, second = zip(*pairs, strict=True)
    return float((groups[:, list(first)] - groups[:, list(second)]).abs().mean())


def diversity_across_noises(gen: Any, steps_list: tuple[int, ...]) -> dict[str, Any]:
    """Per kind, how much the pictures of one held-out caption differ from noise to noise, for the renders
    of its twins (`caption_twins`) and at each number of steps."""
    from ..world.render import render
    from ..world.scene import sample_scenes

    kinds = {k: sample_scenes(HELDOUT_SEED + 7, DIVERSITY_CAPTIONS, k) for k in ("landscape", "lineart")}
    shape = (DIVERSITY_CAPTIONS, DIVERSITY_NOISES)

    def grouped(images: Tensor) -> float:
        return mean_pairwise_difference(images.view(*shape, *images.shape[1:]))

    result: dict[str, Any] = {"captions": DIVERSITY_CAPTIONS, "noises": DIVERSITY_NOISES, "renders": {}}
    for kind, scenes in kinds.items():
        result["renders"][kind] = grouped(render([t for s in scenes for t in caption_twins(s, shape[1])]))
    for steps in steps_list:
        result[f"steps_{steps}"] = {
            kind: grouped(_generate(gen, [s.caption for s in scenes for _ in range(shape[1])], steps, 0))
            for kind, scenes in kinds.items()
        }
    return result


def speed(gen: Any, steps_list: tuple[int, ...], batch: int = 64) -> dict[str, float]:
    captions = ["on a sunny day, a meadow with a low horizon"] * batch
    out = {}
    _generate(gen, captions[:4], 1, 0)  # warm-up
    for steps in steps_list:
        start = time.perf_counter()
        _generate(gen, captions, steps, 0)
        out[f"steps_{steps}"] = batch / (time.perf_counter() - start)
    return out


def controls_baseline(gen: Any, n: int, steps_list: tuple[int, ...]) -> dict[str, Any]:
    """Success rates on the controls to be taught, for the base generator and for renders (the ceiling)."""
    from ..world.render import render
    from ..world.scene import sample_scenes

    horizon = sample_scenes(
        HELDOUT_SEED + 10, n, kind="landscape", horizon=HORIZON_TARGET, horizon_tilt_deg=0.0
    )
    unnamed = [s for s in sample_scenes(HELDOUT_SEED + 11, 3 * n) if s.palette.name is None][:n]
    stroke = sample_scenes(HELDOUT_SEED + 12, n, kind="lineart", stroke_width_px=STROKE_TARGET_PX)

    def rates(h_img: Tensor, p_img: Tensor, s_img: Tensor) -> dict[str, float]:
        mh = measure(h_img, "landscape")
        mp = measure(p_img)
        ms = measure(s_img, "lineart")
        return {
            "horizon_at_30pct": float(
                np.mean(
                    [
                        m["horizon"] is not None and abs(m["horizon"] - HORIZON_TARGET) <= HORIZON_TOL
                        for m in mh
                    ]
                )
            ),
            "palette_as_colours": float(
                np.mean(
                    [
                        palette_adherence(m["palette"], list(s.palette.colors)) <= PALETTE_TOL
                        for s, m in zip(unnamed, mp, strict=True)
                    ]
                )
            ),
            "stroke_width_2px": float(
                np.mean(
                    [
                        m["stroke_width_px"] is not None
                        and abs(m["stroke_width_px"] - STROKE_TARGET_PX) <= STROKE_TOL_PX
                        for m in ms
                    ]
                )
            ),
        }

    result: dict[str, Any] = {"renders": rates(render(horizon), render(unnamed), render(stroke))}
    for steps in steps_list:
        result[f"steps_{steps}"] = rates(
            _generate(gen, [s.caption for s in horizon], steps, 100),
            _generate(gen, [s.caption for s in unnamed], steps, 200),
            _generate(gen, [s.caption for s in stroke], steps, 300),
        )
    result["n"] = n
    return result


def contact_sheets(gen: Any, out: Path, steps_list: tuple[int, ...], n: int = 16) -> list[str]:
    """Renders of held-out captions and the generator's images of the same captions, one sheet each."""
    from ..images import image_grid, save_png
    from ..world.render import render
    from ..world.scene import sample_scenes

    scenes = sample_scenes(HELDOUT_SEED + 20, n // 2, kind="landscape") + sample_scenes(
        HELDOUT_SEED + 21, n // 2, kind="lineart"
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "generator-renders.png"]
    save_png(image_grid(render(scenes)), paths[0])
    for steps in steps_list:
        paths.append(out / f"generator-steps-{steps}.png")
        save_png(image_grid(_generate(gen, [s.caption for s in scenes], steps, 0)), paths[-1])
    (out / "generator-captions.txt").write_text(
        "\n".join(f"{i}: {s.caption}" for i, s in enumerate(scenes)) + "\n"
    )
    return [str(p) for p in paths]


def markdown_tables(result: dict[str, Any]) -> str:
    """The tables of docs/generator.md from an eval.json."""
    f, c, speed_ = result["faithfulness"], result["controls_baseline"], result["images_per_s"]
    rows = [k for k in f if k != "renders"]
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    out = [
        "| images | horizon band matched | sky kind matched | palette distance | palette adherence "
        "| median horizon error | KID x1000 |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in ["renders", *rows]:
        r = f[key]
        name = "renders (same captions)" if key == "renders" else key.replace("steps_", "") + " step(s)"
        out.append(
            f"| {name} | {pct(r['horizon_band_matched'])} (n={r['horizon_band_n']}) "
            f"| {pct(r['sky_matched'])} (n={r['sky_n']}) | {r['palette_distance']:.1f} (n={r['palette_n']}) "
            f"| {r['palette_adherence']:.1f} | {r['horizon_abs_error_vs_scene']:.3f} | {r['kid_x1000']:.2f} |"
        )
    out += [
        "",
        "| images | horizon at 30% +-0.03 | palette given as colours | stroke 2 px +-0.5 |",
        "|---|---|---|---|",
    ]
    for key in [k for k in c if k != "n"]:
        r = c[key]
        name = "renders with the control set" if key == "renders" else key.replace("steps_", "") + " step(s)"
        out.append(
            f"| {name} | {pct(r['horizon_at_30pct'])} | {pct(r['palette_as_colours'])} | "
            f"{pct(r['stroke_width_2px'])} |"
        )
    d = result.get("diversity")  # absent from eval.json files written before it
    if d:
        out += [
            "",
            f"| images ({d['captions']} captions a kind, {d['noises']} each) "
            "| diversity, landscapes | line art |",
            "|---|---|---|",
        ]
        for key in [k for k in d if k.startswith("steps_") or k == "renders"]:
            name = (
                "renders of each caption's twins"
                if key == "renders"
                else key.replace("steps_", "") + " step(s)"
            )
            out.append(f"| {name} | {d[key]['landscape']:.3f} | {d[key]['lineart']:.3f} |")
    out += ["", "| steps | images/s |", "|---|---|"]
    out += [f"| {k.replace('steps_', '')} | {v:.1f} |" for k, v in speed_.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    from .load import load_generator

    parser = argparse.ArgumentParser(description="Evaluate the embedded generator with the app's measurers.")
    parser.add_argument("--generator", default="scenes-generator", help="preset name or pipeline folder")
    parser.add_argument("--out", required=True, help="folder for eval.json")
    parser.add_argument("--n", type=int, default=200, help="held-out scenes per kind")
    parser.add_argument("--steps", default="1,2,4", help="numbers of inference steps")
    parser.add_argument("--sheets", default=None, help="folder for contact sheets (docs/images)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps_list = tuple(int(s) for s in args.steps.split(","))
    gen = load_generator(args.generator)
    result = {
        "generator": args.generator,
        "faithfulness": faithfulness(gen, args.n, steps_list),
        "diversity": diversity_across_noises(gen, steps_list),
        "images_per_s": speed(gen, steps_list),
        "controls_baseline": controls_baseline(gen, args.n // 2, steps_list),
    }
    if args.sheets:
        result["contact_sheets"] = contact_sheets(gen, Path(args.sheets), steps_list)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "tables.md").write_text(markdown_tables(result))
    print(markdown_tables(result))


if __name__ == "__main__":
    main()

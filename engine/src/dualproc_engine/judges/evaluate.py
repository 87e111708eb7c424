"""How good is a judge: accuracy per question family (clean and degraded), calibration, a reliability plot.

The evaluation set comes from its own scene seeds (world/judge_data.SEED_BASES['evaluation']), which no
training or calibration batch draws from, and from the phrasing split asked for: `heldout` for the
training judge (wordings it never saw), `train` for the held-out judge (likewise).

    python -m dualproc_engine.judges.evaluate --judge scenes-judge --phrasing-split heldout --out DIR
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .degrade import DEGRADATIONS

N_BINS = 10


def expected_calibration_error(p_yes: Sequence[float], is_yes: Sequence[bool], bins: int = N_BINS) -> float:
    """ECE of P(Yes): sum over equal-width bins of (share of records) * |mean P(Yes) - share answered Yes|.

    (Guo et al. 2017, on the probability the teach loop uses rather than the top-label confidence.)
    """
    counts = [0] * bins
    p_sum = [0.0] * bins
    y_sum = [0.0] * bins
    for p, y in zip(p_yes, is_yes, strict=True):
        b = min(bins - 1, int(p * bins))
        counts[b] += 1
        p_sum[b] += p
        y_sum[b] += float(y)
    n = max(1, len(p_yes))
    return sum(abs(p_sum[b] - y_sum[b]) / n for b in range(bins) if counts[b])


def reliability_bins(
    p_yes: Sequence[float], is_yes: Sequence[bool], bins: int = N_BINS
) -> list[dict[str, Any]]:
    rows = []
    for b in range(bins):
        members = [(p, y) for p, y in zip(p_yes, is_yes, strict=True) if min(bins - 1, int(p * bins)) == b]
        if members:
            rows.append(
                {
                    "bin": [b / bins, (b + 1) / bins],
                    "count": len(members),
                    "mean_p_yes": sum(p for p, _ in members) / len(members),
                    "share_yes": sum(float(y) for _, y in members) / len(members),
                }
            )
    return rows


def reliability_png(path: str | Path, curves: dict[str, list[dict[str, Any]]], title: str) -> None:
    """A reliability diagram: mean predicted P(Yes) against the observed share of Yes, per bin."""
    from PIL import Image, ImageDraw

    size, margin = 420, 50
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    span = size - 2 * margin

    def xy(px: float, py: float) -> tuple[float, float]:
        return margin + px * span, size - margin - py * span

    draw.rectangle([xy(0, 1), xy(1, 0)], outline="black")
    for t in (0.25, 0.5, 0.75):
        draw.line([xy(t, 0), xy(t, 1)], fill=(225, 225, 225))
        draw.line([xy(0, t), xy(1, t)], fill=(225, 225, 225))
    draw.line([xy(0, 0), xy(1, 1)], fill=(150, 150, 150))
    colors = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]
    for i, (name, rows) in enumerate(curves.items()):
        color = colors[i % len(colors)]
        points = [xy(r["mean_p_yes"], r["share_yes"]) for r in rows]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
        draw.text((margin + 8, margin + 8 + 14 * i), name, fill=color)
    draw.text((margin, 15), title, fill="black")
    draw.text((size / 2 - 45, size - 30), "predicted P(Yes)", fill="black")
    draw.text((5, margin - 20), "share Yes", fill="black")
    for t in (0.0, 0.5, 1.0):
        x, y = xy(t, 0)
        draw.text((x - 8, y + 4), f"{t:.1f}", fill="black")
        x, y = xy(0, t)
        draw.text((x - 28, y - 6), f"{t:.1f}", fill="black")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


@torch.no_grad()  # measurement only; the judge contract itself never runs under no_grad
def p_yes(
    judge: Any, images: torch.Tensor, records: Sequence[dict[str, Any]], batch: int = 128
) -> list[float]:
    out: list[float] = []
    for i in range(0, len(records), batch):
        part = records[i : i + batch]
        lp = judge.logprob_pairs(images[i : i + batch], [r["question"] for r in part], ["Yes"] * len(part))
        out.extend(lp.exp().tolist())
    return out


def family_key(record: dict[str, Any]) -> str:
    """The record's family, with palette questions asked with tiled swatches, and stroke questions about a
    stroke LoRA's loosely read line art (world/judge_generated.stroke_records), counted apart."""
    if (record.get("overlay") or {}).get("layout") == "tiles":
        return f"{record['family']} (tiles)"
    if (record.get("params") or {}).get("read_px") is not None:
        return f"{record['family']} (stroke LoRA)"
    return record["family"]


def accuracy_by_family(probs: Sequence[float], records: Sequence[dict[str, Any]]) -> dict[str, float]:
    hits: dict[str, list[bool]] = {}
    for p, r in zip(probs, records, strict=True):
        hits.setdefault(family_key(r), []).append((p > 0.5) == (r["answer"] == "Yes"))
    return {f: sum(h) / len(h) for f, h in sorted(hits.items())}


def evaluate_judge(
    judge: str = "scenes-judge",
    phrasing_split: str = "heldout",
    n_scenes: int = 400,
    seed: int = 0,
    degradations: Sequence[str] = DEGRADATIONS,
    out_dir: str | Path | None = None,
    tiled_palette_share: float = 0.0,
) -> dict[str, Any]:
    """Accuracy per family on clean and degraded images, ECE, and (with out_dir) report.json + a plot; with
    `tiled_palette_share`, that share of the palette questions asked again with tiled swatches, counted as
    their own family ("palette_match (tiles)") and in the overall accuracy and ECE."""
    from ..world.judge_data import SEED_BASES, record_images, scenes_qa
    from .embedded import load_judge

    scorer = load_judge(judge)
    data = scenes_qa(
        SEED_BASES["evaluation"] + seed, n_scenes, phrasing_split, tiled_palette_share=tiled_palette_share
    )
    records = data.records
    is_yes = [r["answer"] == "Yes" for r in records]
    conditions: dict[str, list[float]] = {
        "clean": p_yes(scorer, record_images(data.images, records), records)
    }
    for kind in degradations:
        rng = random.Random(f"evaluate/{seed}/{kind}")
        images = record_images(data.images, records, [kind] * len(records), rng)
        conditions[kind] = p_yes(scorer, images, records)
    report: dict[str, Any] = {
        "judge": judge,
        "phrasing_split": phrasing_split,
        "scene_seed": SEED_BASES["evaluation"] + seed,
        "n_scenes": n_scenes,
        "records_per_family": {
            f: sum(family_key(r) == f for r in records) for f in sorted({family_key(r) for r in records})
        },
        "accuracy": {name: accuracy_by_family(probs, records) for name, probs in conditions.items()},
        "overall_accuracy": {
            name: sum((p > 0.5) == y for p, y in zip(probs, is_yes, strict=True)) / len(records)
            for name, probs in conditions.items()
        },
        "ece": {name: expected_calibration_error(probs, is_yes) for name, probs in conditions.items()},
        "reliability": {name: reliability_bins(probs, is_yes) for name, probs in conditions.items()},
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, indent=1))
        reliability_png(
            out / "reliability.png",
            {"clean": report["reliability"]["clean"]}
            | {k: v for k, v in report["reliability"].items() if k != "clean"},
            f"{judge}: reliability ({phrasing_split} phrasings)",
        )
    return report


def markdown_table(report: dict[str, Any]) -> str:
    """Per-family accuracy, one column per condition, as a Markdown table."""
    conditions = list(report["accuracy"])
    lines = [
        "| family | n | " + " | ".join(conditions) + " |",
        "|---|---:|" + "---:|" * len(conditions),
    ]
    for family, n in report["records_per_family"].items():
        cells = [f"{100 * report['accuracy'][c][family]:.1f}" for c in conditions]
        lines.append(f"| {family} | {n} | " + " | ".join(cells) + " |")
    overall = [f"{100 * report['overall_accuracy'][c]:.1f}" for c in conditions]
    lines.append(f"| **all** | {sum(report['records_per_family'].values())} | " + " | ".join(overall) + " |")
    lines.append("| ECE | | " + " | ".join(f"{report['ece'][c]:.3f}" for c in conditions) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate a Scenes judge on unseen seeds and phrasings.")
    parser.add_argument("--judge", default="scenes-judge", help="a shipped judge's name or a folder")
    parser.add_argument("--phrasing-split", default="heldout", choices=["train", "heldout", "all"])
    parser.add_argument("--n-scenes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for report.json and reliability.png")
    parser.add_argument(
        "--tiled-palette-share",
        type=float,
        default=0.0,
        help="share of palette questions asked again with the swatches tiled over the image",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    report = evaluate_judge(
        args.judge,
        args.phrasing_split,
        args.n_scenes,
        args.seed,
        out_dir=args.out,
        tiled_palette_share=args.tiled_palette_share,
    )
    print(markdown_table(report))


if __name__ == "__main__":
    main()

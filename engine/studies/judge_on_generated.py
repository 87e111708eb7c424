"""Does the judge hold on the generator's own images? Labels come from the app's measurers, not the judge.

A pool of generated images (world/judge_generated.py): captions of fresh scenes drawn by the shipped generator
(or `--generator`), by itself ("base") and through taught LoRAs (each `--lora NAME=RUN_FOLDER` at scales 0.5
and 1). The measurers read each image; the QA records ask about what they read (horizon line and band, sky,
time of day, stroke width), and the red-line and stroke questions are No on images where they find no horizon
or no stroke; on landscapes, relative depth at pairs of points the depth measurer compares (pools built since
the thirty-third session; world/judge_generated.depth_records); on a stroke LoRA's line art, the stroke
width read loosely, counted apart as "stroke_width (stroke LoRA)" (pools built since the thirty-fourth
session; world/judge_generated.stroke_records). With `--palette`, palette strips are asked
too, answered by the pixels (the image's own main colours, the nearest named palette and one other;
world/judge_generated.palette_records). Each judge answers in its own phrasings; accuracy counts P(Yes) >
0.5 as Yes.

    cd engine && python studies/judge_on_generated.py --pool ../runs/eval-pool.pt --n 256 \\
        --lora horizon-70=../runs/horizon-70 --lora line-weight-4=../runs/line-weight-4

The pool is built once (about 30 s per source) and reused when the file exists.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

POOL_SEED = 12
"""Scene and noise seeds of the evaluation pool (training pools use other seeds; see docs/judge.md)."""
JUDGE_SPLITS = {"scenes-judge": "train", "scenes-judge-heldout": "heldout", "scenes-judge-audit": "all"}


def main() -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.judges.evaluate import (
        accuracy_by_family,
        expected_calibration_error,
        family_key,
        p_yes,
    )
    from dualproc_engine.world.judge_data import record_images
    from dualproc_engine.world.judge_generated import (
        build_pool,
        depth_records,
        load_pool,
        palette_records,
        pool_images,
        pool_records,
        pool_sources,
        stroke_records,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", required=True, help="pool file (built if missing)")
    parser.add_argument("--n", type=int, default=256, help="images per source when building")
    parser.add_argument("--generator", default="scenes-generator", help="preset name or pipeline folder")
    parser.add_argument("--lora", action="append", default=[], help="NAME=RUN_FOLDER of a taught LoRA")
    parser.add_argument("--judges", default="scenes-judge,scenes-judge-heldout")
    parser.add_argument("--splits", default="", help="phrasing split per judge, comma separated")
    parser.add_argument(
        "--palette", action="store_true", help="also the palette question, answered by the pixels"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not Path(args.pool).is_file():
        sources = pool_sources(2, args.lora)
        build_pool(
            args.pool,
            sources,
            args.n,
            POOL_SEED,
            generator=args.generator,
            on_progress=lambda d, n: print(f"source {d}/{n}"),
        )
    pool = load_pool(args.pool)
    images = pool_images(pool)
    judges = args.judges.split(",")
    splits = args.splits.split(",") if args.splits else [JUDGE_SPLITS.get(j, "train") for j in judges]
    results = {}
    for name, split in zip(judges, splits, strict=True):
        records = pool_records(pool["scenes"], POOL_SEED, split)
        records += depth_records(pool["scenes"], POOL_SEED, split)
        records += stroke_records(pool["scenes"], POOL_SEED, split)
        if args.palette:
            records += palette_records(pool, POOL_SEED, split)
        judge = load_judge(name)
        probs = p_yes(judge, record_images(images, records), records)
        group = ["base" if pool["sources"][r["scene_index"]] == "base" else "taught" for r in records]
        row = {}
        for g in ("base", "taught"):
            keep = [i for i, x in enumerate(group) if x == g]
            row[g] = accuracy_by_family([probs[i] for i in keep], [records[i] for i in keep])
            row[g + "_n"] = {f: sum(family_key(records[i]) == f for i in keep) for f in row[g]}
        row["all"] = accuracy_by_family(probs, records)
        row["ece"] = expected_calibration_error(probs, [r["answer"] == "Yes" for r in records])
        results[name] = row
        print(json.dumps({"judge": name, "split": split, **row}))


if __name__ == "__main__":
    main()

"""Does the judge compare the palette strip with the whole picture, or only with what lies next to it?

On held-out renders asked about a strip they visibly miss (No by their pixels), paint an 8 px band of the
strip's own swatches into the picture, either just above the strip or at the top, and compare the judge's
P(Yes). Both painted pictures still miss the strip by their pixels (the band covers an eighth of them); a
judge that reads the whole picture answers about the same for both, one that compares locally says Yes
more often when the band touches the strip. The taught palette LoRAs' hacks (a light wash with strip-like
colours along the bottom edge) suggested the second.

    cd engine && python studies/palette_locality.py --judge scenes-judge --n 200
"""

from __future__ import annotations

import argparse
import json

import torch


def main() -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.judges.evaluate import p_yes
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.world.judge_data import SEED_BASES, scenes_qa
    from dualproc_engine.world.qa import visible_adherence
    from dualproc_engine.world.qa.palette import paint_strip_band

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="scenes-judge")
    parser.add_argument("--split", default="train", help="phrasing split the judge is asked in")
    parser.add_argument("--n", type=int, default=200, help="scenes")
    args = parser.parse_args()
    torch.set_num_threads(1)

    data = scenes_qa(SEED_BASES["evaluation"] + 7, args.n, args.split, families=["palette_match"])
    records = [r for r in data.records if r["answer"] == "No"]
    judge = load_judge(args.judge)
    painted: dict[str, torch.Tensor] = {}
    for where in ("none", "above_strip", "top"):
        images = []
        for record in records:
            image = data.images[record["scene_index"]]
            if where != "none":  # an 8 px band: rows 48-55 (touching the strip) or 0-7
                top = 48 / 64 if where == "above_strip" else 0.0
                image = paint_strip_band(image, record["params"]["colors"], top, 8 / 64)
            images.append(image)
        painted[where] = torch.stack(images)
    # only pictures that still visibly miss the strip with either band painted in
    keep = [
        i
        for i, r in enumerate(records)
        if all(visible_adherence(painted[w][i], r["params"]["colors"]) >= 12 for w in painted)
    ]
    kept = [records[i] for i in keep]
    results = {}
    for where, images in painted.items():
        shown = torch.cat([apply_overlay(images[i][None], records[i]["overlay"]) for i in keep])
        probs = p_yes(judge, shown, kept)
        results[where] = {
            "mean_p_yes": round(sum(probs) / len(probs), 3),
            "said_yes": round(sum(p > 0.5 for p in probs) / len(probs), 3),
        }
    print(json.dumps({"judge": args.judge, "n": len(kept), **results}))


if __name__ == "__main__":
    main()

"""Does the judge take a wash of one strip colour for the strip's palette?

Held-out renders asked the palette question again with the picture repainted in some of the strip's own
colours (`qa.recolored_records`: one colour, a wash, half the time; two to four otherwise), answered by their
pixels: a wash is a No (one colour is not the strip's colours; the app's palette control wants two on 5% of
the picture each), several colours that each cover enough of the picture a Yes. Taught through views that
hide where the strip is, the palette LoRA painted one flat wash of a strip colour (docs/teach.md); a judge
that says Yes to washes teaches that. Prints the share answered Yes and the accuracy per kind, and the
accuracy on the plain palette records of the same scenes.

    cd engine && python studies/palette_washes.py --judge scenes-judge --n 400
"""

from __future__ import annotations

import argparse
import json

import torch


def main() -> None:
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.judges.evaluate import p_yes
    from dualproc_engine.world.judge_data import SEED_BASES, record_images, scenes_qa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="scenes-judge")
    parser.add_argument("--split", default="train", help="phrasing split the judge is asked in")
    parser.add_argument("--n", type=int, default=400, help="scenes")
    args = parser.parse_args()
    torch.set_num_threads(1)

    seed = SEED_BASES["evaluation"] + 8
    data = scenes_qa(seed, args.n, args.split, families=["palette_match"], recolored_palette_share=1.0)
    judge = load_judge(args.judge)
    probs = p_yes(judge, record_images(data.images, data.records), data.records)

    def kind(record: dict) -> str:
        recolor = record["params"].get("recolor")
        if not recolor:
            return "plain"
        return "wash" if len(recolor["colors"]) == 1 else f"several colours, {record['answer']}"

    results: dict[str, dict[str, float]] = {}
    for name in ("plain", "wash", "several colours, Yes", "several colours, No"):
        picked = [(p, r) for p, r in zip(probs, data.records, strict=True) if kind(r) == name]
        if picked:
            right = sum((p > 0.5) == (r["answer"] == "Yes") for p, r in picked)
            results[name] = {
                "n": len(picked),
                "said_yes": round(sum(p > 0.5 for p, _ in picked) / len(picked), 3),
                "accuracy": round(right / len(picked), 3),
            }
    print(json.dumps({"judge": args.judge, "split": args.split, **results}))


if __name__ == "__main__":
    main()

"""Does the judge hold on the generator's own images? Labels come from the app's measurers, not the judge.

For captions of held-out landscape scenes, the shipped generator draws one image each (1 step). Where the
horizon measurer reads a horizon with confidence >= 0.5, the judge is asked "Is the red line on the horizon?"
twice: with the red line at the measured height (wanted: Yes) and 0.3 of the height away (wanted: No).
Where the sky measurer reads a sky kind, the judge is asked the sky question of that kind (Yes) and of
another kind (No). Accuracy counts P(Yes) > 0.5 as Yes.

    cd engine && python studies/judge_on_generated.py --n 200
"""

from __future__ import annotations

import argparse
import random

import torch

SKY_QUESTIONS = {
    "day": "Is the sky a clear daytime sky?",
    "sunset": "Is the sky a sunset sky?",
    "night": "Is the sky a night sky?",
    "overcast": "Is the sky overcast?",
}


def main() -> None:
    from dualproc_engine.generators.evaluate import HELDOUT_SEED, measure
    from dualproc_engine.generators.generate import generate_images, load_generator
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.prompts import apply_overlay
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--judges", default="scenes-judge,scenes-judge-heldout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    scenes = sample_scenes(HELDOUT_SEED + 7, args.n, kind="landscape")
    images = generate_images(
        load_generator("scenes-generator"), [s.caption for s in scenes], seed=HELDOUT_SEED
    )
    measured = measure(images, kind="landscape")
    rng = random.Random(0)
    horizon = [
        (i, m["horizon"])
        for i, m in enumerate(measured)
        if m["horizon"] is not None and (m["horizon_confidence"] or 0) >= 0.5
    ]
    sky = [(i, m["sky"]) for i, m in enumerate(measured) if m["sky"] is not None]
    print(f"{len(images)} generated images; horizon read in {len(horizon)}, sky kind in {len(sky)}")
    for name in args.judges.split(","):
        judge = load_judge(name)
        correct: dict[str, list[bool]] = {"horizon line": [], "sky": []}
        with torch.no_grad():
            for i, h in horizon:
                far = h - 0.3 if h > 0.5 else h + 0.3
                for y, wanted in ((h, True), (far, False)):
                    view = apply_overlay(images[i : i + 1], {"kind": "horizon", "y": y})
                    p = judge.logprob(view, ["Is the red line on the horizon?"], ["Yes"]).exp().item()
                    correct["horizon line"].append((p > 0.5) == wanted)
            for i, kind in sky:
                other = rng.choice([k for k in SKY_QUESTIONS if k != kind])
                for k, wanted in ((kind, True), (other, False)):
                    p = judge.logprob(images[i : i + 1], [SKY_QUESTIONS[k]], ["Yes"]).exp().item()
                    correct["sky"].append((p > 0.5) == wanted)
        for family, hits in correct.items():
            print(f"{name}: {family} {100 * sum(hits) / max(1, len(hits)):.1f}% of {len(hits)}")


if __name__ == "__main__":
    main()

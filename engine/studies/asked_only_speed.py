"""Teach steps/s when each image is asked only its own questions, against computing every question for every
image and masking the rest (the engine before the eighth session): a recipe with one question per slot value
("Is there {thing}?" over N things), on the embedded models' sizes with random weights, one CPU thread, the
two ways interleaved step by step in one run.

    cd engine && python studies/asked_only_speed.py --things 8 --batch 4 --steps 20
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch

from dualproc_engine.teach.bench import random_models
from dualproc_engine.teach.config import parse_recipe
from dualproc_engine.teach.loop import build_run
from dualproc_engine.teach.questions import QuestionSet
from dualproc_engine.teach.step import train_step

THINGS = ["trees", "a house", "a tower", "rocks", "a boat", "a car", "birds", "a bridge", "a fence", "a tent"]


def slot_recipe(n_things: int, batch: int) -> dict:
    """N prompts, each asked "Is there {its thing}?" and one question asked of all (a horizon line)."""
    prompts = [f"a sunny landscape with {t}" for t in THINGS[:n_things]]
    questions = [
        {
            "question": "Is the red line aligned with the horizon?",
            "visual_prompt": {"kind": "horizon", "y": 0.3},
        }
    ] + [{"question": f"Is there {t}?", "prompts": [p]} for t, p in zip(THINGS, prompts, strict=False)]
    training = {"train_batch_size": batch, "noise_pool_size": 8, "learning_rate": 1e-4}
    return {"prompts": prompts, "questions": questions, "training": training}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--things", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    gen, judge = random_models()
    cfg = parse_recipe(slot_recipe(args.things, args.batch))
    questions = QuestionSet(judge, cfg.questions)
    run = build_run(cfg, gen, questions, torch.device("cpu"))
    ways = {
        "asked only": questions.logprob,
        "every pair, masked": lambda images, _asked: questions.logprob(images),
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    rng = random.Random(0)
    for i in range(args.steps + 1):
        for name in list(ways) if i % 2 == 0 else list(ways)[::-1]:
            run.judge_logprob = ways[name]
            started = time.perf_counter()
            train_step(run, rng)
            if i > 0:  # the first round is a warm-up
                times[name].append(time.perf_counter() - started)
    medians = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    result = {
        "questions": len(questions),
        "asked_per_image": 2,
        "train_batch_size": args.batch,
        "steps": args.steps,
        **{f"{k} (steps/s)": round(1 / m, 3) for k, m in medians.items()},
        "speed-up": round(medians["every pair, masked"] / medians["asked only"], 2),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

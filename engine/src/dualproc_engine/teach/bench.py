"""`python -m dualproc_engine.teach.bench`: steps/s of the teach loop against the reference's way, same run.

Both loops drive the same generator, judge, noises and prompt draws; they differ only in how the judge is
asked: ours composites each distinct visual prompt once, encodes every view in one vision pass and runs each
group's questions as one language-model batch with text tokenized once; the reference's runs one full judge
pass (image encoding included) per question. Neither checkpoints. Peak memory is measured on CUDA only.

Without weights on this machine it uses models of the embedded sizes with random weights (the speed of a
forward does not depend on what the weights learned).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from .config import parse_recipe
from .loop import build_run
from .questions import QuestionSet
from .step import train_step

QUESTIONS = [
    {"question": "Is the red line aligned with the horizon?", "visual_prompt": {"kind": "horizon", "y": 0.3}},
    {"question": "Is the horizon high in the image?"},
    {"question": "Is it night?", "answer": "No"},
    {"question": "Is there a house?"},
]
"""Four questions, two pictures (one with the horizon line): the issue's benchmark setting."""


def random_models(image_size_px: int = 64) -> tuple[Any, Any]:
    """The embedded generator and judge architectures with random weights (built from configs)."""
    from ..generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
    from ..judges.embedded import EmbeddedJudge
    from ..judges.scenes_vlm import JudgeArchitecture, build_judge_files

    gen = EmbeddedGenerator(build_pipeline(EmbeddedConfig(image_size_px=image_size_px), seed=0))
    with tempfile.TemporaryDirectory() as folder:
        model, _ = build_judge_files(folder, JudgeArchitecture(), "train", 0)
        model.save_pretrained(folder)
        judge = EmbeddedJudge.from_pretrained(folder)
    return gen, judge


def bench(
    steps: int = 10,
    questions: list[dict[str, Any]] | None = None,
    generator: Any = None,
    judge: Any = None,
    train_batch_size: int = 1,
) -> dict[str, Any]:
    """{ours, reference}: steps/s and peak memory, and the speed-up, over `steps` timed steps each."""
    if generator is None or judge is None:
        generator, judge = random_models()
    recipe = {
        "prompts": ["a sunny landscape with trees", "at sunset, a desert with a house"],
        "questions": questions or QUESTIONS,
        "training": {"train_batch_size": train_batch_size, "noise_pool_size": 8, "learning_rate": 1e-4},
    }
    cfg = parse_recipe(recipe)
    device = getattr(generator, "device", torch.device("cpu"))
    qs = QuestionSet(judge, cfg.questions)
    run = build_run(cfg, generator, qs, device)
    ways = {"ours": qs.logprob, "reference": qs.reference_logprob}
    timings: dict[str, list[float]] = {k: [] for k in ways}
    peaks: dict[str, float | None] = dict.fromkeys(ways)
    rng = random.Random(0)
    for fn in ways.values():  # warm-up: first calls allocate and pick kernels
        run.judge_logprob = fn
        train_step(run, rng)
    for i in range(steps):
        order = list(ways) if i % 2 == 0 else list(ways)[::-1]  # alternate so drift in load hits both
        for name in order:
            run.judge_logprob = ways[name]
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            started = time.perf_counter()
            train_step(run, rng)
            if device.type == "cuda":
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() / 2**20
                peaks[name] = max(peaks[name] or 0.0, peak)
            timings[name].append(time.perf_counter() - started)
    result: dict[str, Any] = {"questions": len(qs), "pictures": len(qs.groups), "steps": steps}
    for name, t in timings.items():
        median = sorted(t)[len(t) // 2]
        result[name] = {"steps_per_s": 1.0 / median, "peak_memory_mb": peaks[name]}
    result["speedup"] = result["ours"]["steps_per_s"] / result["reference"]["steps_per_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = bench(steps=args.steps)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

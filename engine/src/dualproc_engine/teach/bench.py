"""`python -m dualproc_engine.teach.bench`: steps/s of the teach loop against the reference's way, same run.

Both loops drive the same generator, judge, noises and prompt draws; they differ in how the judge is asked:
ours composites each distinct visual prompt once, encodes every view in one vision pass and runs each group's
questions as one language-model batch with text tokenized once; the reference's runs one full judge pass
(image encoding included) per question. Peak memory is measured on CUDA only.

Three scales (`--scale`), all with random weights (the speed of a forward does not depend on what the weights
learned):
- `embedded` (the default): the embedded Scenes models' sizes, 4 questions; neither loop checkpoints;
- `full`: FLUX.1-schnell and Qwen2.5-VL-7B at their published sizes, bf16 on CUDA, 512 px, at 1 and 4
  questions with our loop checkpointing (generator, decoder and judge), then at 4 with it not; the
  reference's never checkpoints (`bench_full.py`);
- `tiny`: the code of `full` on tiny configs, so a CPU test runs exactly what a GPU run does.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from ..reporting import Reporter
from .config import CHECKPOINT_PARTS, parse_recipe
from .loop import build_run
from .objectives import question_weights
from .questions import QuestionSet
from .step import Run, train_step

QUESTIONS: list[dict[str, Any]] = [
    {"question": "Is the red line aligned with the horizon?", "visual_prompt": {"kind": "horizon", "y": 0.3}},
    {"question": "Is the horizon high in the image?"},
    {"question": "Is it night?", "answer": "No"},
    {"question": "Is there a house?"},
]
"""Four questions, two pictures (one with the horizon line): the issue's benchmark setting."""
PROMPTS = ["a sunny landscape with trees", "at sunset, a desert with a house"]


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
    """{ours, reference}: steps/s and peak memory, and the speed-up, over `steps` timed steps each (the
    embedded scale: neither loop checkpoints)."""
    if generator is None or judge is None:
        generator, judge = random_models()
    training = {"train_batch_size": train_batch_size, "noise_pool_size": 8, "learning_rate": 1e-4}
    run, sets = build_bench_run(generator, judge, [questions or QUESTIONS], training)
    return time_loops(run, sets[0], steps, ours_checkpointing=False)


def build_bench_run(
    generator: Any, judge: Any, question_sets: list[list[dict[str, Any]]], training: dict[str, Any]
) -> tuple[Run, list[tuple[QuestionSet, torch.Tensor]]]:
    """One teach run (LoRA, optimiser, encoded prompts, noise pool) and each question set bound to the judge
    with its weights: the sets share the run, so the generator gets one LoRA however many sets are timed."""
    recipe = {"prompts": PROMPTS, "questions": question_sets[0], "training": training}
    cfg = parse_recipe(recipe)
    device = getattr(generator, "device", torch.device("cpu"))
    first = QuestionSet(judge, cfg.questions)
    run = build_run(cfg, generator, first, device)
    sets = [(first, run.weights)]
    for questions in question_sets[1:]:
        parsed = parse_recipe({**recipe, "questions": questions}).questions
        qs = QuestionSet(judge, parsed)
        sets.append((qs, question_weights(qs.weights, device)))
    return run, sets


def time_loops(
    run: Run, question_set: tuple[QuestionSet, torch.Tensor], steps: int, ours_checkpointing: bool
) -> dict[str, Any]:
    """Our loop and the reference's on `run` with one question set: a warm-up step each, then `steps` timed
    steps each, interleaved. Ours shares judge work per picture (and checkpoints when asked); the
    reference's asks one full judge pass per question and never checkpoints."""
    qs, weights = question_set
    run.questions, run.weights = qs, weights
    device = run.device
    ways = {
        "ours": (qs.logprob, ours_checkpointing),
        "reference": (lambda images, _asked: qs.reference_logprob(images), False),
    }
    timings: dict[str, list[float]] = {k: [] for k in ways}
    peaks: dict[str, float | None] = dict.fromkeys(ways)
    rng = random.Random(0)

    def step(name: str) -> None:
        run.judge_logprob, checkpointing = ways[name]
        run.checkpointing = frozenset(CHECKPOINT_PARTS) if checkpointing else frozenset()
        train_step(run, rng)

    for name in ways:  # warm-up: first calls allocate and pick kernels
        step(name)
    for i in range(steps):
        order = list(ways) if i % 2 == 0 else list(ways)[::-1]  # alternate so drift in load hits both
        for name in order:
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            started = time.perf_counter()
            step(name)
            if device.type == "cuda":
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() / 2**20
                peaks[name] = max(peaks[name] or 0.0, peak)
            timings[name].append(time.perf_counter() - started)
    result: dict[str, Any] = {"questions": len(qs), "pictures": len(qs.groups), "steps": steps}
    for name, t in timings.items():
        median = sorted(t)[len(t) // 2]
        result[name] = {
            "steps_per_s": 1.0 / median,
            "peak_memory_mb": peaks[name],
            "checkpointing": ways[name][1],
        }
    result["speedup"] = result["ours"]["steps_per_s"] / result["reference"]["steps_per_s"]
    return result


SCALES = ("embedded", "tiny", "full")


def run_bench(
    scale: str = "embedded", steps: int = 10, reporter: Any = None, checkpointing: bool = True
) -> dict[str, Any]:
    """The `bench_teach` result: what ran where, and one timing of both loops per number of questions."""
    if scale == "embedded":
        result = bench(steps=steps)
        return {
            "scale": scale,
            "device": "cpu",
            "generator": "embedded Scenes generator architecture, random weights, float32",
            "judge": "embedded Scenes judge architecture, random weights, float32",
            "resolution_px": 64,
            "steps": steps,
            "settings": [{k: v for k, v in result.items() if k != "steps"}],
        }
    if scale in ("tiny", "full"):
        from .bench_full import SETTINGS, UNCHECKPOINTED, bench_at_scale

        return bench_at_scale(scale, steps, reporter, SETTINGS if checkpointing else UNCHECKPOINTED)
    raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")


class _StderrLog(Reporter):
    """Progress lines on stderr, so a long full-scale run shows where it is (stdout stays the JSON)."""

    def on_log(self, level: str, message: str) -> None:
        print(f"{level}: {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="embedded")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the embedded and tiny scales)")
    parser.add_argument(
        "--no-checkpointing",
        action="store_true",
        help="full and tiny scales: time our loop without checkpointing only, at 1 and 4 questions",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        result = run_bench(args.scale, args.steps, _StderrLog(), not args.no_checkpointing)
    except UserError as e:
        raise SystemExit(str(e)) from None
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

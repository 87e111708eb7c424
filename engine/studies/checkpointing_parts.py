"""Where checkpointing's time and memory go at full scale: each part of a teach step checkpointed alone.

`bench teach --scale full` times our loop with everything checkpointed (FLUX.1-schnell's transformer blocks,
the VAE decode as a whole, Qwen2.5-VL-7B's layers) against nothing. This study takes one question (one
picture) and our loop, and times eight variants (`training.gradient_checkpointing` as a list of parts) in one
process, median of 5 steps after one warm-up each: nothing checkpointed, everything, each of the three parts
alone, the judge's language-model layers alone and its vision tower's blocks alone, and nothing again (the
drift over the run). It prints one line per variant and, at the end, all of
them as JSON.

    PYTHONPATH=engine/src python engine/studies/checkpointing_parts.py   # a CUDA GPU: full configs, bf16
    ... checkpointing_parts.py --profile DIR   # also where each variant's step spends its time, and memory

With `--profile DIR` it then profiles two steps of "none", "judge" and "all" with `torch.profiler` and writes
each one's operators by GPU time and by CPU time (`profile-VARIANT.txt`, with the step's wall time against
the GPU's busy time: a step whose GPU idles is bound by launching kernels, not by computing them), and one
step of "all" under the CUDA allocator's history (`memory-all.pickle.gz`, for `torch.cuda._memory_viz`:
what is live at the peak).

Without CUDA it runs the tiny configs in float32 (a smoke run; its timings mean nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import pickle
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from dualproc_engine.teach import adapters, bench_full, step
from dualproc_engine.teach.bench import QUESTIONS, build_bench_run
from dualproc_engine.teach.memory import offload_text_encoders
from dualproc_engine.teach.step import train_step

VARIANTS = {
    "none": [],
    "all": ["generator", "decoder", "judge"],
    "generator": ["generator"],
    "decoder": ["decoder"],
    "judge": ["judge"],
    "judge-language": ["judge"],
    "judge-vision": ["judge"],
    "none-again": [],
}
"""name -> the parts checkpointed, as `training.gradient_checkpointing` lists them."""

JUDGE_LAYERS = {"judge-language": "language", "judge-vision": "vision"}
"""Variants that checkpoint only the judge's language-model layers or only its vision tower's blocks."""


@contextlib.contextmanager
def judge_layers_only(keep: str | None) -> Iterator[None]:
    """`teach.step`'s judge checkpointing, narrowed to the judge's language layers or its vision blocks."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    plain = step.judge_checkpointing

    @contextlib.contextmanager
    def narrowed(judge: Any, enabled: bool) -> Iterator[None]:
        with plain(judge, enabled):
            if enabled and keep is not None:
                for name, module in judge.model.named_modules():
                    in_vision = ".visual." in f".{name}."
                    if isinstance(module, GradientCheckpointingLayer) and in_vision == (keep == "language"):
                        module.training = False  # plain() restores every layer's flag on exit
            yield

    step.judge_checkpointing = narrowed
    try:
        yield
    finally:
        step.judge_checkpointing = plain


def build() -> Any:
    cuda = torch.cuda.is_available()
    device = adapters.pick_device()
    dtype = torch.bfloat16 if cuda else torch.float32
    cfg = bench_full.configs("full" if cuda else "tiny")
    gen = bench_full.build_generator(cfg, device, dtype)
    judge = bench_full.build_judge(cfg, device, dtype)
    training = {
        "train_batch_size": 1,
        "noise_pool_size": 8,
        "num_inference_steps": 1,
        "resolution_px": cfg["run"]["resolution_px"],
        "mixed_precision": "bf16" if cuda else "no",
    }
    run, sets = build_bench_run(gen, judge, [QUESTIONS[:1]], training)
    bench_full.float32_lora(run)
    offload_text_encoders(gen)
    questions, weights = sets[0]
    run.questions, run.weights, run.judge_logprob = questions, weights, questions.logprob
    return run


PROFILED = ("none", "judge", "judge-language", "all")


def profile(run: Any, out: Path) -> None:
    """Two profiled steps of each PROFILED variant (after a warm-up), and the allocator's history of one
    step of "all"."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler

    cuda = run.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    rng = random.Random(1)
    out.mkdir(parents=True, exist_ok=True)
    for name in PROFILED:
        run.checkpointing = frozenset(VARIANTS[name])
        with judge_layers_only(JUDGE_LAYERS.get(name)):
            train_step(run, rng)
            if cuda:
                torch.cuda.synchronize()
            with profiler(activities=activities) as prof:
                started = time.perf_counter()
                for _ in range(2):
                    train_step(run, rng)
                if cuda:
                    torch.cuda.synchronize()
                wall = (time.perf_counter() - started) / 2
        events = prof.key_averages()
        busy = sum(e.self_device_time_total for e in events) / 2 / 1e6 if cuda else 0.0
        launches = (
            sum(e.count for e in events if e.key.startswith(("cudaLaunchKernel", "cuLaunchKernel"))) / 2
        )
        head = (
            f"{name}: wall {wall:.3f} s/step, GPU busy {busy:.3f} s/step, kernel launches {launches:.0f}/step"
        )
        print(head, flush=True)
        tables = [
            events.table(sort_by=key, row_limit=25, max_name_column_width=70)
            for key in (["self_device_time_total"] if cuda else []) + ["self_cpu_time_total"]
        ]
        (out / f"profile-{name}.txt").write_text(head + "\n\n" + "\n\n".join(tables))
    if cuda:
        run.checkpointing = frozenset(VARIANTS["all"])
        torch.cuda.memory._record_memory_history(stacks="python", max_entries=100_000)
        train_step(run, rng)
        torch.cuda.synchronize()
        snapshot = torch.cuda.memory._snapshot()
        torch.cuda.memory._record_memory_history(enabled=None)
        with gzip.open(out / "memory-all.pickle.gz", "wb") as f:
            pickle.dump(snapshot, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", type=Path, help="also profile the steps into this folder")
    args = parser.parse_args()
    run = build()
    cuda = run.device.type == "cuda"
    rng = random.Random(0)
    result = {}
    for name, parts in VARIANTS.items():
        run.checkpointing = frozenset(parts)
        times, peak = [], 0.0
        with judge_layers_only(JUDGE_LAYERS.get(name)):
            for i in range(6):  # the first is a warm-up
                if cuda:
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                started = time.perf_counter()
                train_step(run, rng)
                if cuda:
                    torch.cuda.synchronize()
                    peak = max(peak, torch.cuda.max_memory_allocated() / 2**30)
                if i:
                    times.append(time.perf_counter() - started)
        result[name] = {"s_per_step": sorted(times)[len(times) // 2], "peak_gib": peak if cuda else None}
        print(name, json.dumps(result[name]), flush=True)
    print(json.dumps(result))
    if args.profile:
        profile(run, args.profile)


if __name__ == "__main__":
    main()

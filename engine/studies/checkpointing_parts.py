"""Where checkpointing's time and memory go at full scale: each part of a teach step checkpointed alone.

`bench teach --scale full` times our loop with everything checkpointed (FLUX.1-schnell's transformer blocks,
the VAE decode as a whole, Qwen2.5-VL-7B's layers) against nothing. This study takes one question (one
picture) and our loop, and times six variants (`training.gradient_checkpointing` as a list of parts) in one
process, median of 5 steps after one warm-up each: nothing checkpointed, everything, each of the three parts
alone, and nothing again (the drift over the run). It prints one line per variant and, at the end, all of
them as JSON.

    PYTHONPATH=engine/src python engine/studies/checkpointing_parts.py   # a CUDA GPU: full configs, bf16

Without CUDA it runs the tiny configs in float32 (a smoke run; its timings mean nothing).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import torch

from dualproc_engine.teach import adapters, bench_full
from dualproc_engine.teach.bench import QUESTIONS, build_bench_run
from dualproc_engine.teach.memory import offload_text_encoders
from dualproc_engine.teach.step import train_step

VARIANTS = {
    "none": [],
    "all": ["generator", "decoder", "judge"],
    "generator": ["generator"],
    "decoder": ["decoder"],
    "judge": ["judge"],
    "none-again": [],
}
"""name -> the parts checkpointed, as `training.gradient_checkpointing` lists them."""


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


def main() -> None:
    run = build()
    cuda = run.device.type == "cuda"
    rng = random.Random(0)
    result = {}
    for name, parts in VARIANTS.items():
        run.checkpointing = frozenset(parts)
        times, peak = [], 0.0
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


if __name__ == "__main__":
    main()

"""Generation speed with a fused LoRA against the base generator, side by side in one run (one thread).

    python engine/benchmarks/bench_lora_generate.py --lora out/demo/teach

Rounds alternate their order so that load on a shared machine hits both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import time

import torch

from dualproc_engine.generators.generate import fuse_lora, generate_images, load_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lora", required=True, help="a LoRA file or teach run folder")
    parser.add_argument("--generator", default="scenes-generator")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    base, fused = load_generator(args.generator), load_generator(args.generator)
    fuse_lora(fused, args.lora, 1.0, args.generator)
    prompts = ["a sunny landscape with trees"] * args.images
    for gen in (base, fused):
        generate_images(gen, prompts[:16], 0)  # warm-up
    times: dict[str, list[float]] = {"base": [], "fused": []}
    for r in range(args.rounds):
        pairs = [("base", base), ("fused", fused)]
        for name, gen in pairs if r % 2 == 0 else pairs[::-1]:
            started = time.perf_counter()
            generate_images(gen, prompts, r)
            times[name].append(time.perf_counter() - started)
    median = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for name, seconds in median.items():
        print(f"{name:6s} {args.images / seconds:.1f} images/s")
    print(f"fused / base time: {median['fused'] / median['base']:.3f}")


if __name__ == "__main__":
    main()

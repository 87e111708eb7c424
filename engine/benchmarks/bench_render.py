"""Throughput of the Scenes renderer on one CPU thread: scenes per second, per kind and size.

    python engine/benchmarks/bench_render.py [--n 4096] [--sizes 64 128 256] [--threads 1]

Attributes are sampled first (timed separately); `render` is the images alone, `render_full` adds the
per-pixel owners and the objects' visible points (what the dataset writer uses). Rates are given per
second of wall time and per second of this process's CPU time: on a shared machine the second is the
fairer number (the wall clock also counts time the CPU spent on other processes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Result, wall seconds, CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    import torch

    from dualproc_engine.world.render import render, render_full
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="scenes per measurement at 64 px")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s); scenes/s as wall | CPU")
    print(f"{'kind':<10} {'size':>5} {'n':>6} {'sample/s':>13} {'render/s':>13} {'render_full/s':>15}")
    for kind in ("landscape", "lineart"):
        for size in args.sizes:
            n = max(64, args.n * 64 * 64 // (size * size))  # the same number of pixels at every size
            scenes, *sample_s = _timed(partial(sample_scenes, 0, n, kind=kind, size_px=size))
            render(scenes[:64])  # warm the caches (palette roles, allocator)
            _, *render_s = _timed(partial(render, scenes))
            _, *full_s = _timed(partial(render_full, scenes))
            cells = [f"{n / s[0]:>6.0f}|{n / s[1]:<6.0f}" for s in (sample_s, render_s, full_s)]
            print(f"{kind:<10} {size:>5} {n:>6} {cells[0]:>13} {cells[1]:>13} {cells[2]:>15}")


if __name__ == "__main__":
    main()

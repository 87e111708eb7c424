"""Throughput of the Scenes renderer on one CPU thread: scenes per second, per kind and size.

    python engine/benchmarks/bench_render.py [--n 4096] [--sizes 64 128 256] [--threads 1]

Attributes are sampled first (timed separately); `render` is the images alone, `render_full` adds the
per-pixel owners and the objects' visible points (what the dataset writer uses).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


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
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    print(f"{'kind':<10} {'size':>5} {'n':>6} {'sample/s':>10} {'render/s':>10} {'full/s':>10}")
    for kind in ("landscape", "lineart"):
        for size in args.sizes:
            n = max(64, args.n * 64 * 64 // (size * size))  # same pixel count at every size
            scenes, sample_s = _timed(partial(sample_scenes, 0, n, kind=kind, size_px=size))
            render(scenes[:64])  # warm caches (palette roles, allocator)
            _, render_s = _timed(partial(render, scenes))
            _, full_s = _timed(partial(render_full, scenes))
            sample_rate, render_rate, full_rate = n / sample_s, n / render_s, n / full_s
            print(f"{kind:<10} {size:>5} {n:>6} {sample_rate:>10.0f} {render_rate:>10.0f} {full_rate:>10.0f}")


if __name__ == "__main__":
    main()

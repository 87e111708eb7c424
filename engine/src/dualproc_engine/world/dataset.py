"""Writing scenes to disk: `000000.png`..., `attributes.jsonl` and `contact_sheet.png`.

Each attributes line is written (and flushed) only after its PNG is complete on disk (written to a
temporary name, then renamed), so a run stopped at any moment leaves a consistent folder: every line
names an existing image. Usage:

    python -m dualproc_engine.world.dataset --n 64 --seed 0 --size 64 --out DIR [--kind landscape]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

BATCH = 64
SHEET_MAX = 64
"""The contact sheet shows at most this many images (the first ones)."""


def write_dataset(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size_px: int = 64,
    kind: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    **fixed: Any,
) -> int:
    """Render `n` scenes drawn from `seed` into `out_dir`; returns how many were written.

    `on_progress(done, total)` is called after each batch; `should_stop()` is polled between batches and
    ends the run early (what is written stays consistent). `fixed` attributes go to `sample_scenes`.
    """
    from ..images import image_grid, save_png
    from .render import render_full
    from .scene import sample_scene, scene_seed

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    thumbnails: list[torch.Tensor] = []
    with open(out / "attributes.jsonl", "w", encoding="utf-8") as lines:
        for start in range(0, n, BATCH):
            if should_stop is not None and should_stop():
                break
            scenes = [
                sample_scene(scene_seed(seed, i), i, kind, size_px, **fixed)
                for i in range(start, min(n, start + BATCH))
            ]
            rendering = render_full(scenes)
            for scene, image in zip(rendering.scenes, rendering.images, strict=True):
                scene.file = f"{scene.index:06d}.png"
                save_png(image, out / scene.file)
                lines.write(json.dumps(scene.to_dict()) + "\n")
                lines.flush()
                if len(thumbnails) < SHEET_MAX:
                    thumbnails.append(image)
                written += 1
            if on_progress is not None:
                on_progress(written, n)
    if thumbnails:
        save_png(image_grid(torch.stack(thumbnails)), out / "contact_sheet.png")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Render Scenes to PNGs, attributes.jsonl and a contact sheet."
    )
    parser.add_argument("--n", type=int, default=64, help="number of scenes")
    parser.add_argument("--seed", type=int, default=0, help="batch seed; scene i uses seed * 1000003 + i")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--kind", choices=["landscape", "lineart"], default=None, help="default: both")
    args = parser.parse_args(argv)
    import torch

    # The renderer works on cache-sized chunks: extra intra-op threads gain little and, on a busy machine,
    # cost many times over in contention. Run several processes to use more cores.
    torch.set_num_threads(1)
    count = write_dataset(args.out, n=args.n, seed=args.seed, size_px=args.size, kind=args.kind)
    print(f"wrote {count} scenes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

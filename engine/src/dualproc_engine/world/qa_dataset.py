"""Writing a QA set to disk: the scenes (as `dataset.write_dataset` does) plus `qa.jsonl`, one question
record per line, each naming its scene's PNG; optionally each question's image with its visual prompt
composited (`qa/000003-01.png`), as the judge will see it.

Like the scenes, `qa.jsonl` is written line by line after any image it names, so a stopped run leaves a
consistent folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .dataset import write_dataset


def write_qa_dataset(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size_px: int = 64,
    kind: str | None = None,
    families: Sequence[str] | None = None,
    per_scene: int = 1,
    phrasing_split: str = "train",
    overlay_images: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, int]:
    """Render `n` scenes and their questions into `out_dir`; returns scene and question counts."""
    from .qa import make_qa

    out = Path(out_dir)
    scene_count = write_dataset(
        out,
        n=n,
        seed=seed,
        size_px=size_px,
        kind=kind,
        on_progress=(lambda done, total: on_progress(done, total, "scenes")) if on_progress else None,
    )
    scenes = [json.loads(line) for line in (out / "attributes.jsonl").read_text().splitlines()]
    records = make_qa(scenes, seed, families=families, per_scene=per_scene, phrasing_split=phrasing_split)
    files = {scene["index"]: scene["file"] for scene in scenes}
    if overlay_images:
        (out / "qa").mkdir(exist_ok=True)
    with open(out / "qa.jsonl", "w", encoding="utf-8") as lines:
        for number, record in enumerate(records):
            record = {"id": number, "file": files[record["scene_index"]], **record}
            if overlay_images:
                record["image"] = _write_overlaid(out, record, number)
            lines.write(json.dumps(record) + "\n")
            lines.flush()
            if on_progress and (number + 1) % 64 == 0:
                on_progress(number + 1, len(records), "questions")
    return {"scenes": scene_count, "questions": len(records)}


def _write_overlaid(out: Path, record: dict[str, Any], number: int) -> str | None:
    """The question's image as the judge sees it (the scene with its overlay), or None without overlay."""
    if record["overlay"] is None:
        return None
    import numpy as np
    import torch
    from PIL import Image

    from ..prompts import apply_overlay

    scene = np.asarray(Image.open(out / record["file"]).convert("RGB"), dtype=np.float32) / 255.0
    image = torch.from_numpy(scene).permute(2, 0, 1).unsqueeze(0)
    composited = apply_overlay(image, record["overlay"])[0].clamp(0, 1)
    pixels = (composited * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    name = f"qa/{record['scene_index']:06d}-{number:05d}.png"
    partial = out / (name + ".partial")
    Image.fromarray(pixels).save(partial, format="PNG")
    os.replace(partial, out / name)
    return name

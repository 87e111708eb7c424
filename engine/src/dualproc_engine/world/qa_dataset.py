"""Writing a QA set to disk: the scenes (as `dataset.write_dataset` does) plus `qa.jsonl`, one question
record per line, each naming its scene's PNG; optionally each question's image with its visual prompt
composited (`qa/000003-01.png`), as the judge will see it.

Like the scenes, `qa.jsonl` is written line by line after any image it names, so a stopped run leaves a
consistent folder.
"""

from __future__ import annotations

import json
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
    from .qa import agree_with_pixels, make_qa

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
    records = agree_with_pixels(records, _RenderedScenes(out, files))
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


class _RenderedScenes:
    """The written renders by scene index, read from disk only when asked for (palette records need them)."""

    def __init__(self, out: Path, files: dict[int, str]):
        self.out, self.files = out, files

    def __getitem__(self, index: int) -> Any:
        from ..images import load_image

        return load_image(self.out / self.files[index])[0]


def _write_overlaid(out: Path, record: dict[str, Any], number: int) -> str | None:
    """The question's image as the judge sees it (the scene with its overlay), or None without overlay."""
    if record["overlay"] is None:
        return None
    from ..images import load_image, save_png
    from ..prompts import apply_overlay

    composited = apply_overlay(load_image(out / record["file"]), record["overlay"])[0]
    name = f"qa/{record['scene_index']:06d}-{number:05d}.png"
    save_png(composited, out / name)
    return name

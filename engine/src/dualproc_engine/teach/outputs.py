"""What a teach run writes besides checkpoints: metrics.jsonl, evaluation grids, the final LoRA file.

Every file is written whole: to a temporary name, then renamed (metrics.jsonl is appended line by line and
trimmed back to the resumed step on resume).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from torch import Tensor

LORA_FILE = "pytorch_lora_weights.safetensors"


class MetricsLog:
    """metrics.jsonl: one JSON object per optimiser step."""

    def __init__(self, path: Path, resume_step: int | None):
        self.path = path
        if resume_step is None:
            path.write_text("")
        elif path.exists():
            kept = [line for line in path.read_text().splitlines() if _step(line) <= resume_step]
            _write_atomic(path, "".join(line + "\n" for line in kept).encode())

    def write(self, row: dict[str, Any]) -> None:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        with self.path.open("a") as f:
            f.write(json.dumps(clean) + "\n")


def _step(line: str) -> int:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return 1 << 62  # a torn last line (crash mid-write) is dropped on resume


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_grid(images: Tensor, rows: int, path: Path, pad_px: int = 2) -> Path:
    """(rows * cols, 3, H, W) in [0, 1], row-major, as one PNG with white gutters."""
    from ..images import image_grid, save_png

    return save_png(image_grid(images, cols=images.shape[0] // rows, pad_px=pad_px), path)


def save_final_lora(gen: Any, out_dir: Path, metadata: dict[str, object]) -> Path:
    """`out_dir/pytorch_lora_weights.safetensors` in the generator's diffusers layout, with our metadata
    (`dualproc.base_model`, `dualproc.recipe`, `dualproc.steps`, ...) added to the adapter's own."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    tmp_dir = out_dir / ".tmp-lora"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    written = Path(gen.save_lora(tmp_dir))
    with safe_open(str(written), "pt") as f:
        meta = dict(f.metadata() or {})
    meta.update({f"dualproc.{k}": str(v) for k, v in metadata.items()})
    tmp_file = tmp_dir / "with-metadata.safetensors"
    save_file(load_file(str(written)), str(tmp_file), metadata=meta)
    final = out_dir / LORA_FILE
    os.replace(tmp_file, final)
    for leftover in tmp_dir.iterdir():
        leftover.unlink()
    tmp_dir.rmdir()
    return final

"""Finding model weights on this machine without touching the network.

Only two places are read: the Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else
~/.cache/huggingface/hub) and the weights shipped inside this package for the embedded models.
"""

from __future__ import annotations

import os
from pathlib import Path

from .presets import EMBEDDED, ModelSpec

# A snapshot counts as present only if it has the file that loading starts from.
_ENTRY_FILES = ("model_index.json", "config.json")


def hf_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    hf_home = os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface"
    return Path(hf_home) / "hub"


def embedded_weights_dir(name: str) -> Path:
    return Path(__file__).resolve().parent / "weights" / name


def find_local(spec: ModelSpec) -> Path | None:
    """The folder holding `spec`'s weights, or None when they are not on this machine."""
    if spec.source == EMBEDDED:
        folder = embedded_weights_dir(spec.name)
        return folder if _has_entry_file(folder) else None
    return find_in_hf_cache(spec.source)


def find_in_hf_cache(repo_id: str) -> Path | None:
    """The newest complete snapshot of `repo_id` in the hub cache, or None."""
    snapshots = hf_cache_dir() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = [s for s in snapshots.iterdir() if _has_entry_file(s)]
    return max(candidates, key=lambda s: s.stat().st_mtime) if candidates else None


def _has_entry_file(folder: Path) -> bool:
    return any((folder / f).is_file() for f in _ENTRY_FILES)

"""Finding a diffusers pipeline folder by name, for the adapters of real families (SD-Turbo, SD3, ...).

A name is a preset (read from the local Hugging Face cache), a Hugging Face repo id in that cache, or a
folder; what a folder holds is read from its model_index.json (`_class_name`, the pipeline class diffusers
saved). Nothing is ever downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path


def pipeline_class(folder: Path) -> str | None:
    """The pipeline class named in `folder`/model_index.json, or None when there is none to read."""
    try:
        index = json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError):
        return None
    name = index.get("_class_name") if isinstance(index, dict) else None
    return name if isinstance(name, str) else None


def find_pipeline_folder(name: str, presets: Collection[str], classes: Collection[str]) -> Path | None:
    """The folder `name` means when it is one of `presets` or holds a pipeline of one of `classes`; else None.

    A preset of another family returns None (the caller's other loaders deal with it); one of `presets` whose
    weights are not in the cache raises `ModelMissingError` with the one line that says how to get them.
    """
    from ..errors import ModelMissingError
    from ..local_models import find_in_hf_cache, find_local
    from ..presets import PRESETS

    spec = PRESETS.get(name)
    if spec is not None:
        if name not in presets:
            return None
        folder = find_local(spec)
        if folder is None:
            raise ModelMissingError(
                f"generator {name}: {spec.source} is not in the local Hugging Face cache; download it on a "
                f"connected machine (huggingface-cli download {spec.source}) or pass its folder as the "
                "generator"
            )
        return folder
    if Path(name).is_dir():
        return Path(name) if pipeline_class(Path(name)) in classes else None
    if "/" in name:  # a repo id: read from the cache only, never downloaded
        cached = find_in_hf_cache(name)
        return cached if cached is not None and pipeline_class(cached) in classes else None
    return None

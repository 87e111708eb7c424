"""A generator by name: a preset (`dualproc models`), a Hugging Face repo id in the local cache, or a folder.
The one place that decides which adapter a name gets; `generate`, `teach` and `eval` all load generators here.

- FLUX.1 presets (flux-schnell, flux-dev, from the local Hugging Face cache), cached repo ids and folders
  whose model_index.json says `FluxPipeline`: `FluxGenerator` (generators/flux.py);
- SD3 / SD3.5 presets (from the local Hugging Face cache), cached repo ids and folders whose model_index.json
  says `StableDiffusion3Pipeline`: `SD3Generator` (generators/sd3.py);
- the `sdxl-turbo` preset, cached repo ids and folders whose model_index.json says
  `StableDiffusionXLPipeline`: `SDXLTurboGenerator` (generators/sdxl.py);
- Sana presets (sana-1600m, sana-sprint, from the local Hugging Face cache), cached repo ids and folders whose
  model_index.json says `SanaPipeline` or `SanaSprintPipeline`: `SanaGenerator` / `SanaSprintGenerator`
  (generators/sana.py);
- the `sd-turbo` preset, cached repo ids and folders whose model_index.json says `StableDiffusionPipeline`:
  `SDTurboGenerator` (generators/sd_turbo.py);
- every other folder with a model_index.json, and the embedded presets: `EmbeddedGenerator`;
- other presets: one line saying there is no adapter yet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelMissingError, UserError, did_you_mean

GENERATOR_ADAPTERS = (
    "scenes-generator, sd-turbo, sdxl-turbo, flux-schnell, flux-dev, sd3-medium, sd3.5-medium, sd3.5-large, "
    "sana-1600m, sana-sprint"
)
"""Presets with an adapter; the other presets are listed by `dualproc models` but not usable yet."""


def _diffusers_families() -> list[tuple[str, Callable[[str], Path | None], Callable[..., Any]]]:
    """(label, finder, loader) of each diffusers family: a finder returns the folder a name means for its
    family, None for names of other families, and raises `ModelMissingError` for its own missing presets."""
    from .flux import FluxGenerator, find_flux_folder
    from .sana import SanaGenerator, find_sana_folder
    from .sd3 import SD3Generator, find_sd3_folder
    from .sd_turbo import SDTurboGenerator, find_sd_folder
    from .sdxl import SDXLTurboGenerator, find_sdxl_folder

    return [
        ("FLUX.1", find_flux_folder, FluxGenerator.from_pretrained),
        ("SD3", find_sd3_folder, SD3Generator.from_pretrained),
        ("Stable Diffusion", find_sd_folder, SDTurboGenerator.from_pretrained),
        ("SDXL", find_sdxl_folder, SDXLTurboGenerator.from_pretrained),
        ("Sana", find_sana_folder, SanaGenerator.from_pretrained),
    ]


def load_generator(
    name: str = "scenes-generator",
    device: str | torch.device | None = None,
    resolution_px: int | None = None,
) -> Any:
    """The generator adapter `name` means, moved to `device` (left where it loads, on the CPU, when None).

    `resolution_px`: the side of the images a diffusers family draws (None: the model's own); the embedded
    generator draws the size it was trained at whatever is asked (the teach loop says so)."""
    gen = None
    for label, find, load in _diffusers_families():
        folder = find(name)
        if folder is None:
            continue
        try:
            gen = load(folder, resolution_px=resolution_px)
        except (OSError, ValueError, KeyError) as e:
            first = str(e).splitlines()[0] if str(e) else ""
            raise UserError(
                f"generator {name!r}: cannot load it as {label} ({type(e).__name__}: {first})"
            ) from None
        break
    if gen is None:
        gen = _load_embedded(name)
    if device is not None and torch.device(device).type != "cpu" and hasattr(gen, "pipeline"):
        gen.pipeline.to(device)
    return gen


def _load_embedded(generator: str) -> Any:
    """The embedded generator by preset name or by a folder holding a saved pipeline; refusals otherwise."""
    from ..local_models import find_local
    from ..presets import PRESETS, preset_names
    from .embedded import EmbeddedGenerator

    folder = Path(generator)
    if folder.is_dir() and (folder / "model_index.json").is_file():
        return EmbeddedGenerator.from_pretrained(folder)
    spec = PRESETS.get(generator)
    if spec is None or spec.role != "generator":
        known = preset_names("generator")
        raise UserError(
            f"unknown generator {generator!r}{did_you_mean(generator, known)}; generators are "
            f"{', '.join(known)}, or a pipeline folder"
        )
    if spec.family != "embedded":
        raise UserError(
            f"generator {generator!r} ({spec.family}) has no adapter yet; generators with one: "
            f"{GENERATOR_ADAPTERS}"
        )
    path = find_local(spec)
    if path is None:
        raise ModelMissingError(
            f"the weights of {generator} are missing; train them with `dualproc world train-generator`"
        )
    return EmbeddedGenerator.from_pretrained(path)

"""Memory options of a teach run beyond checkpointing and autocast: where the judge lives, the VAE's
slicing and tiling, and text encoders sent to the CPU once the prompts are encoded.

- `judge_device`: the judge on a device of its own (a second GPU): the images cross to it and the answer
  log-probabilities come back, autograd carrying the gradient across (a device copy is differentiable).
- `vae_tiling`: diffusers' `enable_slicing()` (decode a batch one image at a time) and `enable_tiling()`
  (decode in overlapping tiles) on the generator's VAE, where the family has them; the embedded generator
  has no VAE, so it is a no-op there.
- `offload_text_encoders`: the loop encodes its prompts once (training, evaluation and preserve prompts) and
  never runs a text encoder again, so they can leave the GPU: for FLUX and SD3 that is T5-XXL, 9.5 GB in bf16.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import UserError


def judge_device(name: str | None, default: torch.device) -> torch.device:
    """The device the recipe names for the judge (None: the generator's), checked to exist."""
    if name is None:
        return default
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"training.judge_device: {name!r} is not a device (e.g. cuda:1, cpu)") from None
    if device.type == "cuda":
        count = torch.cuda.device_count()
        index = device.index or 0
        if index >= count:
            raise UserError(
                f"training.judge_device: {name} does not exist here ({count} CUDA device(s)); use null"
            )
    return device


def enable_vae_tiling(gen: Any) -> bool:
    """Slicing and tiling on the generator's VAE; False when the family has no such VAE."""
    vae = getattr(gen, "vae", None)
    found = False
    for method in ("enable_slicing", "enable_tiling"):
        if callable(getattr(vae, method, None)):
            getattr(vae, method)()
            found = True
    return found


def text_encoders(gen: Any) -> list[torch.nn.Module]:
    """The generator's text encoders, whatever the family calls them (`text_encoder`, `text_encoder_2`,
    `text_encoders` as a tuple, ...)."""
    found: list[torch.nn.Module] = []
    for name, value in vars(gen).items():
        if not name.startswith("text_encoder"):
            continue
        for module in value if isinstance(value, tuple | list) else (value,):
            if isinstance(module, torch.nn.Module) and all(module is not m for m in found):
                found.append(module)
    return found


def offload_text_encoders(gen: Any) -> int:
    """Move the text encoders to the CPU; returns how many moved. Call once every prompt is encoded."""
    encoders = text_encoders(gen)
    for module in encoders:
        module.to("cpu")
    if encoders and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return len(encoders)

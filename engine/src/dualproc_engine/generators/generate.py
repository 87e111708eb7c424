"""`dualproc generate`: images from a prompt with a named generator, each its own PNG, plus a grid.

The generator is loaded by `generators.load.load_generator` (re-exported here), as `teach` and `eval` load
it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..unknown_words import as_unknown, unknown_words
from .guidance import set_guidance
from .load import load_generator

LORA_FILE = "pytorch_lora_weights.safetensors"

ProgressFn = Callable[[int, int | None, str, str | None], None]
CHUNK = 64
"""Images per generator call: bounds memory, and progress is reported per chunk."""


def fuse_lora(gen: Any, lora: str, lora_scale: float, generator: str) -> None:
    """Load a LoRA (file or teach run folder), check its base model, fuse it in at `lora_scale`."""
    load_checked_lora(gen, lora, generator)
    # Fusing folds B @ A * scale into the base weights and drops the adapter layers: no per-call LoRA cost.
    gen.denoiser.fuse_lora(lora_scale=lora_scale)
    gen.denoiser.unload_lora()


def load_checked_lora(gen: Any, lora: str, generator: str) -> None:
    """Attach a LoRA (file or teach run folder) as an adapter, after checking it was trained on `generator`.

    Every mistake (no file, not safetensors, another base model, shapes that do not fit) is one `UserError`.
    """
    from safetensors import safe_open

    from ..errors import UserError

    path = Path(lora)
    if path.is_dir():
        path = path / LORA_FILE
    if not path.is_file():
        raise UserError(f"--lora {lora}: no LoRA file there (expected {LORA_FILE} or a teach run folder)")
    try:
        with safe_open(str(path), "pt") as f:
            base = (f.metadata() or {}).get("dualproc.base_model")
    except Exception as error:  # not a safetensors file at all: the user's mistake, said in one line
        raise UserError(f"--lora {lora}: not a safetensors LoRA file ({error})") from None
    if base is not None and base != generator:
        raise UserError(f"--lora {lora}: trained on generator {base!r}, not {generator!r}")
    try:
        gen.load_lora(path)
    except Exception as error:  # keys or shapes of another model
        raise UserError(f"--lora {lora}: does not fit generator {generator!r} ({error})") from None


def generate_images(
    gen: Any,
    prompts: list[str],
    seed: int,
    num_inference_steps: int = 1,
    on_chunk: Callable[[int], None] | None = None,
) -> Tensor:
    """Images in [0, 1] for `prompts`; image i uses noise `make_noise(1, seed + i)` whatever the batching."""
    out = []
    with torch.no_grad():
        for k in range(0, len(prompts), CHUNK):
            part = prompts[k : k + CHUNK]
            noise = torch.cat([gen.make_noise(1, seed + k + i) for i in range(len(part))])
            out.append(gen.sample(gen.encode_prompt(part), noise, num_inference_steps).cpu())
            if on_chunk:
                on_chunk(k + len(part))
    return torch.cat(out)


def generate_files(
    prompt: str,
    n: int,
    seed: int,
    out_dir: str,
    num_inference_steps: int = 1,
    generator: str = "scenes-generator",
    on_progress: ProgressFn | None = None,
    lora: str | None = None,
    lora_scale: float = 1.0,
    guidance_scale: float | None = None,
    resolution_px: int | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write `n` images of `prompt` as 000000.png ... and grid.png into `out_dir`; returns paths and count.

    `lora` (a LoRA file or a teach run folder) is fused into the generator's weights at `lora_scale`, so
    generation costs what the base generator costs. `resolution_px`: the images' side where the family can
    draw other sizes (None: the model's own). `on_warning` hears about words of the prompt the generator does
    not know (an embedded Scenes generator draws something else for them).
    """
    from ..errors import UserError

    if n < 1:
        raise UserError(f"n must be >= 1, got {n}")
    if num_inference_steps < 1:
        raise UserError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"out_dir {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if resolution_px is not None and (isinstance(resolution_px, bool) or resolution_px < 1):
        raise UserError(f"resolution_px must be >= 1, got {resolution_px}")
    from ..teach.adapters import pick_device

    # a GPU when there is one, as teach and eval use
    gen = load_generator(generator, pick_device(), resolution_px)
    set_guidance(gen, guidance_scale, "guidance_scale")
    if lora is not None:
        fuse_lora(gen, lora, lora_scale, generator)
    if on_warning and (unknown := unknown_words(getattr(gen, "tokenizer", None), prompt)):
        on_warning(f"the generator reads {as_unknown(unknown)} (not in its vocabulary)")

    def chunk_done(done: int) -> None:
        if on_progress:
            on_progress(done, n, "images", None)

    from ..images import image_grid, save_png

    images = generate_images(gen, [prompt] * n, seed, num_inference_steps, chunk_done)
    for i, image in enumerate(images):
        save_png(image, out / f"{i:06d}.png")
    grid = out / "grid.png"
    save_png(image_grid(images), grid)
    return {"out_dir": str(out), "count": n, "grid": str(grid)}

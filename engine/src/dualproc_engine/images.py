"""Image files and grids, the one place the engine reads and writes pictures.

Tensors are float in [0, 1], channels first. PNGs are written to a temporary name and renamed, so a job
stopped at any moment never leaves a half-written image behind.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from torch import Tensor


def load_image(path: str | Path) -> Tensor:
    """(1, 3, H, W) float in [0, 1]; a missing or unreadable file is a one-line UserError."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from .errors import UserError

    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as error:
        raise UserError(f"{path}: not an image Pillow can read ({error})") from None
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)


def to_uint8(images: Tensor) -> Tensor:
    """[0, 1] floats -> uint8, rounding to nearest (the same bytes for the same picture everywhere)."""
    return (images.detach().float().cpu().clamp(0, 1) * 255.0).round().to(torch.uint8)


def save_png(image: Tensor, path: str | Path) -> Path:
    """Write a (3, H, W) image in [0, 1] as a PNG, atomically; creates the folder."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    Image.fromarray(to_uint8(image).permute(1, 2, 0).numpy()).save(partial, format="PNG")
    os.replace(partial, path)
    return path


def image_grid(images: Tensor, cols: int | None = None, pad_px: int = 2) -> Tensor:
    """(N, 3, H, W) images row-major on white with `pad_px` gutters, as one (3, H', W') image;
    `cols` defaults to a near-square grid."""
    n, _, h, w = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = torch.ones(3, rows * (h + pad_px) + pad_px, cols * (w + pad_px) + pad_px)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad_px + r * (h + pad_px), pad_px + c * (w + pad_px)
        grid[:, y : y + h, x : x + w] = images[i].detach().float().cpu().clamp(0, 1)
    return grid

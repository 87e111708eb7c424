"""Image degradations the judge must survive: blur, noise, JPEG, colour jitter.

Used to augment the judge's training data and to measure its accuracy on degraded images
(judges/evaluate.py). Each is mild enough that the QA answers stay exact: a jitter that moved a colour by
more than the palette / colour-name margins (CIEDE2000 >= 5) would change what the question asks.
Images are (B, 3, H, W) in [0, 1]; the degradation is drawn from `rng` (Python `random.Random`).
"""

from __future__ import annotations

import io
import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

DEGRADATIONS = ("blur", "noise", "jpeg", "jitter")


def blur(images: Tensor, rng: random.Random) -> Tensor:
    """Gaussian blur, sigma 0.4-0.8 px at 64 px (scaled with the image side)."""
    sigma = rng.uniform(0.4, 0.8) * images.shape[-1] / 64
    radius = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    out = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def noise(images: Tensor, rng: random.Random) -> Tensor:
    """Additive Gaussian noise, std 0.02-0.05."""
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    std = rng.uniform(0.02, 0.05)
    return (images + std * torch.randn(images.shape, generator=g).to(images)).clamp(0, 1)


def jpeg(images: Tensor, rng: random.Random) -> Tensor:
    """A JPEG round trip at quality 60-90 (not differentiable: data only)."""
    from PIL import Image

    quality = rng.randint(60, 90)
    out = []
    for image in images.detach().clamp(0, 1).cpu():
        array = (image.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), dtype=np.float32)
        out.append(torch.from_numpy(decoded / 255).permute(2, 0, 1))
    return torch.stack(out).to(images)


def jitter(images: Tensor, rng: random.Random) -> Tensor:
    """Brightness, contrast and saturation each scaled by 1 +- 0.04."""
    b, c, s = (1 + rng.uniform(-0.04, 0.04) for _ in range(3))
    x = images * b
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * c + mean
    grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)
    return ((x - grey) * s + grey).clamp(0, 1)


_BY_NAME = {"blur": blur, "noise": noise, "jpeg": jpeg, "jitter": jitter}


def degrade(images: Tensor, kind: str, rng: random.Random) -> Tensor:
    """Apply the degradation named `kind` (one of DEGRADATIONS)."""
    if kind not in _BY_NAME:
        raise ValueError(f"degradation: expected one of {', '.join(DEGRADATIONS)}, got {kind!r}")
    return _BY_NAME[kind](images, rng)

"""An overlay layer: premultiplied colour and alpha coverage, independent of the image it goes onto."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .color import RGB


@dataclass(frozen=True)
class Layer:
    """colour (3, H, W) already multiplied by alpha; alpha (1, H, W) in [0, 1]."""

    color: torch.Tensor
    alpha: torch.Tensor

    @property
    def size(self) -> tuple[int, int]:
        return int(self.alpha.shape[-2]), int(self.alpha.shape[-1])

    def to(self, device: torch.device, dtype: torch.dtype) -> Layer:
        return Layer(self.color.to(device=device, dtype=dtype), self.alpha.to(device=device, dtype=dtype))


def transparent(height: int, width: int, device: torch.device | None = None) -> Layer:
    return Layer(torch.zeros(3, height, width, device=device), torch.zeros(1, height, width, device=device))


def paint(coverage: torch.Tensor, rgb: RGB) -> Layer:
    """A layer of one colour over the (H, W) coverage."""
    alpha = coverage[None]
    color = torch.tensor(rgb, dtype=coverage.dtype, device=coverage.device)[:, None, None] * alpha
    return Layer(color, alpha)


def over(top: Layer, bottom: Layer) -> Layer:
    """Porter-Duff 'over' in premultiplied form."""
    keep = 1.0 - top.alpha
    return Layer(top.color + bottom.color * keep, top.alpha + bottom.alpha * keep)


def stack(layers: Sequence[Layer]) -> Layer:
    """Layers listed bottom first, composited with 'over'."""
    if not layers:
        raise ValueError("stack needs at least one layer")
    result = layers[0]
    for layer in layers[1:]:
        result = over(layer, result)
    return result

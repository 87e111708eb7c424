"""Putting a layer onto an image batch: the paper's 50% blend and its paste of non-white pixels.

Both are affine in the image, so d(out)/d(image) = 1 - alpha (paste) or 1 - opacity * alpha (blend): the
gradient reaches every pixel the overlay does not cover completely.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from .layer import Layer

Mode = Literal["blend", "paste"]
DEFAULT_OPACITY = 0.5
"""The paper blends its visual prompts at 50%."""

WHITE_TOLERANCE = 0.05
"""A reference pixel whose darkest channel is above 1 - this is 'white' and leaves the image alone."""


def _check_images(images: torch.Tensor) -> None:
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images: expected shape (B, 3, H, W), got {tuple(images.shape)}")


def paste(images: torch.Tensor, layer: Layer) -> torch.Tensor:
    """Overlay opaque where the layer is: out = image * (1 - alpha) + colour (premultiplied)."""
    _check_images(images)
    layer = layer.to(images.device, images.dtype)
    return images * (1.0 - layer.alpha) + layer.color


def blend(images: torch.Tensor, layer: Layer, opacity: float = DEFAULT_OPACITY) -> torch.Tensor:
    """Alpha-blend the layer at `opacity`: where the layer is opaque, out = (1 - o) image + o colour."""
    _check_images(images)
    layer = layer.to(images.device, images.dtype)
    return images * (1.0 - opacity * layer.alpha) + opacity * layer.color


def composite(
    images: torch.Tensor, layer: Layer, mode: Mode, opacity: float = DEFAULT_OPACITY
) -> torch.Tensor:
    if mode == "paste":
        return paste(images, layer)
    if mode == "blend":
        return blend(images, layer, opacity)
    raise ValueError(f"mode: expected 'blend' or 'paste', got {mode!r}")


def reference_layer(reference: torch.Tensor, height: int, width: int, mode: Mode) -> Layer:
    """A user's reference picture (3, h, w) or (B, 3, h, w) in [0, 1], resized to the image.

    paste: alpha is 1 on non-white pixels and ramps to 0 over the last WHITE_TOLERANCE of brightness (the
    paper's hard mask `ref < white`, made continuous so antialiased edges stay soft). blend: the whole
    reference, alpha 1 everywhere, as the paper's 50% blend does.
    """
    ref = reference if reference.ndim == 4 else reference[None]
    if ref.ndim != 4 or ref.shape[1] != 3:
        raise ValueError(f"reference: expected shape (3, h, w), got {tuple(reference.shape)}")
    if ref.shape[-2:] != (height, width):
        # antialias matters when a large drawing is shrunk to 64 px: thin strokes would otherwise vanish
        ref = F.interpolate(ref, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    ref = ref.clamp(0.0, 1.0)
    if mode == "blend":
        alpha = torch.ones_like(ref[:, :1])
    else:
        darkest = ref.amin(dim=1, keepdim=True)
        alpha = ((1.0 - darkest) / WHITE_TOLERANCE).clamp(0.0, 1.0)
    if reference.ndim == 3:
        return Layer(ref[0] * alpha[0], alpha[0])
    return Layer(ref * alpha, alpha)


def composite_reference(
    images: torch.Tensor, reference: torch.Tensor, mode: Mode = "paste", opacity: float = DEFAULT_OPACITY
) -> torch.Tensor:
    """Composite a reference picture onto the batch: paste its non-white pixels, or blend all of it."""
    _check_images(images)
    layer = reference_layer(reference, images.shape[-2], images.shape[-1], mode)
    return composite(images, layer, mode, opacity)

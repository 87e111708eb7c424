"""`apply_overlay(images, spec)`: draw the spec's layer at the batch's size and composite it."""

from __future__ import annotations

import torch

from .color import hex_to_rgb
from .composite import composite
from .horizon import horizon_layer
from .layer import Layer
from .layout import Box, layout_layer
from .palette import palette_layer, palette_tiles_layer
from .points import default_points, points_layer
from .spec import HorizonSpec, LayoutSpec, OverlaySpec, PaletteSpec, PointsSpec, StrokeSpec, parse_overlay
from .stroke import stroke_layer


def overlay_layer(spec: OverlaySpec, height: int, width: int, device: torch.device | None = None) -> Layer:
    """The spec's RGBA layer at (height, width), float32."""
    if isinstance(spec, HorizonSpec):
        return horizon_layer(
            height,
            width,
            spec.y,
            tilt_deg=spec.tilt_deg,
            width_px=spec.width_px,
            color=hex_to_rgb(spec.color),
            device=device,
        )
    if isinstance(spec, PaletteSpec):
        colors = [hex_to_rgb(c) for c in spec.colors]
        if spec.layout == "tiles":
            return palette_tiles_layer(height, width, colors, device=device)
        return palette_layer(height, width, colors, band_frac=spec.band_frac, device=device)
    if isinstance(spec, StrokeSpec):
        return stroke_layer(
            height, width, spec.width_px, curve=spec.curve, color=hex_to_rgb(spec.color), device=device
        )
    if isinstance(spec, PointsSpec):
        return points_layer(height, width, default_points(spec.a, spec.b), device=device)
    if isinstance(spec, LayoutSpec):
        boxes = [Box(*b.box, label=b.label) for b in spec.boxes]
        return layout_layer(height, width, boxes, device=device)
    raise TypeError(f"not an overlay spec: {spec!r}")


def apply_overlay(images: torch.Tensor, spec: OverlaySpec | dict) -> torch.Tensor:
    """Composite the overlay described by `spec` (a dataclass or its JSON dict) onto (B, 3, H, W) images."""
    parsed = parse_overlay(spec)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images: expected shape (B, 3, H, W), got {tuple(images.shape)}")
    layer = overlay_layer(parsed, images.shape[-2], images.shape[-1], images.device)
    return composite(images, layer, parsed.mode, parsed.blend_opacity)

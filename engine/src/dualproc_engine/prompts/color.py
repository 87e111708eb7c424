"""Colours as the JSON side writes them ("#rrggbb") and as tensors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

RGB = tuple[float, float, float]

LUMA: RGB = (0.2126, 0.7152, 0.0722)
"""Rec. 709 weights of R, G and B in lightness."""

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_hex_color(value: object) -> bool:
    return isinstance(value, str) and _HEX.match(value) is not None


def hex_to_rgb(value: str) -> RGB:
    """'#rrggbb' -> (r, g, b) in [0, 1]."""
    if not is_hex_color(value):
        raise ValueError(f"expected a colour '#rrggbb', got {value!r}")
    return (int(value[1:3], 16) / 255.0, int(value[3:5], 16) / 255.0, int(value[5:7], 16) / 255.0)


def rgb_to_hex(rgb: RGB) -> str:
    """(r, g, b) in [0, 1] -> '#rrggbb' (clipped, rounded)."""
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


def rgb_tensor(
    rgb: RGB, device: torch.device | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    import torch

    return torch.tensor(rgb, device=device, dtype=dtype or torch.float32)

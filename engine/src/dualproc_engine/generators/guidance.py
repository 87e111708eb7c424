"""Guidance, where a family has it: classifier-free guidance inside the SD3 and Sana adapters, the guidance
embedding of FLUX.1-dev and Sana-Sprint. Each such adapter has a `guidance_scale` attribute; recipes
(`training.guidance_scale`) and `dualproc generate --guidance-scale` set it here, and a family without one
says so in one line instead of silently ignoring it."""

from __future__ import annotations

from typing import Any

from ..errors import UserError


def set_guidance(gen: Any, scale: float | None, where: str = "training.guidance_scale") -> None:
    """Set the generator's guidance scale; None leaves the family's default."""
    if scale is None:
        return
    # FLUX.1-schnell shares FLUX.1-dev's adapter but has no guidance embedding to feed (`has_guidance`)
    if not hasattr(gen, "guidance_scale") or getattr(gen, "has_guidance", True) is False:
        raise UserError(f"{where}: this generator ({type(gen).__name__}) has no guidance to set; use null")
    if not scale > 0:
        raise UserError(f"{where}: expected a number > 0, got {scale!r}")
    gen.guidance_scale = float(scale)

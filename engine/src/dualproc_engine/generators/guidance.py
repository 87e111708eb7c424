"""Guidance, where a family has it: classifier-free guidance inside the SD3 and Sana adapters, the guidance
embedding of FLUX.1-dev and Sana-Sprint. Each such adapter has a `guidance_scale` attribute; recipes
(`training.guidance_scale`) and `dualproc generate --guidance-scale` set it here, and a family without one
says so in one line instead of silently ignoring it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..errors import UserError
from .base import PooledPromptEmbeds, cat_prompt_embeds


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


def classifier_free_guidance(
    model: Callable[[Tensor, Tensor, PooledPromptEmbeds], Tensor],
    x: Tensor,
    sigma: Tensor,
    prompt_embeds: PooledPromptEmbeds,
    unconditional: PooledPromptEmbeds,
    scale: float,
) -> Tensor:
    """v_uncond + g (v_cond - v_uncond) (Ho & Salimans 2022), as the stock pipelines combine predictions.

    One pass over [uncond; cond], batched as the pipelines batch it (the same float operations, so the same
    images); inside the gradient window both halves keep their graph. At g <= 1 it is the model alone, as the
    pipelines' `do_classifier_free_guidance` (`guidance_scale > 1`) has it."""
    if scale <= 1:
        return model(x, sigma, prompt_embeds)
    tokens = prompt_embeds.tokens
    uncond = unconditional.to(device=tokens.device, dtype=tokens.dtype)
    both = cat_prompt_embeds([uncond, prompt_embeds])
    assert isinstance(both, PooledPromptEmbeds)  # pooled in, pooled out (for mypy)
    v_uncond, v_cond = model(torch.cat([x, x]), sigma, both).chunk(2)
    return v_uncond + scale * (v_cond - v_uncond)

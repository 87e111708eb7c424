"""The gradient path of the reference, and the preservation regulariser that reuses it.

Per step: draw a window of `backprop_steps` consecutive sampling steps starting at a uniformly drawn step i
(the reference: one step, K = 1); roll out without gradient with the LoRA active up to i; run the window's
generator calls with gradient; form the clean estimate x0 = x_t - sigma_t v at the window's last step;
decode with gradient. The loop itself is `generators.base.sample_euler`, the visible Euler loop every
family shares; checkpointing is switched by context managers around the forward only.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..generators.base import PromptEmbeds, sample_euler
from ..prompts.color import LUMA
from .adapters import decode

PRESERVE_PROMPTS = (
    "At midday, a desert",
    "Under a grey sky, a field of snow with three mountains",
    "An outline drawing of a triangle and a star in delicate outlines",
    "A line drawing of a tree shape and two stars in lines of medium weight, ocean palette",
)
"""Default prompts the preservation regulariser keeps close to the base model: Scenes captions of both kinds.
A recipe's own prompts are removed from them; pass `preserve_prompts` to `teach` for another generator."""


def draw_window(num_inference_steps: int, backprop_steps: int, rng: random.Random) -> list[int]:
    """K consecutive steps starting uniformly in [0, N - K]; K = 1 is the reference's `randrange(N)`."""
    k = min(backprop_steps, num_inference_steps)
    start = rng.randrange(num_inference_steps - k + 1)
    return list(range(start, start + k))


def images_with_grad(
    gen: Any,
    prompt_embeds: PromptEmbeds,
    noise: Tensor,
    sigmas: Tensor,
    window: list[int],
    checkpointing: Collection[str],
) -> Tensor:
    """Images in [0, 1] whose graph reaches the LoRA through the window's generator calls and the decoder;
    `checkpointing` names the parts that recompute their activations in backward ("generator", "decoder")."""
    with gen.gradient_checkpointing("generator" in checkpointing):
        x0 = sample_euler(gen.velocity, noise, sigmas, prompt_embeds, window)
    return decode(gen, x0, "decoder" in checkpointing)


def base_images(
    gen: Any, prompt_embeds: PromptEmbeds, noise: Tensor, sigmas: Tensor, window: list[int]
) -> Tensor:
    """What the base model (adapter scale 0) gives on the same noise and window, without any graph."""

    def frozen(x: Tensor, sigma: Tensor, embeds: Any) -> Tensor:
        with torch.no_grad():  # sample_euler enables grad inside the window; nothing here needs it
            return gen.velocity(x, sigma, embeds)

    with torch.no_grad():
        return gen.decode(sample_euler(frozen, noise, sigmas, prompt_embeds, window))


COLOUR_DIRECTIONS = torch.tensor(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -1, 0], [0, 1, -1], [1, 0, -1]], dtype=torch.float32
)
"""RGB directions the colour distributions are compared along: the channels, brightness and three opponent
axes (a red-and-green picture and a yellow-and-black one agree on every channel's histogram, not on these)."""


def colour_quantiles(images: Tensor) -> Tensor:
    """(B, D, N): each image's pixel colours projected on `COLOUR_DIRECTIONS` and sorted: its colour
    distribution along each direction, without where the colours sit."""
    directions = F.normalize(COLOUR_DIRECTIONS.to(images), dim=1)
    projected = torch.einsum("dc,bcn->bdn", directions, images.flatten(2))
    return projected.sort(dim=2).values


def base_target(
    gen: Any,
    prompt_embeds: PromptEmbeds,
    noise: Tensor,
    sigmas: Tensor,
    window: list[int],
    lora_scale: float,
) -> Tensor:
    """The base model's images (adapter off) from the taught images' prompts, noise and window: what the
    colour and layout regularisers compare with. Costs one no-grad rollout."""
    gen.set_lora_scale(0.0)
    try:
        return base_images(gen, prompt_embeds, noise, sigmas, window)
    finally:
        gen.set_lora_scale(lora_scale)


def palette_loss(images: Tensor, target: Tensor) -> Tensor:
    """Sliced Wasserstein-2 distance (squared, along fixed directions) between the colours of the taught
    images and of the base model's (`base_target`): keeps the colours of the taught prompts themselves, in
    the same proportions, while the layout is free to move."""
    return F.mse_loss(colour_quantiles(images.float()), colour_quantiles(target.float()))


LAYOUT_CELLS = 16
"""The layout is compared on a 16 x 16 grid of cells: where light and dark sit, not the texture."""


def lightness_layout(images: Tensor) -> Tensor:
    """(B, 1, 16, 16): each image's lightness averaged over cells, less its mean: where light and dark sit,
    and how far apart they are."""
    luma = torch.einsum("c,bchw->bhw", torch.tensor(LUMA).to(images), images)[:, None]
    cells = F.adaptive_avg_pool2d(luma, LAYOUT_CELLS)
    return cells - cells.mean(dim=(2, 3), keepdim=True)


def layout_loss(images: Tensor, target: Tensor) -> Tensor:
    """Mean squared difference between the lightness layouts of the taught images and of the base model's
    (`base_target`), in units of each base image's spread of lightness: keeps where the horizon, the sky and
    the objects sit, and how much lighter one is than another, while the colours are free to change; the
    counterpart of `palette_loss` for a control of colour."""
    taught, base = lightness_layout(images.float()), lightness_layout(target.float())
    # The base image's own spread, so that a faint scene counts as much as a bold one; taking it from the base
    # (not each image its own) keeps the contrast too, so that one colour in two near lightnesses cannot pass
    # for the scene. The floor keeps a flat base image finite.
    spread = base.std(dim=(2, 3), keepdim=True) + 0.05
    return F.mse_loss(taught / spread, base / spread)


def diversity_loss(images: Tensor, target: Tensor) -> Tensor:
    """How much closer to each other `images` are than `target` (in teach the base model's images,
    `base_target`; in the generator's reflow the teacher's): the mean, over every two images of the batch, of
    the squared shrink of their mean absolute difference (none where they differ as much as their targets do,
    or more). Counters the collapse to one look."""
    taught, base = images.float().flatten(1), target.float().flatten(1)
    i, j = torch.triu_indices(len(taught), len(taught), offset=1)
    shrink = (base[i] - base[j]).abs().mean(1) - (taught[i] - taught[j]).abs().mean(1)
    return shrink.clamp_min(0).square().mean() if len(i) else taught.sum() * 0


def preserve_loss(
    gen: Any,
    prompt_embeds: PromptEmbeds,
    noise: Tensor,
    sigmas: Tensor,
    window: list[int],
    lora_scale: float,
    checkpointing: Collection[str],
) -> Tensor:
    """Mean squared pixel difference between the LoRA's and the base model's images on unrelated prompts.

    Both see the same noise and window, so the only difference is the adapter: this penalises what the
    control drags along where it should not apply. Costs one no-grad and one differentiable rollout.
    """
    gen.set_lora_scale(0.0)
    try:
        target = base_images(gen, prompt_embeds, noise, sigmas, window)
    finally:
        gen.set_lora_scale(lora_scale)
    return F.mse_loss(images_with_grad(gen, prompt_embeds, noise, sigmas, window, checkpointing), target)

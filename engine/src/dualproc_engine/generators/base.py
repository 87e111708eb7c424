"""The generator contract, and the flow sampler with a gradient window that every family shares.

A generator encodes prompts once (`encode_prompt`), then `sample(prompt_embeds, noise,
num_inference_steps, grad_steps=...)` returns images in [0, 1], shape (B, 3, H, W). The gradient path is
the reference's: a rollout without gradient (LoRA active) up to step i, one differentiable generator call
at step i, the clean estimate x0 = x_t - sigma_t * v, and a decode with gradient. Which step(s) carry
gradient is the `grad_steps` argument. A family implements four small methods (`encode_prompt`,
`velocity`, `decode`, `sigmas`) and the LoRA plumbing; `sample` is written once, here.

Flow convention (diffusers' FlowMatchEulerDiscreteScheduler, SD3, FLUX): x_t = (1 - sigma) x_0 + sigma
noise, the model predicts v = noise - x_0, sigma runs from 1 (noise) down to 0 (image).
"""

from __future__ import annotations

import contextlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

VelocityFn = Callable[[Tensor, Tensor, Tensor], Tensor]
"""(x_t, sigma (scalar tensor), prompt_embeds) -> v."""


def grad_window(grad_steps: Iterable[int] | None, num_inference_steps: int) -> list[int]:
    """Validated, sorted step indices that carry gradient ([] for none); they must be consecutive."""
    if grad_steps is None:
        return []
    steps = sorted({int(s) for s in grad_steps})
    if not steps:
        return []
    if steps[0] < 0 or steps[-1] >= num_inference_steps:
        raise ValueError(f"grad_steps must lie in [0, {num_inference_steps - 1}], got {steps}")
    if steps != list(range(steps[0], steps[-1] + 1)):
        # A no-grad step between two grad steps would cut the chain: the first one's gradient would be lost.
        raise ValueError(f"grad_steps must be consecutive steps, got {steps}")
    return steps


def draw_grad_step(num_inference_steps: int, rng: random.Random) -> list[int]:
    """The reference's choice: one step drawn uniformly, as a `grad_steps` value."""
    return [rng.randrange(num_inference_steps)]


def sample_euler(
    model: VelocityFn,
    x: Tensor,
    sigmas: Tensor,
    prompt_embeds: Tensor,
    grad_steps: Iterable[int] | None = None,
) -> Tensor:
    """Euler steps of a flow model over `sigmas` (k-diffusion's `sample_euler`, flux's `denoise`).

    Without `grad_steps`: the whole rollout under no_grad, returning the final x. With them: steps before
    the window run without gradient, the window's steps with it, and the loop stops at the window's last
    step returning the clean estimate there, x0 = x_t - sigma_t * v. When that is the last step this is
    exactly the final Euler step (sigma_next = 0), so one-step generators lose nothing.
    """
    num_steps = len(sigmas) - 1
    window = grad_window(grad_steps, num_steps)
    last = window[-1] if window else num_steps - 1
    for i in range(last + 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        with torch.set_grad_enabled(i in window):
            v = model(x, sigma, prompt_embeds)
            if window and i == last:
                return x - sigma * v
            x = x + (sigma_next - sigma) * v
    return x


class Generator(ABC):
    """A text-to-image flow generator with a LoRA the teach loop trains."""

    lora_target_modules: tuple[str, ...] = ()
    """Module name suffixes a LoRA attaches to (diffusers' names: to_q, to_k, ..., ff.net.2)."""

    # --- what a family implements -------------------------------------------------------------------
    @abstractmethod
    def encode_prompt(self, prompts: list[str]) -> Tensor:
        """Text embeddings for `prompts`, computed once and reused by every `sample` call."""

    @abstractmethod
    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: Tensor) -> Tensor:
        """The model's v prediction at noise level `sigma` (a scalar tensor in [0, 1])."""

    @abstractmethod
    def decode(self, latents: Tensor) -> Tensor:
        """Latents to images in [0, 1], (B, 3, H, W), differentiable."""

    @abstractmethod
    def make_noise(self, n: int, seed: int) -> Tensor:
        """`n` noise latents from `seed`: the same seed gives the same noise on any machine (CPU draw)."""

    @abstractmethod
    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The noise levels of a `num_inference_steps` schedule, from 1 down to 0 (length steps + 1)."""

    @abstractmethod
    def add_lora(self, lora_rank: int = 16, lora_alpha: int = 8, init: Any = "gaussian") -> None:
        """Attach a fresh LoRA to `lora_target_modules` (peft `init_lora_weights`); base weights frozen."""

    @abstractmethod
    def lora_parameters(self) -> list[torch.nn.Parameter]:
        """The trainable LoRA parameters (empty when no LoRA is attached)."""

    @abstractmethod
    def set_lora_scale(self, scale: float) -> None:
        """Adapter scale (the reference trains and evaluates at 5; 0 is the base model)."""

    @abstractmethod
    def save_lora(self, path: str | Path) -> Path:
        """Write the LoRA as diffusers-named safetensors into folder `path`; returns the file."""

    @abstractmethod
    def load_lora(self, path: str | Path) -> None:
        """Load a LoRA written by `save_lora` (a folder or the .safetensors file)."""

    @abstractmethod
    def gradient_checkpointing(self, enabled: bool = True) -> contextlib.AbstractContextManager[None]:
        """A context manager under which the differentiable call recomputes activations in backward."""

    # --- written once -------------------------------------------------------------------------------
    def sample(
        self,
        prompt_embeds: Tensor,
        noise: Tensor,
        num_inference_steps: int,
        grad_steps: Iterable[int] | None = None,
    ) -> Tensor:
        """Images in [0, 1] (B, 3, H, W): see `sample_euler` for what `grad_steps` does."""
        sigmas = self.sigmas(num_inference_steps)
        window = grad_window(grad_steps, num_inference_steps)
        latents = sample_euler(self.velocity, noise, sigmas, prompt_embeds, window)
        with torch.set_grad_enabled(bool(window)):
            return self.decode(latents)

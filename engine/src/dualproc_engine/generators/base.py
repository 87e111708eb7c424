"""The generator contract, and the flow sampler with a gradient window that every family shares.

A generator encodes prompts once (`encode_prompt`), then `sample(prompt_embeds, noise,
num_inference_steps, grad_steps=...)` returns images in [0, 1], shape (B, 3, H, W). The gradient path is
the reference's: a rollout without gradient (LoRA active) up to step i, one differentiable generator call
at step i, the clean estimate x0 = x_t - sigma_t * v, and a decode with gradient. Which step(s) carry
gradient is the `grad_steps` argument. A family implements four small methods (`encode_prompt`,
`velocity`, `decode`, `sigmas`) and the LoRA plumbing; `sample` is written once, here.

Flow convention (diffusers' FlowMatchEulerDiscreteScheduler, SD3, FLUX): x_t = (1 - sigma) x_0 + sigma
noise, the model predicts v = noise - x_0, and a schedule's sigmas decrease to 0 (image). They start at 1
(pure noise) for flow models; a model trained another way starts where its training did (SD-Turbo, a VP
model mapped into this convention, at 0.936), and `make_noise` places the noise at that first level.

Prompt embeddings are whatever a family's `encode_prompt` returns and its `velocity` takes: one tensor of
token embeddings (B, L, D) for the embedded generator and SD-Turbo, or `PooledPromptEmbeds` (token embeddings
plus pooled ones, SD3) where the model needs both. Either supports what callers do with a batch of prompts:
`.shape[0]`, indexing and slicing along the batch, `repeat_interleave(n, dim=0)`, `.to(device)`, and
`cat_prompt_embeds`.
"""

from __future__ import annotations

import contextlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from torch import Tensor


@dataclass(frozen=True)
class PooledPromptEmbeds:
    """Token embeddings (B, L, D) and pooled embeddings (B, P) of B prompts, kept in step.

    diffusers' names: `prompt_embeds` and `pooled_prompt_embeds` (SD3 and FLUX condition on both; SDXL too).
    Batch operations act on both halves along dim 0, so the teach loop indexes a batch of these exactly as it
    indexes a tensor of token embeddings.
    """

    tokens: Tensor
    pooled: Tensor

    def __post_init__(self) -> None:
        if self.tokens.shape[0] != self.pooled.shape[0]:
            raise ValueError(
                f"token and pooled embeddings disagree on the batch: {self.tokens.shape[0]} != "
                f"{self.pooled.shape[0]}"
            )

    @property
    def shape(self) -> torch.Size:
        """The token embeddings' shape: callers read the batch size as `.shape[0]`."""
        return self.tokens.shape

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def __getitem__(self, index: Any) -> PooledPromptEmbeds:
        """Rows of the batch (an int list, a slice, an index tensor), in both halves."""
        return PooledPromptEmbeds(self.tokens[index], self.pooled[index])

    def repeat_interleave(self, repeats: int, dim: int = 0) -> PooledPromptEmbeds:
        if dim != 0:
            raise ValueError("PooledPromptEmbeds repeat along the batch (dim 0) only")
        return PooledPromptEmbeds(
            self.tokens.repeat_interleave(repeats, dim=0), self.pooled.repeat_interleave(repeats, dim=0)
        )

    def to(self, *args: Any, **kwargs: Any) -> PooledPromptEmbeds:
        """Both halves moved (or cast) as `Tensor.to` would."""
        return PooledPromptEmbeds(self.tokens.to(*args, **kwargs), self.pooled.to(*args, **kwargs))


PromptEmbeds = Tensor | PooledPromptEmbeds
"""What `encode_prompt` returns: token embeddings alone, or with pooled ones."""
E = TypeVar("E", bound=PromptEmbeds)
"""A family's prompt-embedding type."""

VelocityFn = Callable[[Tensor, Tensor, E], Tensor]
"""(x_t, sigma (scalar tensor), prompt_embeds) -> v."""


def cat_prompt_embeds(parts: Sequence[PromptEmbeds]) -> PromptEmbeds:
    """Batches of prompt embeddings of one family concatenated along the batch (`torch.cat` for tensors)."""
    if not parts:
        raise ValueError("cat_prompt_embeds needs at least one batch")
    pooled = [p for p in parts if isinstance(p, PooledPromptEmbeds)]
    if not pooled:
        return torch.cat([p for p in parts if isinstance(p, Tensor)])
    if len(pooled) != len(parts):
        raise TypeError("cat_prompt_embeds: pooled and plain prompt embeddings cannot be mixed")
    return PooledPromptEmbeds(torch.cat([p.tokens for p in pooled]), torch.cat([p.pooled for p in pooled]))


@contextlib.contextmanager
def checkpointing(model: Any, enabled: bool) -> Iterator[None]:
    """Recompute a diffusers model's block activations in backward: less memory, one more forward of time.

    Any diffusers `ModelMixin` that supports it (UNets, SD3's and FLUX's transformers): it checkpoints its
    blocks only while grad is enabled, so the no-grad rollout before the gradient window is unaffected. The
    previous setting is restored on exit.
    """
    was = model.is_gradient_checkpointing
    if enabled:
        model.enable_gradient_checkpointing()
    else:
        model.disable_gradient_checkpointing()
    try:
        yield
    finally:
        if was:
            model.enable_gradient_checkpointing()
        else:
            model.disable_gradient_checkpointing()


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
    model: VelocityFn[E],
    x: Tensor,
    sigmas: Tensor,
    prompt_embeds: E,
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


def latent_side(
    resolution_px: int | None, native: int, vae_scale_factor: int, latent_multiple: int, family: str
) -> int:
    """Latent pixels per side for images of `resolution_px` (None: the model's `native` latent side).

    The side must be a whole number of latent pixels that the denoiser can also split into its patches or
    halve at each down block (`latent_multiple`); anything else is a ValueError naming what would do."""
    if resolution_px is None:
        return native
    multiple = vae_scale_factor * latent_multiple
    if isinstance(resolution_px, bool) or resolution_px <= 0 or resolution_px % multiple:
        raise ValueError(f"{family} draws sides that are multiples of {multiple} px, not {resolution_px}")
    return resolution_px // vae_scale_factor


class Generator(ABC, Generic[E]):
    """A text-to-image flow generator with a LoRA the teach loop trains; `E` is its prompt-embedding type."""

    lora_target_modules: tuple[str, ...] = ()
    """Module name suffixes a LoRA attaches to (diffusers' names: to_q, to_k, ..., ff.net.2)."""
    denoiser: Any
    """The network the LoRA sits on (a diffusers UNet or transformer, with peft's adapter methods)."""

    @property
    def device(self) -> torch.device:
        """Where the denoiser is, which is where the work happens."""
        return next(self.denoiser.parameters()).device

    # --- what a family implements -------------------------------------------------------------------
    @abstractmethod
    def encode_prompt(self, prompts: list[str]) -> E:
        """Text embeddings for `prompts` (one row per prompt), computed once and reused by every `sample`."""

    @abstractmethod
    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: E) -> Tensor:
        """The model's v prediction at noise level `sigma` (a scalar tensor in [0, 1])."""

    @abstractmethod
    def decode(self, latents: Tensor) -> Tensor:
        """Latents to images in [0, 1], (B, 3, H, W), differentiable."""

    @abstractmethod
    def make_noise(self, n: int, seed: int) -> Tensor:
        """`n` noise latents from `seed`, at the schedule's first level: the same seed gives the same noise on
        any machine (CPU draw)."""

    @abstractmethod
    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The noise levels of a `num_inference_steps` schedule, decreasing to 0 (length steps + 1).

        They start at 1 for a flow model and below 1 for a model trained with a smaller largest noise level
        (SD-Turbo: 0.936); `make_noise` returns noise at `sigmas(n)[0]` for every n."""

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
        prompt_embeds: E,
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

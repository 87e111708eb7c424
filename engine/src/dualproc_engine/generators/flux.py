"""FLUX.1-schnell and FLUX.1-dev (a diffusers `FluxPipeline`) behind the generator contract.

Components are diffusers' own: `FluxTransformer2DModel` (an MMDiT: double-stream blocks with joint attention,
then single-stream blocks), `AutoencoderKL` with 16 latent channels and a scaling and shift factor,
`CLIPTextModel` (CLIP-L: only its pooled output is used), `T5EncoderModel` (T5-XXL: its tokens), and
`FlowMatchEulerDiscreteScheduler` for the noise levels.

FLUX.1 is a rectified-flow model (Black Forest Labs, "FLUX.1" and their reference code `flux/sampling.py`):
x_t = (1 - t) x0 + t eps and the transformer predicts v = eps - x0 directly, the contract's convention, so
`velocity` maps nothing. Everything else FLUX-specific stays inside this adapter, so the contract's latents
are plain (B, 16, h, w) tensors like every family's:
- packing: the transformer sees 2x2 latent patches as a sequence of (h/2 * w/2) tokens of 64 channels
  (`FluxPipeline._pack_latents`); `velocity` packs x and unpacks v, a pure permutation, so the Euler steps
  of the shared sampler commute with it exactly;
- positions: text ids are zeros (one row per T5 token), latent image ids are (0, row, column) of the packed
  grid (`FluxPipeline._prepare_latent_image_ids`); both depend only on sequence length and image size;
- the schedule: n levels linspace(1, 1/n, n) as `FluxPipeline.__call__` passes them, through the scheduler:
  schnell's config has no shift (shift 1, no dynamic shifting), dev's shifts them by the resolution-dependent
  mu of `calculate_shift` (`flux_shift` here) with `use_dynamic_shifting`;
- dev's guidance embedding: a distilled guidance value the transformer takes as an input (`guidance_embeds`
  in its config). The contract has no argument for it, so it is fixed per adapter (`guidance_scale`,
  default 3.5, FluxPipeline's default); schnell has no guidance embedding and ignores it.

There is no classifier-free guidance (FLUX.1 is guidance-distilled; the pipeline's true CFG is off by
default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .base import Generator, PooledPromptEmbeds, latent_side
from .folders import find_pipeline_folder, pipeline_class
from .lora import DiffusersLora

LORA_TARGET_MODULES = (
    "to_q",
    "to_k",
    "to_v",
    "to_out.0",
    # The text stream's projections in the double-stream blocks' joint attention: diffusers' FLUX LoRA
    # converters (loaders/lora_conversion_utils.py) name them so. Single-stream blocks have no to_out.
    "add_q_proj",
    "add_k_proj",
    "add_v_proj",
    "to_add_out",
)
PIPELINE_CLASS = "FluxPipeline"
FLUX_FAMILY = "flux"
RESOLUTION_PX = 512
"""The reference trains FLUX.1 at 512 x 512 (the pipeline's own default is 1024)."""
GUIDANCE_SCALE = 3.5
"""FLUX.1-dev's distilled guidance: `FluxPipeline.__call__`'s default."""


# --- finding and loading a pipeline ------------------------------------------------------------------------
def flux_presets() -> tuple[str, ...]:
    """The presets of family flux (`presets.py`): flux-schnell, flux-dev."""
    from ..presets import PRESETS

    return tuple(name for name, spec in PRESETS.items() if spec.family == FLUX_FAMILY)


def is_flux_folder(folder: Path) -> bool:
    """Whether `folder` holds a diffusers `FluxPipeline` (its model_index.json says so)."""
    return pipeline_class(folder) == PIPELINE_CLASS


def find_flux_folder(name: str) -> Path | None:
    """The folder of a FLUX.1 pipeline that `name` (a flux preset, a cached repo id or a folder) means, or
    None when `name` is not one; a missing flux preset raises `ModelMissingError` (`folders.py`)."""
    return find_pipeline_folder(name, flux_presets(), (PIPELINE_CLASS,))


def load_flux_pipeline(folder: str | Path, dtype: torch.dtype = torch.float32) -> Any:
    """A `FluxPipeline` from `folder`, offline, in `dtype` (float32 by default: autocast picks the compute
    dtype on a GPU, as for the other adapters)."""
    from diffusers import FluxPipeline

    return FluxPipeline.from_pretrained(str(folder), local_files_only=True, dtype=dtype)


# --- FLUX's latent layout and schedule ----------------------------------------------------------------------
def pack_latents(latents: Tensor) -> Tensor:
    """(B, C, h, w) -> (B, h/2 * w/2, 4C): 2x2 patches as tokens, channels then the patch's rows and columns
    inside a token (`FluxPipeline._pack_latents`)."""
    b, c, h, w = latents.shape
    patches = latents.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return patches.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_latents(tokens: Tensor, h: int, w: int) -> Tensor:
    """The inverse of `pack_latents` for an h x w latent grid (`FluxPipeline._unpack_latents`)."""
    b, _, packed = tokens.shape
    c = packed // 4
    patches = tokens.reshape(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return patches.reshape(b, c, h, w)


def latent_image_ids(h: int, w: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """(h/2 * w/2, 3) rotary positions of the packed tokens: (0, row, column), row-major
    (`FluxPipeline._prepare_latent_image_ids`; the first axis is 0 for generated images)."""
    rows, cols = torch.meshgrid(torch.arange(h // 2), torch.arange(w // 2), indexing="ij")
    ids = torch.stack([torch.zeros_like(rows), rows, cols], dim=-1).reshape(-1, 3)
    return ids.to(device=device, dtype=dtype)


def flux_shift(image_seq_len: int, config: Any) -> float:
    """mu of FLUX.1-dev's resolution-dependent shift, as `FluxPipeline` computes it (`calculate_shift`):
    linear in the number of packed image tokens between (base_image_seq_len, base_shift) and
    (max_image_seq_len, max_shift), with the pipeline's fallbacks (256, 0.5, 4096, 1.15)."""
    base_len = config.get("base_image_seq_len", 256)
    max_len = config.get("max_image_seq_len", 4096)
    base_shift = config.get("base_shift", 0.5)
    max_shift = config.get("max_shift", 1.15)
    slope = (max_shift - base_shift) / (max_len - base_len)
    return float(image_seq_len * slope + (base_shift - slope * base_len))


# --- the adapter -------------------------------------------------------------------------------------------
class FluxGenerator(DiffusersLora, Generator[PooledPromptEmbeds]):
    """A FLUX.1 pipeline as a flow generator with a LoRA on the transformer's attention projections.

    `resolution_px`: the side of the images it draws (a multiple of 16 for the released VAE; None:
    `RESOLUTION_PX`, read when the generator is made);
    `guidance_scale`: FLUX.1-dev's distilled guidance (ignored by schnell, which has no guidance embedding);
    `max_sequence_length`: T5 tokens per prompt, by default 256 for schnell and 512 for dev, as Black Forest
    Labs' reference code uses them (`flux/cli.py`: `max_length=256 if name == "flux-schnell" else 512`).
    """

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = "transformer"
    lora_pipeline_class = "FluxPipeline"

    def __init__(
        self,
        pipeline: Any,
        resolution_px: int | None = None,
        guidance_scale: float = GUIDANCE_SCALE,
        max_sequence_length: int | None = None,
    ):
        self.pipeline = pipeline
        self.transformer = pipeline.transformer
        self.denoiser = self.transformer
        self.vae = pipeline.vae
        self.text_encoder = pipeline.text_encoder  # CLIP-L: pooled embedding
        self.text_encoder_2 = pipeline.text_encoder_2  # T5: token embeddings
        # Not `self.tokenizer`: the teach loop warns about prompts holding the tokenizer's unknown id, and
        # CLIP's unknown id is its end-of-text id, in every prompt (byte-level BPE has no unknown words).
        self._tokenizer, self._tokenizer_2 = pipeline.tokenizer, pipeline.tokenizer_2
        self.scheduler = pipeline.scheduler
        self.guidance_scale = float(guidance_scale)
        self.has_guidance = bool(self.transformer.config.guidance_embeds)
        if max_sequence_length is None:
            max_sequence_length = 512 if self.has_guidance else 256
        self.max_sequence_length = max_sequence_length
        # The VAE halves the side per down block after the first (8 for the released one); packing halves
        # it once more, so the image side must be a multiple of twice the VAE's factor.
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        # packing 2 x 2 latent pixels into one token: the latent side must be even
        native = RESOLUTION_PX // self.vae_scale_factor
        self.latent_side = latent_side(resolution_px, native, self.vae_scale_factor, 2, "FLUX.1")
        self.resolution_px = self.latent_side * self.vae_scale_factor
        self.adapter_name = "default"
        self._has_lora = False
        for module in (self.transformer, self.vae, self.text_encoder, self.text_encoder_2):
            module.requires_grad_(False)  # only a LoRA ever trains

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs: Any) -> FluxGenerator:
        """A generator from a `FluxPipeline` folder; `kwargs` go to the constructor (resolution_px, ...)."""
        return cls(load_flux_pipeline(folder), **kwargs)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.transformer.parameters()).dtype

    # --- contract ------------------------------------------------------------------------------------
    def encode_prompt(self, prompts: list[str]) -> PooledPromptEmbeds:
        """T5's tokens and CLIP's pooled embedding, as `FluxPipeline.encode_prompt` forms them."""
        with torch.no_grad():
            pooled = self._clip_pooled(prompts)
            tokens = self._t5_tokens(prompts)
        return PooledPromptEmbeds(tokens, pooled)

    def _clip_pooled(self, prompts: list[str]) -> Tensor:
        """CLIPTextModel's pooled output (the end-of-text token's state) of max-length padded prompts."""
        ids = self._tokenizer(
            prompts,
            padding="max_length",
            max_length=self._tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.text_encoder.device)
        return self.text_encoder(ids, output_hidden_states=False).pooler_output.to(self.device)

    def _t5_tokens(self, prompts: list[str]) -> Tensor:
        """T5's last hidden states of prompts padded (and truncated) to `max_sequence_length` tokens."""
        ids = self._tokenizer_2(
            prompts,
            padding="max_length",
            max_length=self.max_sequence_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.text_encoder_2.device)
        return self.text_encoder_2(ids, output_hidden_states=False)[0].to(self.device)

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """The transformer's v = eps - x0 on plain (B, 16, h, w) latents: packed in, unpacked out."""
        b, _, h, w = x.shape
        sigma = torch.as_tensor(sigma, device=x.device).to(torch.float32).reshape(-1)
        # The pipeline hands the transformer the scheduler's timestep (sigma x 1000) divided by 1000, which
        # it multiplies by 1000 again; going the same way keeps the float32 round-off identical.
        timestep = (sigma * self.scheduler.config.num_train_timesteps).expand(b).to(x.dtype) / 1000
        guidance = None
        if self.has_guidance:
            guidance = torch.full((b,), self.guidance_scale, device=x.device, dtype=torch.float32)
        tokens = prompt_embeds.tokens
        v = self.transformer(
            hidden_states=pack_latents(x),
            timestep=timestep,
            guidance=guidance,
            pooled_projections=prompt_embeds.pooled,
            encoder_hidden_states=tokens,
            txt_ids=torch.zeros(tokens.shape[1], 3, device=x.device, dtype=tokens.dtype),
            img_ids=latent_image_ids(h, w, x.device, x.dtype),
            return_dict=False,
        )[0]
        return unpack_latents(v, h, w)

    def decode(self, latents: Tensor) -> Tensor:
        """VAE decode: latents are stored as (z - shift_factor) * scaling_factor, so that is undone first."""
        config = self.vae.config
        latents = latents / config.scaling_factor + config.shift_factor
        return (self.vae.decode(latents.to(self.vae.dtype)).sample / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Unit gaussian (B, 16, h, w) latents from `seed` (CPU draw), in the transformer's dtype as the
        pipeline keeps them: every FLUX schedule starts at level 1, pure noise."""
        channels = self.transformer.config.in_channels // 4  # the transformer sees 2x2 patches
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(n, channels, self.latent_side, self.latent_side, generator=g)
        return noise.to(device=self.device, dtype=self.dtype)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The levels `FluxPipeline` steps over: linspace(1, 1/n, n) through the scheduler (no shift for
        schnell; dev's resolution-dependent shift), then 0."""
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        levels = np.linspace(1.0, 1 / num_inference_steps, num_inference_steps)
        mu = flux_shift((self.latent_side // 2) ** 2, self.scheduler.config)
        self.scheduler.set_timesteps(num_inference_steps, device=self.device, sigmas=levels, mu=mu)
        return self.scheduler.sigmas.to(torch.float32)

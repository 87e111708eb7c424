"""SDXL-Turbo (and any Stable Diffusion XL pipeline) behind the flow-convention generator contract.

Components are diffusers' own: `UNet2DConditionModel` with `addition_embed_type="text_time"`, `AutoencoderKL`,
`CLIPTextModel` (CLIP ViT-L) and `CLIPTextModelWithProjection` (OpenCLIP ViT-bigG) with their two tokenizers,
and the scheduler's `alphas_cumprod` (nothing else of the scheduler is used).

SDXL is a VP / epsilon model like SD 2.x, so it enters the flow convention exactly as SD-Turbo does: the
mapping (x_vp = (a + b) x_f, the timestep whose sigma is s / (1 - s), (x0, eps) from the UNet's output,
v = eps - x0) and the trailing schedule are `sd_turbo.py`'s `vp_velocity` and `trailing_flow_sigmas`, shared.
What SDXL adds (Podell et al. 2023, "SDXL: Improving Latent Diffusion Models for High-Resolution Image
Synthesis", sec. 2.1 and 2.2) is conditioning, formed as `StableDiffusionXLPipeline` forms it:
- token embeddings: each encoder's penultimate hidden states of max-length padded prompts (77 tokens),
  concatenated along the width (768 + 1280 = 2048 in SDXL);
- pooled embeddings: the second encoder's projected pooled output (`text_embeds`, 1280 wide);
- `add_time_ids`: the micro-conditioning (original size, crop top-left, target size) = (H, W, 0, 0, H, W)
  for text-to-image at the pipeline's default resolution (the UNet's sample size times the VAE's factor).
The first two travel as a `PooledPromptEmbeds` (`base.py`); the third depends only on the resolution, which
is fixed per generator, so `velocity` builds it (per-image crops would need a third field in the container).

There is no classifier-free guidance: SDXL-Turbo is meant for guidance 0 (it was distilled without it).
Its folder ships an `EulerAncestralDiscreteScheduler`; the contract's sampler is deterministic Euler over the
same trailing levels, which is the same at one step (ancestral noise is zero when the next level is 0) and
`EulerDiscreteScheduler`'s sampling at several.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import Generator, PooledPromptEmbeds, latent_side
from .folders import find_pipeline_folder, pipeline_class
from .lora import DiffusersLora
from .sd_turbo import flow_level, sigma_table, trailing_flow_sigmas, vp_velocity, weights_variant

LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")
PIPELINE_CLASS = "StableDiffusionXLPipeline"
SDXL_PRESETS = ("sdxl-turbo",)
"""Presets this adapter serves (sd-turbo, of the same preset family, is SD 2.1's layout: `sd_turbo.py`)."""


# --- finding and loading a pipeline ------------------------------------------------------------------------
def is_sdxl_folder(folder: Path) -> bool:
    """Whether `folder` holds a diffusers `StableDiffusionXLPipeline` (its model_index.json says so)."""
    return pipeline_class(folder) == PIPELINE_CLASS


def find_sdxl_folder(name: str) -> Path | None:
    """The folder of an SDXL pipeline that `name` (the sdxl-turbo preset, a cached repo id or a folder) means,
    or None when `name` is not one; a missing sdxl-turbo raises `ModelMissingError` (`folders.py`)."""
    return find_pipeline_folder(name, SDXL_PRESETS, (PIPELINE_CLASS,))


def load_sdxl_pipeline(folder: str | Path) -> Any:
    """A `StableDiffusionXLPipeline` from `folder`, offline, in float32, without the invisible watermark
    (a post-processing of numpy images that is not differentiable; the contract returns tensors)."""
    from diffusers import StableDiffusionXLPipeline

    folder = Path(folder)
    return StableDiffusionXLPipeline.from_pretrained(
        str(folder),
        local_files_only=True,
        add_watermarker=False,
        variant=weights_variant(folder),
        dtype=torch.float32,  # upcasts an fp16-only download; autocast picks the compute dtype
    )


# --- SDXL's conditioning -----------------------------------------------------------------------------------
def micro_conditioning(height: int, width: int) -> list[int]:
    """SDXL's size and crop conditioning for a whole, uncropped image drawn at (height, width):
    original size, crop top-left, target size (Podell et al. 2023, sec. 2.2), as the stock pipeline's
    `_get_add_time_ids` lists it when none of them is given."""
    return [height, width, 0, 0, height, width]


def check_added_embedding(unet: Any, pooled_dim: int, n_time_ids: int) -> None:
    """Refuse a UNet whose added embedding does not take `n_time_ids` size ids and a `pooled_dim` pooled
    embedding (the stock pipeline checks the same before sampling), or that needs a guidance embedding."""
    config = unet.config
    if config.addition_embed_type != "text_time":
        raise ValueError(f"UNet addition_embed_type {config.addition_embed_type!r}: SDXL needs 'text_time'")
    if config.time_cond_proj_dim is not None:
        # LCM-distilled UNets take a guidance-scale embedding (`timestep_cond`) that the contract has no
        # argument for; SDXL-Turbo has none.
        raise ValueError("UNet with time_cond_proj_dim (a guidance embedding, LCM): not supported")
    expected = unet.add_embedding.linear_1.in_features
    passed = config.addition_time_embed_dim * n_time_ids + pooled_dim
    if expected != passed:
        raise ValueError(
            f"UNet added embedding takes {expected} features, but {n_time_ids} size ids and a "
            f"{pooled_dim}-wide pooled embedding give {passed}"
        )


# --- the adapter -------------------------------------------------------------------------------------------
class SDXLTurboGenerator(DiffusersLora, Generator[PooledPromptEmbeds]):
    """A Stable Diffusion XL pipeline (SDXL-Turbo first of all) as a flow generator with a UNet LoRA."""

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = "unet"
    lora_pipeline_class = "StableDiffusionXLPipeline"

    def __init__(self, pipeline: Any, resolution_px: int | None = None):
        self.pipeline = pipeline
        self.unet = pipeline.unet
        self.latent_side = latent_side(
            resolution_px,
            int(pipeline.default_sample_size),
            int(pipeline.vae_scale_factor),
            2 ** (len(self.unet.config.block_out_channels) - 1),
            "SDXL",
        )
        """Latent pixels per side: `resolution_px` / the VAE's factor (None: the pipeline's default size)."""
        self.denoiser = self.unet
        self.vae = pipeline.vae
        # The refiner's layout has no first encoder; the stock pipeline then encodes with the second only.
        self.text_encoders = tuple(
            e for e in (pipeline.text_encoder, pipeline.text_encoder_2) if e is not None
        )
        # Not `self.tokenizer`: the teach loop warns about prompts holding the tokenizer's unknown id, and
        # CLIP's unknown id is its end-of-text id, in every prompt (byte-level BPE has no unknown words).
        self._tokenizers = tuple(
            t
            for t, e in (
                (pipeline.tokenizer, pipeline.text_encoder),
                (pipeline.tokenizer_2, pipeline.text_encoder_2),
            )
            if e is not None
        )
        self.scheduler = pipeline.scheduler
        self.prediction_type = str(self.scheduler.config.prediction_type)
        if not hasattr(self.scheduler, "alphas_cumprod"):
            raise ValueError(
                f"scheduler {type(self.scheduler).__name__} has no alphas_cumprod: not a VP model"
            )
        self._sigma_table = sigma_table(self.scheduler.alphas_cumprod)
        side = self.latent_side * pipeline.vae_scale_factor
        self.time_ids = micro_conditioning(side, side)
        check_added_embedding(self.unet, pipeline.text_encoder_2.config.projection_dim, len(self.time_ids))
        self.adapter_name = "default"
        self._has_lora = False
        for module in (self.unet, self.vae, *self.text_encoders):
            module.requires_grad_(False)  # only a LoRA ever trains

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs: Any) -> SDXLTurboGenerator:
        """A generator from a `StableDiffusionXLPipeline` folder; `kwargs` go to the constructor."""
        return cls(load_sdxl_pipeline(folder), **kwargs)

    @property
    def start_level(self) -> float:
        """The flow level of the last training timestep: where every trailing schedule starts (< 1)."""
        return float(flow_level(self._sigma_table[-1]))

    # --- contract ------------------------------------------------------------------------------------
    def encode_prompt(self, prompts: list[str]) -> PooledPromptEmbeds:
        """Token and pooled embeddings of `prompts` as `StableDiffusionXLPipeline.encode_prompt` forms them
        (no CFG, no clip skip): penultimate hidden states side by side, the last encoder's projection."""
        with torch.no_grad():
            outputs = [
                self._clip_hidden(t, e, prompts)
                for t, e in zip(self._tokenizers, self.text_encoders, strict=True)
            ]
        tokens = torch.cat([out.hidden_states[-2] for out in outputs], dim=-1)
        return PooledPromptEmbeds(tokens, outputs[-1].text_embeds)

    def _clip_hidden(self, tokenizer: Any, encoder: Any, prompts: list[str]) -> Any:
        """One CLIP encoder's output (all hidden states) on max-length padded prompts (its own length)."""
        ids = tokenizer(
            prompts,
            padding="max_length",
            max_length=tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.device)
        return encoder(ids, output_hidden_states=True)

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """v = eps - x0 at flow level `sigma`, from the UNet's prediction given tokens, pooled embeddings and
        the resolution's `add_time_ids` (`sd_turbo.vp_velocity` does the mapping)."""
        tokens = prompt_embeds.tokens
        time_ids = torch.tensor([self.time_ids], dtype=tokens.dtype, device=x.device).expand(x.shape[0], -1)
        added = {"text_embeds": prompt_embeds.pooled, "time_ids": time_ids}
        return vp_velocity(
            lambda x_vp, t: self.unet(x_vp, t, encoder_hidden_states=tokens, added_cond_kwargs=added).sample,
            x,
            sigma,
            self._sigma_table,
            self.prediction_type,
        )

    def decode(self, latents: Tensor) -> Tensor:
        """VAE decode to [0, 1], the latents unscaled as the stock pipeline does: by the VAE's per-channel
        latents_mean / latents_std when its config has them, by scaling_factor alone otherwise."""
        config = self.vae.config
        mean, std = getattr(config, "latents_mean", None), getattr(config, "latents_std", None)
        if mean is not None and std is not None:
            shape = (1, -1, 1, 1)
            mean_t = torch.tensor(mean, dtype=latents.dtype, device=latents.device).view(shape)
            std_t = torch.tensor(std, dtype=latents.dtype, device=latents.device).view(shape)
            latents = latents * std_t / config.scaling_factor + mean_t
        else:
            latents = latents / config.scaling_factor
        return (self.vae.decode(latents).sample / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Gaussian noise from `seed` (CPU draw), placed at the schedule's first level: `start_level` * eps,
        diffusers' `init_noise_sigma` for trailing spacing in flow units (as in `sd_turbo.py`)."""
        side = self.latent_side
        g = torch.Generator().manual_seed(seed)
        eps = torch.randn(n, self.unet.config.in_channels, side, side, generator=g)
        return (eps * self.start_level).to(self.device)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        return trailing_flow_sigmas(num_inference_steps, self._sigma_table).to(self.device)

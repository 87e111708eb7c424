"""SD-Turbo (and any Stable Diffusion 1.x / 2.x pipeline) behind the flow-convention generator contract.

Components are diffusers' own: `UNet2DConditionModel`, `AutoencoderKL`, `CLIPTextModel` + `CLIPTokenizer`, and
the scheduler's `alphas_cumprod` (the DDPM noise table; nothing else of the scheduler is used).

The model is a VP / epsilon model (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"):
x_vp = a x0 + b eps with a = sqrt(abar_t), b = sqrt(1 - abar_t). The contract is the flow convention
(`base.py`): x_f = (1 - s) x0 + s eps, v = eps - x0. Dividing x_vp by (a + b) gives exactly a flow latent,

    x_vp / (a + b) = a / (a + b) x0 + b / (a + b) eps,   so   s = b / (a + b),   1 - s = a / (a + b).

In k-diffusion's terms (Karras et al. 2022, "Elucidating the Design Space ...", table 1; diffusers'
`EulerDiscreteScheduler`), sigma = b / a, the Euler latent is x_k = x0 + sigma eps = x_vp / a, and
s = sigma / (1 + sigma), x_f = x_k / (1 + sigma). A flow Euler step and a k-diffusion Euler step move the same
(x0, eps) prediction to the next level, so sampling over the same levels gives the same images as diffusers'
Euler sampler (the tests check this against a stock `StableDiffusionPipeline`).

`velocity(x_f, s, emb)`: sigma = s / (1 - s); the continuous timestep whose sigma that is (inverse of the
scheduler's linear interpolation of sigma over the integer timesteps); the UNet on x_vp = x_f (a + b); its
output turned into (x0, eps) by `prediction_type` (epsilon as SD-Turbo, v_prediction as SD 2.1-768, sample);
v = eps - x0. `sigmas(n)`: the flow levels of n "trailing" timesteps (Lin et al. 2023, "Common Diffusion Noise
Schedules and Sample Steps are Flawed", table 2), which start at the last training timestep for every n (999:
SD-Turbo's one step), then 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import Generator, latent_side
from .folders import find_pipeline_folder, pipeline_class
from .lora import DiffusersLora

LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")
PIPELINE_CLASS = "StableDiffusionPipeline"
SD_PRESETS = ("sd-turbo",)
"""Presets this adapter serves (sdxl-turbo has its own, `sdxl.py`)."""
SNAP_TIMESTEPS = 1e-3
"""A recovered timestep this close to an integer is that integer: float32 round-off of a schedule level
moves it by ~2e-4 (at t = 999), which the UNet's sinusoidal time embedding would otherwise see."""


# --- finding and loading a pipeline ------------------------------------------------------------------------
def is_sd_folder(folder: Path) -> bool:
    """Whether `folder` holds a diffusers `StableDiffusionPipeline` (its model_index.json says so)."""
    return pipeline_class(folder) == PIPELINE_CLASS


def find_sd_folder(name: str) -> Path | None:
    """The folder of a Stable Diffusion pipeline that `name` (an SD preset, a cached repo id or a folder)
    means, or None when `name` is not one; a missing SD preset raises `ModelMissingError` (`folders.py`)."""
    return find_pipeline_folder(name, SD_PRESETS, (PIPELINE_CLASS,))


def load_sd_pipeline(folder: str | Path) -> Any:
    """A `StableDiffusionPipeline` from `folder`, offline, without the safety checker, in float32."""
    from diffusers import StableDiffusionPipeline

    folder = Path(folder)
    return StableDiffusionPipeline.from_pretrained(
        str(folder),
        local_files_only=True,
        safety_checker=None,  # SD 1.x folders ship one (1.2 GB); it is not differentiable and not needed
        feature_extractor=None,
        requires_safety_checker=False,
        variant=weights_variant(folder),
        dtype=torch.float32,  # upcasts an fp16-only download; autocast picks the compute dtype
    )


def weights_variant(folder: Path) -> str | None:
    """The weights variant to load: fp16 when the UNet has only fp16 weights (an fp16-only download).

    Shared by the UNet families (SD 1.x / 2.x here, SDXL in `sdxl.py`), whose folders lay the UNet out alike.
    """
    unet = folder / "unet"
    full = unet / "diffusion_pytorch_model.safetensors"
    half = unet / "diffusion_pytorch_model.fp16.safetensors"
    return "fp16" if half.is_file() and not full.is_file() else None


# --- the VP <-> flow maths ---------------------------------------------------------------------------------
def sigma_table(alphas_cumprod: Tensor) -> Tensor:
    """k-diffusion sigma of every training timestep, sqrt((1 - abar) / abar), increasing; float64."""
    abar = alphas_cumprod.to(torch.float64)
    return ((1 - abar) / abar).sqrt()


def trailing_timesteps(num_inference_steps: int, num_train_timesteps: int) -> Tensor:
    """n evenly spaced integer timesteps ending the range, largest first: 999 for n = 1, 999 and 499 for 2.

    The "trailing" spacing of Lin et al. 2023 (table 2), as diffusers' schedulers compute it.
    """
    ratio = num_train_timesteps / num_inference_steps
    steps = torch.arange(num_train_timesteps, 0, -ratio, dtype=torch.float64).round() - 1
    return steps[:num_inference_steps]


def sigma_at(timesteps: Tensor, table: Tensor) -> Tensor:
    """The table linearly interpolated at (continuous) timesteps, as `EulerDiscreteScheduler` does."""
    t = timesteps.to(table.dtype).clamp(0, len(table) - 1)
    lo = t.floor().long().clamp(max=len(table) - 2)
    frac = t - lo.to(t.dtype)
    return table[lo] * (1 - frac) + table[lo + 1] * frac


def timestep_for(sigma: Tensor, table: Tensor) -> Tensor:
    """The continuous timestep whose interpolated sigma is `sigma`: the inverse of `sigma_at`.

    Clamped to the table's range (a level below sigma(0) or above sigma(T-1) is not a training timestep), and
    snapped to an integer within SNAP_TIMESTEPS (see there).
    """
    sigma = sigma.to(table.dtype).clamp(table[0], table[-1])
    hi = torch.searchsorted(table, sigma).clamp(1, len(table) - 1)
    lo_sigma, hi_sigma = table[hi - 1], table[hi]
    t = (hi - 1).to(table.dtype) + (sigma - lo_sigma) / (hi_sigma - lo_sigma)
    nearest = t.round()
    return torch.where((t - nearest).abs() < SNAP_TIMESTEPS, nearest, t)


def flow_level(sigma: Tensor) -> Tensor:
    """s = sigma / (1 + sigma): the flow level of a k-diffusion sigma (b / (a + b) with sigma = b / a)."""
    return sigma / (1 + sigma)


def vp_coefficients(s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(a, b, sigma) at flow level s: a = sqrt(abar), b = sqrt(1 - abar), sigma = b / a = s / (1 - s)."""
    sigma = s / (1 - s)
    a = (1 + sigma**2).rsqrt()
    return a, sigma * a, sigma


def clean_and_noise(
    out: Tensor, x_vp: Tensor, a: Tensor, b: Tensor, prediction_type: str
) -> tuple[Tensor, Tensor]:
    """(x0, eps) from the UNet's output on x_vp = a x0 + b eps, for each of diffusers' prediction types.

    v_prediction is Salimans & Ho 2022 ("Progressive Distillation", sec. 4): v = a eps - b x0, so
    x0 = a x_vp - b v and eps = b x_vp + a v (a^2 + b^2 = 1).
    """
    if prediction_type == "epsilon":
        return (x_vp - b * out) / a, out
    if prediction_type == "v_prediction":
        return a * x_vp - b * out, b * x_vp + a * out
    if prediction_type == "sample":
        return out, (x_vp - a * out) / b
    raise ValueError(f"prediction_type {prediction_type!r}: expected epsilon, v_prediction or sample")


def vp_velocity(
    denoise: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    sigma: Tensor,
    table: Tensor,
    prediction_type: str,
) -> Tensor:
    """v = eps - x0 at flow level `sigma` from a VP model: the mapping of this module's docstring.

    `denoise(x_vp, timesteps)` is the network's raw output on the VP latent at float32 timesteps (one per
    row); `table` is `sigma_table` of the scheduler's `alphas_cumprod`. Shared by every UNet family (SD here,
    SDXL in `sdxl.py`), which differ only in what else their network is given.
    """
    s = torch.as_tensor(sigma, device=x.device).to(torch.float64).reshape(-1)
    a, b, k_sigma = vp_coefficients(s)
    t = timestep_for(k_sigma, table.to(x.device))
    a, b = (c.to(x.dtype).view(-1, 1, 1, 1) for c in (a, b))
    x_vp = x * (a + b)
    out = denoise(x_vp, t.to(torch.float32).expand(x.shape[0]))
    x0, eps = clean_and_noise(out, x_vp, a, b, prediction_type)
    return eps - x0


def trailing_flow_sigmas(num_inference_steps: int, table: Tensor) -> Tensor:
    """The flow levels of `num_inference_steps` trailing timesteps, then 0 (float32): a VP model's schedule
    in the contract's convention (`Generator.sigmas`)."""
    if num_inference_steps < 1:
        raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    steps = trailing_timesteps(num_inference_steps, len(table))
    levels = flow_level(sigma_at(steps, table))
    return torch.cat([levels, levels.new_zeros(1)]).to(torch.float32)


# --- the adapter -------------------------------------------------------------------------------------------
class SDTurboGenerator(DiffusersLora, Generator[Tensor]):
    """A Stable Diffusion pipeline (SD-Turbo first of all) as a flow generator with a UNet LoRA."""

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = "unet"
    lora_pipeline_class = "StableDiffusionPipeline"

    def __init__(self, pipeline: Any, resolution_px: int | None = None):
        self.pipeline = pipeline
        self.unet = pipeline.unet
        self.latent_side = latent_side(
            resolution_px,
            int(self.unet.config.sample_size),
            int(pipeline.vae_scale_factor),
            2 ** (len(self.unet.config.block_out_channels) - 1),
            "Stable Diffusion",
        )
        """Latent pixels per side: `resolution_px` / the VAE's factor (None: the UNet's sample size)."""
        self.denoiser = self.unet
        self.vae = pipeline.vae
        self.text_encoder = pipeline.text_encoder
        # Not `self.tokenizer`: the teach loop warns about prompts holding the tokenizer's unknown id, and
        # CLIP's unknown id is its end-of-text id, in every prompt (byte-level BPE has no unknown words).
        self._tokenizer = pipeline.tokenizer
        self.scheduler = pipeline.scheduler
        self.prediction_type = str(self.scheduler.config.prediction_type)
        if not hasattr(self.scheduler, "alphas_cumprod"):
            raise ValueError(
                f"scheduler {type(self.scheduler).__name__} has no alphas_cumprod: not a VP model"
            )
        self._sigma_table = sigma_table(self.scheduler.alphas_cumprod)
        self.adapter_name = "default"
        self._has_lora = False
        for module in (self.unet, self.vae, self.text_encoder):
            module.requires_grad_(False)  # only a LoRA ever trains

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs: Any) -> SDTurboGenerator:
        """A generator from a `StableDiffusionPipeline` folder; `kwargs` go to the constructor."""
        return cls(load_sd_pipeline(folder), **kwargs)

    @property
    def start_level(self) -> float:
        """The flow level of the last training timestep: where every trailing schedule starts (< 1)."""
        return float(flow_level(self._sigma_table[-1]))

    # --- contract ------------------------------------------------------------------------------------
    def encode_prompt(self, prompts: list[str]) -> Tensor:
        """The CLIP text encoder's last hidden states of max-length padded prompts, as SD 2.x conditions."""
        ids = self._tokenizer(
            prompts,
            padding="max_length",
            max_length=self._tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.device)
        with torch.no_grad():
            return self.text_encoder(input_ids=ids).last_hidden_state

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: Tensor) -> Tensor:
        """v = eps - x0 at flow level `sigma` (the contract's name for s), from the VP model's prediction."""
        return vp_velocity(
            lambda x_vp, t: self.unet(x_vp, t, encoder_hidden_states=prompt_embeds).sample,
            x,
            sigma,
            self._sigma_table,
            self.prediction_type,
        )

    def decode(self, latents: Tensor) -> Tensor:
        """VAE decode of latents in the UNet's units (divided by scaling_factor first), to [0, 1]."""
        config = self.vae.config
        latents = latents / config.scaling_factor
        if getattr(config, "shift_factor", None) is not None:
            latents = latents + config.shift_factor
        return (self.vae.decode(latents).sample / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Gaussian noise from `seed` (CPU draw), placed at the schedule's first level: `start_level` * eps.

        That is diffusers' `init_noise_sigma` for trailing spacing (sigma_max in Euler units, x_k =
        sigma_max eps, is s_max eps in flow units): the contract's sampler starts from x = noise at
        sigmas[0], which for a VP model is s_max < 1, not pure noise at 1.
        """
        side = self.latent_side
        g = torch.Generator().manual_seed(seed)
        eps = torch.randn(n, self.unet.config.in_channels, side, side, generator=g)
        return (eps * self.start_level).to(self.device)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        return trailing_flow_sigmas(num_inference_steps, self._sigma_table).to(self.device)

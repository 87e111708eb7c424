"""SD3 / SD3.5 (a diffusers `StableDiffusion3Pipeline`) behind the generator contract.

Components are diffusers' own: `SD3Transformer2DModel` (an MMDiT: image and text tokens in joint attention),
`AutoencoderKL` with 16 latent channels, two `CLIPTextModelWithProjection` encoders (CLIP-L and OpenCLIP bigG)
and an optional `T5EncoderModel` (a folder may leave it out, as diffusers allows: its tokens are then zeros),
and `FlowMatchEulerDiscreteScheduler` for the noise levels.

SD3 is a rectified-flow model (Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution
Image Synthesis", sec. 2): x_t = (1 - t) x0 + t eps and the transformer predicts v = eps - x0, which is the
contract's convention as it stands, so `velocity` is the transformer's output and nothing is mapped. Its
schedule is the scheduler's: n evenly spaced levels from 1 shifted towards noise by
t' = shift t / (1 + (shift - 1) t) (the paper's eq. 23, shift 3.0 in SD3's scheduler config), then 0; the
timestep the transformer sees is t' x 1000.

Prompts are conditioned as `StableDiffusion3Pipeline.encode_prompt` does:
- each CLIP encoder's penultimate hidden states (77 tokens, max-length padded) concatenated along the width,
  then zero-padded to the T5 width, and the T5 encoder's last hidden states (or zeros) appended along the
  sequence: the token embeddings (B, 77 + max_sequence_length, joint_attention_dim);
- the two CLIP projections (`text_embeds`) concatenated: the pooled embeddings (B, pooled_projection_dim).
Both travel together as a `PooledPromptEmbeds` (`base.py`).

Classifier-free guidance (Ho & Salimans 2022) is the adapter's `guidance_scale` g, as the stock pipeline's:
at g > 1 `velocity` runs the transformer once on the batch twice over, unconditional half first (the token and
pooled embeddings of the empty prompt, the pipeline's default negative prompt), and returns
v_uncond + g (v_cond - v_uncond), `StableDiffusion3Pipeline.__call__`'s combination; g <= 1 is one plain pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import Generator, PooledPromptEmbeds, latent_side
from .folders import find_pipeline_folder, pipeline_class
from .guidance import classifier_free_guidance
from .lora import DiffusersLora

LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")
PIPELINE_CLASS = "StableDiffusion3Pipeline"
SD3_FAMILY = "sd3"
MAX_SEQUENCE_LENGTH = 256
"""T5 tokens per prompt: `StableDiffusion3Pipeline`'s default `max_sequence_length`."""


# --- finding and loading a pipeline ------------------------------------------------------------------------
def is_sd3_folder(folder: Path) -> bool:
    """Whether `folder` holds a diffusers `StableDiffusion3Pipeline` (its model_index.json says so)."""
    return pipeline_class(folder) == PIPELINE_CLASS


def sd3_presets() -> tuple[str, ...]:
    """The presets of family sd3 (`presets.py`): sd3-medium, sd3.5-medium, sd3.5-large."""
    from ..presets import PRESETS

    return tuple(name for name, spec in PRESETS.items() if spec.family == SD3_FAMILY)


def find_sd3_folder(name: str) -> Path | None:
    """The folder of an SD3 pipeline that `name` (an sd3 preset, a cached repo id or a folder) means, or None
    when `name` is not one; a missing sd3 preset raises `ModelMissingError` (`folders.py`)."""
    return find_pipeline_folder(name, sd3_presets(), (PIPELINE_CLASS,))


def load_sd3_pipeline(folder: str | Path) -> Any:
    """A `StableDiffusion3Pipeline` from `folder`, offline, in float32 (autocast picks the compute dtype).

    A folder saved without T5 (text_encoder_3 / tokenizer_3 absent or null in model_index.json) loads with
    them set to None, as diffusers allows when they are passed as None explicitly (it refuses otherwise).
    """
    from diffusers import StableDiffusion3Pipeline

    folder = Path(folder)
    index = json.loads((folder / "model_index.json").read_text())
    absent = {
        name: None
        for name in ("text_encoder_3", "tokenizer_3")
        if not isinstance(index.get(name), list) or index[name][0] is None
    }
    return StableDiffusion3Pipeline.from_pretrained(
        str(folder), local_files_only=True, dtype=torch.float32, **absent
    )


# --- the schedule ------------------------------------------------------------------------------------------
def resolution_shift(image_seq_len: int, config: Any) -> float:
    """mu of a resolution-dependent shift (schedulers with `use_dynamic_shifting`), as SD3's pipeline sets it:
    linear in the number of image tokens between (base_image_seq_len, base_shift) and (max_image_seq_len,
    max_shift) (Esser et al. 2024, sec. 5.3.2, made linear in diffusers)."""
    base_len = config.get("base_image_seq_len", 256)
    max_len = config.get("max_image_seq_len", 4096)
    base_shift = config.get("base_shift", 0.5)
    max_shift = config.get("max_shift", 1.16)  # the pipeline's fallback when the config has none
    slope = (max_shift - base_shift) / (max_len - base_len)
    return float(base_shift + slope * (image_seq_len - base_len))


# --- the adapter -------------------------------------------------------------------------------------------
class SD3Generator(DiffusersLora, Generator[PooledPromptEmbeds]):
    """An SD3 / SD3.5 pipeline as a flow generator with a LoRA on the transformer's attention."""

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = "transformer"
    lora_pipeline_class = "StableDiffusion3Pipeline"

    def __init__(
        self,
        pipeline: Any,
        max_sequence_length: int = MAX_SEQUENCE_LENGTH,
        guidance_scale: float = 1.0,
        resolution_px: int | None = None,
    ):
        self.pipeline = pipeline
        self.transformer = pipeline.transformer
        self.latent_side = latent_side(
            resolution_px,
            int(self.transformer.config.sample_size),
            int(pipeline.vae_scale_factor),
            int(self.transformer.config.patch_size),
            "SD3",
        )
        """Latent pixels per side: `resolution_px` / the VAE's factor (None: the transformer's own)."""
        self.denoiser = self.transformer
        self.vae = pipeline.vae
        self.text_encoders = (pipeline.text_encoder, pipeline.text_encoder_2)
        self.text_encoder_3 = pipeline.text_encoder_3
        # Not `self.tokenizer`: the teach loop warns about prompts holding the tokenizer's unknown id, and
        # CLIP's unknown id is its end-of-text id, in every prompt (byte-level BPE has no unknown words).
        self._tokenizers = (pipeline.tokenizer, pipeline.tokenizer_2)
        self._tokenizer_3 = pipeline.tokenizer_3
        self.scheduler = pipeline.scheduler
        self.max_sequence_length = max_sequence_length
        self.guidance_scale = float(guidance_scale)
        """Classifier-free guidance scale (read at every `velocity` call); guidance only above 1, as stock."""
        self._unconditional: tuple[int, PooledPromptEmbeds] | None = None
        """(max_sequence_length, embeddings of "") once `velocity` has needed them."""
        self.adapter_name = "default"
        self._has_lora = False
        for module in (self.transformer, self.vae, *self.text_encoders, self.text_encoder_3):
            if module is not None:
                module.requires_grad_(False)  # only a LoRA ever trains

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs: Any) -> SD3Generator:
        """A generator from a `StableDiffusion3Pipeline` folder; `kwargs` go to the constructor."""
        return cls(load_sd3_pipeline(folder), **kwargs)

    # --- contract ------------------------------------------------------------------------------------
    def encode_prompt(self, prompts: list[str]) -> PooledPromptEmbeds:
        """Token and pooled embeddings of `prompts` as `StableDiffusion3Pipeline.encode_prompt` forms them."""
        with torch.no_grad():
            clip = [
                self._clip_embeds(t, e, prompts)
                for t, e in zip(self._tokenizers, self.text_encoders, strict=True)
            ]
            clip_tokens = torch.cat([tokens for tokens, _ in clip], dim=-1)
            t5_tokens = self._t5_embeds(prompts).to(clip_tokens.dtype)
            # CLIP's width (768 + 1280 in SD3) is padded with zeros up to T5's (4096) to share one sequence
            clip_tokens = torch.nn.functional.pad(
                clip_tokens, (0, t5_tokens.shape[-1] - clip_tokens.shape[-1])
            )
            tokens = torch.cat([clip_tokens, t5_tokens], dim=-2)
            pooled = torch.cat([p for _, p in clip], dim=-1)
        return PooledPromptEmbeds(tokens, pooled)

    def _clip_embeds(self, tokenizer: Any, encoder: Any, prompts: list[str]) -> tuple[Tensor, Tensor]:
        """(penultimate hidden states, projected pooled embedding) of one CLIP encoder."""
        ids = tokenizer(
            prompts,
            padding="max_length",
            # the first tokenizer's length for both, as the pipeline does (77 for both in every SD3 release)
            max_length=self._tokenizers[0].model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.device)
        out = encoder(ids, output_hidden_states=True)
        return out.hidden_states[-2], out.text_embeds

    def _t5_embeds(self, prompts: list[str]) -> Tensor:
        """T5's last hidden states of max-length padded prompts; zeros when the folder has no T5 encoder."""
        if self.text_encoder_3 is None:
            width = self.transformer.config.joint_attention_dim
            return torch.zeros(len(prompts), self.max_sequence_length, width, device=self.device)
        ids = self._tokenizer_3(
            prompts,
            padding="max_length",
            max_length=self.max_sequence_length,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        ).input_ids.to(self.device)
        return self.text_encoder_3(ids).last_hidden_state

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """v at flow level sigma: the transformer's output, guided when `guidance_scale` > 1 (see the module
        docstring)."""
        if self.guidance_scale <= 1:  # no empty-prompt encoding when there is no guidance
            return self._transformer_velocity(x, sigma, prompt_embeds)
        uncond = self.unconditional_embeds(len(prompt_embeds))
        return classifier_free_guidance(
            self._transformer_velocity, x, sigma, prompt_embeds, uncond, self.guidance_scale
        )

    def unconditional_embeds(self, n: int) -> PooledPromptEmbeds:
        """The empty prompt's token and pooled embeddings (the pipeline's negative prompt "" for all three
        encoders), `n` rows: encoded once, then cached."""
        if self._unconditional is None or self._unconditional[0] != self.max_sequence_length:
            self._unconditional = (self.max_sequence_length, self.encode_prompt([""]))
        return self._unconditional[1].repeat_interleave(n, dim=0)

    def _transformer_velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """The transformer's output: SD3 predicts v = eps - x0 at flow level sigma (timestep sigma x 1000)."""
        sigma = torch.as_tensor(sigma, device=x.device).to(torch.float32).reshape(-1)
        timestep = (sigma * self.scheduler.config.num_train_timesteps).expand(x.shape[0])
        return self.transformer(
            hidden_states=x,
            timestep=timestep,
            encoder_hidden_states=prompt_embeds.tokens,
            pooled_projections=prompt_embeds.pooled,
        ).sample

    def decode(self, latents: Tensor) -> Tensor:
        """VAE decode: latents are stored as (z - shift_factor) * scaling_factor, so that is undone first."""
        config = self.vae.config
        latents = latents / config.scaling_factor
        if getattr(config, "shift_factor", None) is not None:
            latents = latents + config.shift_factor
        return (self.vae.decode(latents).sample / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Unit gaussian latents from `seed` (CPU draw): every SD3 schedule starts at level 1, pure noise."""
        side = self.latent_side
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(n, self.transformer.config.in_channels, side, side, generator=g)
        return noise.to(self.device)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The scheduler's shifted levels for `num_inference_steps` (what the stock pipeline steps over)."""
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        kwargs = {}
        if self.scheduler.config.get("use_dynamic_shifting", False):
            tokens = (self.latent_side // self.transformer.config.patch_size) ** 2
            kwargs["mu"] = resolution_shift(tokens, self.scheduler.config)
        self.scheduler.set_timesteps(num_inference_steps, device=self.device, **kwargs)
        return self.scheduler.sigmas.to(torch.float32)

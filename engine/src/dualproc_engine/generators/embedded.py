"""The embedded Scenes generator: a tiny diffusers text-to-image flow model, built from configs.

Components, each a real library class saved and loaded with `save_pretrained` / `from_pretrained`:
- `unet`: `diffusers.UNet2DConditionModel` with cross-attention, in pixel space made 4x cheaper by a
  space-to-depth fold: a 64 px RGB image is a (12, 32, 32) latent (`pixel_unshuffle` by 2) and decoding is
  `pixel_shuffle` (exact, differentiable, no weights). Attention and MLP linears carry diffusers' names
  (to_q, to_k, to_v, to_out.0, ff.net.0.proj, ff.net.2), so a LoRA for it looks like an SD LoRA.
- `text_encoder`: `transformers.CLIPTextModel` with a tiny config; its last hidden states condition the UNet.
- `tokenizer`: word level, built here from the caption vocabulary (`scenes_text`).
- `scheduler`: `diffusers.FlowMatchEulerDiscreteScheduler` (only its sigma schedule is used; the Euler loop
  is the visible one in `base.sample_euler`).
`ScenesPipeline` (a `DiffusionPipeline`) ties them together with a model_index.json; `EmbeddedGenerator`
is the adapter the teach loop drives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Generator
from .lora import DiffusersLora

FOLD = 2
"""Space-to-depth factor: latent side = image side / FOLD, latent channels = 3 * FOLD**2."""
LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")
LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"
SIGMA_MIN = 0.1
"""Floor of sigma where v is formed from the predicted x0 (a few-step sampler never goes below 1/6)."""


@dataclass(frozen=True)
class EmbeddedConfig:
    """Sizes of the embedded generator; the defaults are the shipped model."""

    image_size_px: int = field(default=64, metadata={"help": "side of the generated images in pixels"})
    block_out_channels: tuple[int, ...] = field(
        default=(32, 64, 64), metadata={"help": "UNet channels per resolution (32, 16, 8 px latents)"}
    )
    layers_per_block: int = field(default=1, metadata={"help": "resnets per UNet block"})
    attention_heads: int = field(default=4, metadata={"help": "heads in each UNet attention layer"})
    text_hidden_size: int = field(default=64, metadata={"help": "text encoder width = cross-attention dim"})
    text_layers: int = field(default=2, metadata={"help": "text encoder transformer layers"})
    text_heads: int = field(default=4, metadata={"help": "text encoder attention heads"})

    def __post_init__(self) -> None:
        multiple = FOLD * 2 ** (len(self.block_out_channels) - 1)
        if self.image_size_px % multiple:
            raise ValueError(
                f"image_size_px={self.image_size_px} must be a multiple of {multiple} for "
                f"{len(self.block_out_channels)} UNet levels"
            )
        if any(c % 16 for c in self.block_out_channels):
            raise ValueError("block_out_channels must be multiples of 16 (GroupNorm with 16 groups)")


def build_unet(config: EmbeddedConfig) -> Any:
    from diffusers import UNet2DConditionModel

    levels = len(config.block_out_channels)
    return UNet2DConditionModel(
        sample_size=config.image_size_px // FOLD,
        in_channels=3 * FOLD**2,
        out_channels=3 * FOLD**2,
        # Full-resolution level without attention (1024 tokens would dominate the cost); attention below.
        down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (levels - 1),
        up_block_types=("CrossAttnUpBlock2D",) * (levels - 1) + ("UpBlock2D",),
        block_out_channels=config.block_out_channels,
        layers_per_block=config.layers_per_block,
        norm_num_groups=16,
        cross_attention_dim=config.text_hidden_size,
        # diffusers' historical naming: attention_head_dim is read as the number of heads here.
        attention_head_dim=config.attention_heads,
    )


def build_text_encoder(config: EmbeddedConfig, tokenizer: Any) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    from .scenes_text import MAX_LENGTH

    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=config.text_hidden_size,
            intermediate_size=config.text_hidden_size * 2,
            num_hidden_layers=config.text_layers,
            num_attention_heads=config.text_heads,
            max_position_embeddings=MAX_LENGTH,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )


def build_scheduler() -> Any:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)


def _pipeline_class() -> Any:
    """`ScenesPipeline`, defined on first use so that importing this module does not import diffusers."""
    global _PIPELINE
    if _PIPELINE is None:
        from diffusers import DiffusionPipeline

        class ScenesPipeline(DiffusionPipeline):  # type: ignore[misc]
            """Tokenizer + CLIP text encoder + pixel-space UNet + flow-matching schedule."""

            model_cpu_offload_seq = "text_encoder->unet"

            def __init__(self, unet: Any, text_encoder: Any, tokenizer: Any, scheduler: Any):
                super().__init__()
                self.register_modules(  # type: ignore[attr-defined]
                    unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler
                )

            @torch.no_grad()
            def __call__(
                self, prompt: str | list[str], num_inference_steps: int = 1, seed: int = 0
            ) -> Tensor:
                """Images in [0, 1], (B, 3, H, W), one per prompt."""
                prompts = [prompt] if isinstance(prompt, str) else list(prompt)
                gen = EmbeddedGenerator(self)
                return gen.sample(
                    gen.encode_prompt(prompts), gen.make_noise(len(prompts), seed), num_inference_steps
                )

        _PIPELINE = ScenesPipeline
    return _PIPELINE


_PIPELINE: Any = None


def build_pipeline(
    config: EmbeddedConfig | None = None, seed: int = 0, vocabulary: list[str] | None = None
) -> Any:
    """A freshly initialised (untrained) pipeline: what training starts from and tests use."""
    from .scenes_text import build_tokenizer

    config = config or EmbeddedConfig()
    torch.manual_seed(seed)
    tokenizer = build_tokenizer(vocabulary)
    return _pipeline_class()(
        unet=build_unet(config),
        text_encoder=build_text_encoder(config, tokenizer),
        tokenizer=tokenizer,
        scheduler=build_scheduler(),
    )


def load_pipeline(path: str | Path) -> Any:
    """Load a pipeline saved with `save_pretrained`, offline (nothing is fetched)."""
    path = Path(path)
    if not (path / "model_index.json").is_file():
        raise FileNotFoundError(f"{path} has no model_index.json: not a saved Scenes generator")
    return _pipeline_class().from_pretrained(str(path), local_files_only=True)


def images_to_latents(images: Tensor) -> Tensor:
    """Images in [0, 1] (B, 3, H, W) -> latents in [-1, 1] (B, 12, H/2, W/2): the inverse of `decode`."""
    return F.pixel_unshuffle(images * 2 - 1, FOLD)


class EmbeddedGenerator(DiffusersLora, Generator[Tensor]):
    """The Scenes generator behind the generator contract."""

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = None
    lora_pipeline_class = None

    def __init__(self, pipeline: Any):
        self.pipeline = pipeline
        self.unet = pipeline.unet
        self.denoiser = self.unet
        self.text_encoder = pipeline.text_encoder
        self.tokenizer = pipeline.tokenizer
        self.scheduler = pipeline.scheduler
        self.adapter_name = "default"
        self._has_lora = False

    @classmethod
    def from_pretrained(cls, path: str | Path) -> EmbeddedGenerator:
        return cls(load_pipeline(path))

    # --- contract ------------------------------------------------------------------------------------
    def tokenize(self, prompts: list[str]) -> Tensor:
        from .scenes_text import MAX_LENGTH

        return self.tokenizer(
            prompts, padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt"
        ).input_ids.to(self.device)

    def encode_prompt(self, prompts: list[str]) -> Tensor:
        with torch.no_grad():
            return self.embed_tokens(self.tokenize(prompts))

    def embed_tokens(self, input_ids: Tensor) -> Tensor:
        """Text encoder forward (with gradient when enabled: training uses this)."""
        return self.text_encoder(input_ids=input_ids).last_hidden_state

    def predict_x0(self, x: Tensor, sigma: Tensor, prompt_embeds: Tensor) -> Tensor:
        """The UNet's clean-latent prediction at noise level `sigma` (a scalar or one per image)."""
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1)
        timestep = (sigma * self.scheduler.config.num_train_timesteps).expand(x.shape[0])
        return self.unet(x, timestep, encoder_hidden_states=prompt_embeds).sample

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: Tensor) -> Tensor:
        """v = (x_t - x0) / sigma from the UNet's clean-image prediction.

        The UNet predicts x0, not v (as Li & He 2025, "Back to Basics: Let Denoising Generative Models
        Denoise", argue for pixel space): a clean image is easier to predict than noise, and an
        under-trained model errs towards blur instead of leaving noise. Measured here: after 500 steps a
        v-predicting UNet still left heavy noise at 12 sampling steps. sigma is floored at SIGMA_MIN in the
        division only, so the clean estimate x_t - sigma * v is exactly the UNet's x0 for sigma >= SIGMA_MIN.
        """
        x0 = self.predict_x0(x, sigma, prompt_embeds)
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1)
        return (x - x0) / sigma.clamp_min(SIGMA_MIN).view(-1, 1, 1, 1)

    def decode(self, latents: Tensor) -> Tensor:
        return (F.pixel_shuffle(latents, FOLD) / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        side = self.unet.config.sample_size
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(n, self.unet.config.in_channels, side, side, generator=g)
        return noise.to(self.device)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        # Evenly spaced from 1 to 1/n, then 0 (as FLUX-schnell is run). The scheduler's own default spacing
        # ends at sigma_min = 0.001, which would waste one of four steps on a step from 0.001 to 0.
        sigmas = [1 - i / num_inference_steps for i in range(num_inference_steps)]
        self.scheduler.set_timesteps(sigmas=sigmas, device=self.device)
        return self.scheduler.sigmas.to(torch.float32)

    # --- LoRA (the rest is DiffusersLora's, with unprefixed keys) ------------------------------------------
    def add_lora(self, lora_rank: int = 16, lora_alpha: int = 8, init: Any = "gaussian") -> None:
        # Frozen here, not when loaded: the generator's own training (world/train_generator.py) trains them.
        self.unet.requires_grad_(False)
        self.text_encoder.requires_grad_(False)
        super().add_lora(lora_rank, lora_alpha, init)

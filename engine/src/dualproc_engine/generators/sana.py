"""Sana (a diffusers `SanaPipeline`) behind the flow-convention generator contract.

Components are diffusers' and transformers' own: `SanaTransformer2DModel` (a linear-attention DiT with
cross-attention to the text), `AutoencoderDC` (the deep-compression autoencoder: 32 latent channels, 32x
downsampling, latents stored times `scaling_factor`), a Gemma 2 text encoder (`Gemma2Model`, its last hidden
states) with its tokenizer, and the folder's scheduler for the flow shift.

Sana is a rectified-flow model (Xie et al. 2024, "SANA: Efficient High-Resolution Image Synthesis with Linear
Diffusion Transformers"): x_t = (1 - t) x0 + t eps and the transformer predicts v = eps - x0, the
contract's convention, so `velocity` is the transformer's output and nothing is mapped; the transformer sees
the timestep t x 1000 x `timestep_scale`, as `SanaPipeline` passes it. The schedule is
`FlowMatchEulerDiscreteScheduler`'s with the folder's shift: n levels from 1 shifted towards noise by
t' = shift t / (1 + (shift - 1) t) (shift 3.0 in Sana's 1024 px releases), then 0. The released folders ship a
`DPMSolverMultistepScheduler` with flow sigmas (`flow_shift`, `use_flow_sigmas`): a second-order solver over
slightly different levels (from 0.9997, integer timesteps). The contract's sampler is first-order Euler, so
the adapter takes that scheduler's shift and steps over Euler's levels, as `SanaPipeline` does when it is
given a `FlowMatchEulerDiscreteScheduler` with the same shift (the tests check that equality).

Prompts are encoded as `SanaPipeline.encode_prompt` does: lower-cased and
stripped (`clean_caption=False`, the default), optionally prefixed by the pipeline's "complex human
instruction" (its default, read from the installed pipeline: the instruction shapes the prompt's tokens
through Gemma's causal attention and is then cut off), right-padded to 300 tokens (plus the
instruction's), Gemma 2's last hidden states, then the first token and the last 299 kept. Sana attends to the
text with a padding mask, so the mask travels with the tokens: a `PooledPromptEmbeds` whose `pooled` half is
the attention mask (B, L) as floats (1 keep, 0 padding). Sana has no pooled embedding; the container is used
because the teach loop indexes and repeats both halves along the batch as it needs to.

Classifier-free guidance (Ho & Salimans 2022) is `SanaGenerator.guidance_scale` g, as the stock pipeline's: at
g > 1 `velocity` runs the transformer once on the batch twice over, unconditional half first, and returns
v_uncond + g (v_cond - v_uncond), `SanaPipeline.__call__`'s combination; g <= 1 is one plain pass. The
unconditional embeddings are the pipeline's for its default negative prompt "": `encode_prompt` encodes
negative prompts without the complex human instruction (whatever the prompt has) and keeps all 300 tokens, so
they are the empty prompt's tokens and mask without an instruction (the token selection is then the identity).
Sana-Sprint has no classifier-free guidance: its `guidance_scale` is the guidance embedding's input (below).

Sana-Sprint (`SanaSprintPipeline`; Chen et al. 2025, "SANA-Sprint: One-Step Diffusion with Continuous-Time
Consistency Distillation") is sampled in TrigFlow, x = cos(t) x0 + sin(t) z for angles t in [0, pi/2], with
`SCMScheduler`. Its transformer is nevertheless a flow model: the pipeline hands it the flow latent
x_f = x / (cos t + sin t) at the flow level s = sin t / (cos t + sin t) (as the timestep itself, not times
1000) and turns its v into TrigFlow's velocity. So `SanaSprintGenerator.velocity` is the transformer's output
as it is, and its levels are the scheduler's angles mapped to s (from 1.0000037 at t = 1.5708, the pipeline's
`max_timesteps`; for two steps through its `intermediate_timesteps` 1.3, as it does). Its guidance is a model
input (a guidance embedding: `guidance_scale` 4.5 times the transformer's `guidance_embeds_scale` by default),
not classifier-free guidance, and is fixed per generator. At one step this is the stock sampler
(x0 = x_f - s v is TrigFlow's cos(t) x - sin(t) F). At two or more the stock consistency sampler re-noises
the clean estimate with fresh noise at each level, while the contract's Euler sampler moves it with the
predicted noise (x_next = x0 + s_next eps_hat, DDIM-like): the two differ there by construction.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import Generator, PooledPromptEmbeds, latent_side
from .folders import find_pipeline_folder, pipeline_class
from .guidance import classifier_free_guidance
from .lora import DiffusersLora

LORA_TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")
PIPELINE_CLASS = "SanaPipeline"
SPRINT_PIPELINE_CLASS = "SanaSprintPipeline"
SANA_FAMILY = "sana"
MAX_SEQUENCE_LENGTH = 300
"""Gemma tokens per prompt: `SanaPipeline`'s default `max_sequence_length`."""


# --- finding and loading a pipeline ------------------------------------------------------------------------
def sana_presets() -> tuple[str, ...]:
    """The presets of family sana (`presets.py`)."""
    from ..presets import PRESETS

    return tuple(name for name, spec in PRESETS.items() if spec.family == SANA_FAMILY)


def pipeline_classes() -> tuple[str, ...]:
    """The pipeline classes (model_index.json's `_class_name`) this adapter serves."""
    return (PIPELINE_CLASS, SPRINT_PIPELINE_CLASS)


def is_sana_folder(folder: Path) -> bool:
    """Whether `folder` holds a pipeline this adapter serves (its model_index.json says so)."""
    return pipeline_class(folder) in pipeline_classes()


def find_sana_folder(name: str) -> Path | None:
    """The folder of a Sana pipeline that `name` (a sana preset, a cached repo id or a folder) means, or None
    when `name` is not one; a missing sana preset raises `ModelMissingError` (`folders.py`)."""
    return find_pipeline_folder(name, sana_presets(), pipeline_classes())


def load_sana_pipeline(folder: str | Path) -> Any:
    """The Sana pipeline in `folder`, offline, in float32 (autocast picks the compute dtype)."""
    import diffusers

    folder = Path(folder)
    name = pipeline_class(folder)
    if name not in pipeline_classes():
        raise ValueError(f"{folder}: model_index.json names {name!r}, not one of {pipeline_classes()}")
    cls = getattr(diffusers, name)
    return cls.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)


# --- prompts -----------------------------------------------------------------------------------------------
def call_default(pipeline: Any, name: str) -> Any:
    """The default of argument `name` of the pipeline's `__call__`, read from the installed diffusers (the
    complex human instruction, Sprint's guidance scale), so that this adapter runs as the stock call does."""
    return inspect.signature(type(pipeline).__call__).parameters[name].default


def default_instruction(pipeline: Any) -> list[str]:
    """The pipeline's default `complex_human_instruction` (the same lines for Sana and Sana-Sprint)."""
    default = call_default(pipeline, "complex_human_instruction")
    return list(default) if isinstance(default, list | tuple) else []


def prompt_ids(
    tokenizer: Any, prompts: list[str], max_sequence_length: int, instruction: list[str] | None
) -> tuple[Tensor, Tensor]:
    """(input ids, attention mask) of `prompts` as `SanaPipeline._get_gemma_prompt_embeds` tokenizes them,
    before the token selection (`select_tokens`)."""
    texts = [p.lower().strip() for p in prompts]  # the pipeline's `_text_preprocessing` without clean_caption
    length = max_sequence_length
    if instruction:
        chi = "\n".join(instruction)
        texts = [chi + t for t in texts]
        # the instruction's tokens come on top, less its <bos> and one more, as the pipeline counts them
        length = len(tokenizer.encode(chi)) + max_sequence_length - 2
    tokenizer.padding_side = "right"  # the pipeline sets it too: padding must come after the prompt
    enc = tokenizer(
        texts,
        padding="max_length",
        max_length=length,
        truncation=True,
        add_special_tokens=True,
        return_tensors="pt",
    )
    return enc.input_ids, enc.attention_mask


def select_tokens(x: Tensor, max_sequence_length: int) -> Tensor:
    """The first token and the last `max_sequence_length` - 1 along dim 1 (the paper's sec. 3.1, as
    `SanaPipeline.encode_prompt` selects them): without an instruction that is every token."""
    index = [0, *range(x.shape[1] - max_sequence_length + 1, x.shape[1])]
    return x[:, index]


# --- the schedule ------------------------------------------------------------------------------------------
def euler_scheduler(scheduler: Any) -> Any:
    """The `FlowMatchEulerDiscreteScheduler` whose levels the adapter steps over: the folder's own when it is
    one, else one with the folder's flow shift (a DPM-Solver / UniPC scheduler with `use_flow_sigmas`)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    if isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
        return scheduler
    config = scheduler.config
    if config.get("use_flow_sigmas") and config.get("flow_shift") is not None:
        return FlowMatchEulerDiscreteScheduler(
            num_train_timesteps=config.num_train_timesteps, shift=float(config.flow_shift)
        )
    raise ValueError(
        f"scheduler {type(scheduler).__name__} is not a flow-matching scheduler "
        "(no use_flow_sigmas / flow_shift)"
    )


# --- the adapter -------------------------------------------------------------------------------------------
class SanaGenerator(DiffusersLora, Generator[PooledPromptEmbeds]):
    """A Sana pipeline as a flow generator with a LoRA on the transformer's attention.

    `complex_human_instruction`: None for the pipeline's default instruction (as stock `SanaPipeline` runs),
    an empty list for none, or other lines. `guidance_scale`: classifier-free guidance, none at 1 (the
    default; see the module docstring)."""

    lora_target_modules = LORA_TARGET_MODULES
    lora_prefix = "transformer"
    lora_pipeline_class = "SanaPipeline"

    def __init__(
        self,
        pipeline: Any,
        max_sequence_length: int = MAX_SEQUENCE_LENGTH,
        complex_human_instruction: list[str] | None = None,
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
            "Sana",
        )
        """Latent pixels per side: `resolution_px` / DC-AE's factor (None: the transformer's sample size, 32
        for 1024 px with DC-AE's 32x)."""
        self.denoiser = self.transformer
        self.vae = pipeline.vae
        self.text_encoder = pipeline.text_encoder
        # Not `self.tokenizer`: the teach loop's unknown-word warning tokenizes prompts as they are written,
        # while this adapter lower-cases them and may prefix an instruction first.
        self._tokenizer = pipeline.tokenizer
        self.scheduler = self._schedule_source(pipeline.scheduler)
        self.max_sequence_length = max_sequence_length
        self.instruction = (
            default_instruction(pipeline)
            if complex_human_instruction is None
            else list(complex_human_instruction)
        )
        self.guidance_scale = float(guidance_scale)
        """Classifier-free guidance scale (read at every `velocity` call); guidance only above 1, as stock."""
        self._unconditional: tuple[int, PooledPromptEmbeds] | None = None
        """(max_sequence_length, embeddings of "") once `velocity` has needed them."""
        self.adapter_name = "default"
        self._has_lora = False
        for module in (self.transformer, self.vae, self.text_encoder):
            module.requires_grad_(False)  # only a LoRA ever trains

    @classmethod
    def from_pretrained(cls, folder: str | Path, resolution_px: int | None = None) -> SanaGenerator:
        """The adapter for the folder's pipeline: `SanaSprintGenerator` for a `SanaSprintPipeline`."""
        pipeline = load_sana_pipeline(folder)
        if type(pipeline).__name__ == SPRINT_PIPELINE_CLASS:
            return SanaSprintGenerator(pipeline, resolution_px=resolution_px)
        return cls(pipeline, resolution_px=resolution_px)

    def _schedule_source(self, scheduler: Any) -> Any:
        """The scheduler `sigmas` asks for levels: Euler's with the folder's shift (`euler_scheduler`)."""
        return euler_scheduler(scheduler)

    # --- contract ------------------------------------------------------------------------------------
    def encode_prompt(self, prompts: list[str]) -> PooledPromptEmbeds:
        """Gemma 2's last hidden states of `prompts` and their attention mask (see the module docstring)."""
        return self._encode(prompts, self.instruction)

    def _encode(self, prompts: list[str], instruction: list[str]) -> PooledPromptEmbeds:
        """`encode_prompt` with `instruction` as the complex human instruction."""
        ids, mask = prompt_ids(self._tokenizer, prompts, self.max_sequence_length, instruction)
        ids, mask = ids.to(self.device), mask.to(self.device)
        with torch.no_grad():
            hidden = self.text_encoder(ids, attention_mask=mask)[0]
        hidden = select_tokens(hidden, self.max_sequence_length)
        mask = select_tokens(mask, self.max_sequence_length).to(hidden.dtype)
        return PooledPromptEmbeds(hidden, mask)

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
        """The empty prompt's tokens and mask as `SanaPipeline.encode_prompt` forms its default negative
        prompt (no complex human instruction), `n` rows: encoded once, then cached."""
        if self._unconditional is None or self._unconditional[0] != self.max_sequence_length:
            self._unconditional = (self.max_sequence_length, self._encode([""], []))
        return self._unconditional[1].repeat_interleave(n, dim=0)

    def _transformer_velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """The transformer's output: Sana predicts v = eps - x0 at flow level sigma."""
        sigma = torch.as_tensor(sigma, device=x.device).to(torch.float32).reshape(-1)
        timestep = sigma * self.scheduler.config.num_train_timesteps
        timestep = (timestep * self.transformer.config.timestep_scale).expand(x.shape[0])
        out = self.transformer(
            x,
            encoder_hidden_states=prompt_embeds.tokens,
            encoder_attention_mask=prompt_embeds.pooled,
            timestep=timestep,
        ).sample
        return self._drop_learned_sigma(out, x)

    def _drop_learned_sigma(self, out: Tensor, x: Tensor) -> Tensor:
        """The prediction's first half when the transformer also predicts a variance (twice the channels), as
        the pipeline does; Sana's releases do not."""
        if out.shape[1] == 2 * x.shape[1]:
            return out.chunk(2, dim=1)[0]
        return out

    def decode(self, latents: Tensor) -> Tensor:
        """DC-AE decode of latents in the transformer's units (divided by scaling_factor first), to [0, 1]."""
        image = self.vae.decode(latents / self.vae.config.scaling_factor).sample
        return (image / 2 + 0.5).clamp(0, 1)

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Unit gaussian latents from `seed` (CPU draw): every Euler schedule here starts at level 1."""
        side = self.latent_side
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(n, self.transformer.config.in_channels, side, side, generator=g)
        return noise.to(self.device)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The Euler scheduler's shifted levels for `num_inference_steps`, then 0."""
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        self.scheduler.set_timesteps(num_inference_steps, device=self.device)
        return self.scheduler.sigmas.to(torch.float32)


# --- Sana-Sprint -------------------------------------------------------------------------------------------
def trigflow_to_flow(t: Tensor) -> Tensor:
    """The flow level of TrigFlow angle t: s = sin t / (cos t + sin t) (the Sprint pipeline's
    scm_timestep)."""
    return torch.sin(t) / (torch.cos(t) + torch.sin(t))


def flow_latent_scale(s: Tensor) -> Tensor:
    """1 / (cos t + sin t) in terms of s = sin t / (cos t + sin t): sqrt(s^2 + (1 - s)^2), the factor the
    pipeline multiplies a (unit-scale) TrigFlow latent by to give the transformer its flow latent."""
    return torch.sqrt(s**2 + (1 - s) ** 2)


class SanaSprintGenerator(SanaGenerator):
    """A Sana-Sprint pipeline (`SanaSprintPipeline`, `SCMScheduler`) as a flow generator: see the module
    docstring. `guidance_scale`: the guidance embedding's input, None for the pipeline's default (4.5); it
    replaces the inherited classifier-free guidance scale (`velocity` here is always one pass)."""

    def __init__(
        self,
        pipeline: Any,
        max_sequence_length: int = MAX_SEQUENCE_LENGTH,
        complex_human_instruction: list[str] | None = None,
        guidance_scale: float | None = None,
        resolution_px: int | None = None,
    ):
        super().__init__(
            pipeline, max_sequence_length, complex_human_instruction, resolution_px=resolution_px
        )
        if self.scheduler.config.get("prediction_type") != "trigflow":
            raise ValueError(
                f"scheduler {type(self.scheduler).__name__}: Sana-Sprint needs a trigflow SCM scheduler"
            )
        if not self.transformer.config.guidance_embeds:
            raise ValueError("Sana-Sprint's transformer has a guidance embedding; this one has none")
        self.guidance_scale = float(
            call_default(pipeline, "guidance_scale") if guidance_scale is None else guidance_scale
        )
        self.max_timesteps = float(call_default(pipeline, "max_timesteps"))
        self.intermediate_timesteps = float(call_default(pipeline, "intermediate_timesteps"))

    def _schedule_source(self, scheduler: Any) -> Any:
        return scheduler  # the SCM scheduler's angles, mapped to flow levels in `sigmas`

    def velocity(self, x: Tensor, sigma: Tensor, prompt_embeds: PooledPromptEmbeds) -> Tensor:
        """The transformer's v at flow level `sigma`, the timestep itself,, with the fixed guidance."""
        sigma = torch.as_tensor(sigma, device=x.device).to(torch.float32).reshape(-1).expand(x.shape[0])
        tokens = prompt_embeds.tokens
        guidance = torch.full((x.shape[0],), self.guidance_scale, device=x.device, dtype=tokens.dtype)
        out = self.transformer(
            x,
            encoder_hidden_states=tokens,
            encoder_attention_mask=prompt_embeds.pooled,
            guidance=guidance * self.transformer.config.guidance_embeds_scale,
            timestep=sigma,
        ).sample
        return self._drop_learned_sigma(out, x)

    def angles(self, num_inference_steps: int) -> Tensor:
        """The SCM scheduler's TrigFlow angles, as `SanaSprintPipeline` sets them: from `max_timesteps` to 0,
        through `intermediate_timesteps` for two steps, evenly spaced otherwise."""
        intermediate = self.intermediate_timesteps if num_inference_steps == 2 else None
        self.scheduler.set_timesteps(
            num_inference_steps,
            max_timesteps=self.max_timesteps,
            intermediate_timesteps=intermediate,
            device=self.device,
        )
        return self.scheduler.timesteps.to(torch.float32)

    def sigmas(self, num_inference_steps: int) -> Tensor:
        """The angles' flow levels (the last angle, 0, is level 0)."""
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        return trigflow_to_flow(self.angles(num_inference_steps))

    def make_noise(self, n: int, seed: int) -> Tensor:
        """Unit gaussian latents from `seed` (CPU draw) as a flow latent at the first level: the pipeline's
        TrigFlow start (pure noise at `max_timesteps`) times `flow_latent_scale`, 1 / (cos t + sin t)."""
        start = self.sigmas(1)[0].cpu()
        return (super().make_noise(n, seed).cpu() * flow_latent_scale(start)).to(self.device)

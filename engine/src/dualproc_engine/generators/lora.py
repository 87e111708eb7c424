"""The LoRA plumbing shared by the adapters of diffusers pipelines (SD-Turbo, SDXL-Turbo, SD3, FLUX, Sana).

Each keeps its LoRA on one denoiser (the UNet or the transformer) through peft, and writes it the way its
pipeline's `save_lora_weights` does: keys `<prefix>.<peft name>` (prefix `unet` or `transformer`) and the
LoraConfig as prefixed metadata, so stock `pipe.load_lora_weights(folder)` loads it at the trained alpha.
An adapter says which denoiser (`denoiser`), which prefix and which pipeline class; the rest is here.
The embedded generator has no pipeline of diffusers' own: its files hold the denoiser's keys unprefixed
(`lora_prefix = None`), as `save_lora_adapter` writes them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import torch

from .base import checkpointing

LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"


class DiffusersLora:
    """Mixin: add, scale, save and load a peft LoRA on `self.denoiser` in a diffusers pipeline's layout."""

    denoiser: Any
    adapter_name: str
    lora_target_modules: tuple[str, ...]
    lora_prefix: str | None
    """The state-dict prefix of the denoiser in the pipeline's LoRA files: "unet", "transformer", or None
    for keys without one."""
    lora_pipeline_class: str | None
    """The diffusers pipeline whose `save_lora_weights` writes this family's layout (None: no prefix)."""
    _has_lora: bool

    def add_lora(self, lora_rank: int = 16, lora_alpha: int = 8, init: Any = "gaussian") -> None:
        from peft import LoraConfig

        config = LoraConfig(
            r=lora_rank,
            lora_alpha=lora_alpha,
            init_lora_weights=init,
            target_modules=list(self.lora_target_modules),
        )
        self.denoiser.add_adapter(config, adapter_name=self.adapter_name)
        self._has_lora = True

    def lora_parameters(self) -> list[torch.nn.Parameter]:
        return [p for n, p in self.denoiser.named_parameters() if "lora_" in n and p.requires_grad]

    def lora_layer_names(self) -> list[str]:
        """Names of the base layers a LoRA is attached to (for checks and reports)."""
        names = (n for n, _ in self.denoiser.named_parameters() if ".lora_" in n)
        return sorted({n.rsplit(".lora_", 1)[0] for n in names})

    def set_lora_scale(self, scale: float) -> None:
        self.denoiser.set_adapters([self.adapter_name], weights=[float(scale)])

    def save_lora(self, path: str | Path) -> Path:
        """`path/pytorch_lora_weights.safetensors` as the pipeline's `save_lora_weights` writes it."""
        import diffusers
        from peft.utils import get_peft_model_state_dict

        path = Path(path)
        if self.lora_prefix is None or self.lora_pipeline_class is None:
            self.denoiser.save_lora_adapter(
                str(path), adapter_name=self.adapter_name, weight_name=LORA_WEIGHT_NAME
            )
            return path / LORA_WEIGHT_NAME
        config = self.denoiser.peft_config[self.adapter_name].to_dict()
        # json cannot hold sets (target_modules is one); diffusers' own savers convert them the same way
        config = {k: sorted(v) if isinstance(v, set) else v for k, v in config.items()}
        layers = get_peft_model_state_dict(self.denoiser, adapter_name=self.adapter_name)
        getattr(diffusers, self.lora_pipeline_class).save_lora_weights(
            str(path),
            weight_name=LORA_WEIGHT_NAME,
            **{
                f"{self.lora_prefix}_lora_layers": layers,
                f"{self.lora_prefix}_lora_adapter_metadata": config,
            },
        )
        return path / LORA_WEIGHT_NAME

    def load_lora(self, path: str | Path) -> None:
        """Load a LoRA in the pipeline's layout (`save_lora`'s, or another trainer's) into the denoiser."""
        from safetensors import safe_open
        from safetensors.torch import load_file

        path = Path(path)
        if path.is_dir():
            path = path / LORA_WEIGHT_NAME
        with safe_open(str(path), "pt") as f:
            raw = (f.metadata() or {}).get("lora_adapter_metadata")
        # Passed explicitly: without it diffusers assumes alpha = rank, which silently rescales the LoRA.
        metadata = json.loads(raw) if raw else None
        self.denoiser.load_lora_adapter(
            load_file(str(path)), adapter_name=self.adapter_name, prefix=self.lora_prefix, metadata=metadata
        )
        self._has_lora = True

    def gradient_checkpointing(self, enabled: bool = True) -> contextlib.AbstractContextManager[None]:
        return checkpointing(self.denoiser, enabled)

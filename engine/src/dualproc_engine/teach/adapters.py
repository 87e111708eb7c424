"""What the teach loop needs from models beyond today's contracts, in one place.

Each of these belongs in the contracts eventually (generator: `add_lora(..., target_modules=)`, a device
move, a tiny-config constructor; judge: a `gradient_checkpointing(enabled)` context manager like the
generator's); until then the loop reaches for the embedded families' attributes here and nowhere else.

- `load_models`: generator and judge by preset name or folder, on the best device.
- `attach_lora`: a LoRA with the recipe's target modules (the generator contract's `add_lora` has no
  `target_modules` argument yet; for the embedded family we call peft through diffusers directly).
- `judge_checkpointing`: per-layer gradient checkpointing of a `transformers` judge, as a context manager.
- `decode`: the generator's decoder, optionally checkpointed as a whole (it runs right before the judge, so
  its activations would otherwise be held through the judge's forward and backward).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from ..errors import UserError


def pick_device() -> torch.device:
    """CUDA when there is one (with cuDNN's attention off: `avoid_cudnn_attention`), else the CPU."""
    if torch.cuda.is_available():
        avoid_cudnn_attention()
        return torch.device("cuda")
    return torch.device("cpu")


def avoid_cudnn_attention() -> None:
    """Leave cuDNN's fused attention out of `scaled_dot_product_attention`; flash, memory-efficient and math
    kernels remain.

    Measured on the lent H200 (torch 2.11.0+cu130, cuDNN 9.19, 2026-12-01): a teach step of FLUX.1-schnell
    with Qwen2.5-VL-7B failed in backward with "mha_graph.execute(...).is_good()" under
    CUDA_LAUNCH_BLOCKING=1 (cuDNN's attention kernel) and with illegal memory accesses without it, whether or
    not anything was checkpointed; with this switch the same steps ran. It is a known cuDNN SDPA defect on
    Hopper (pytorch/pytorch#190321; #196678: NaN query gradients with an attention mask since 2.11), whose
    stated workaround is this switch.
    """
    torch.backends.cuda.enable_cudnn_sdp(False)


def load_generator(name: str, device: torch.device, resolution_px: int | None = None) -> Any:
    """A generator by name, on `device`, drawing `resolution_px` images where its family can:
    `generators.load.load_generator` decides the adapter, as for `dualproc generate`."""
    from ..generators.load import load_generator as load

    return load(name, device, resolution_px)


def load_judge(name: str, device: torch.device, quantization: str = "none") -> Any:
    from ..judges.load import load_judge as load

    return load(name, device, quantization)


def attach_lora(gen: Any, rank: int, alpha: float, target_modules: list[str] | None) -> None:
    """A fresh gaussian-initialised LoRA (the reference's init) on the family's or the recipe's targets."""
    if target_modules is None or tuple(target_modules) == tuple(gen.lora_target_modules):
        gen.add_lora(lora_rank=rank, lora_alpha=alpha, init="gaussian")
        return
    # the network the LoRA sits on: `denoiser` in the generator contract (a UNet or a transformer)
    unet = getattr(gen, "denoiser", None)
    if unet is None:
        unet = getattr(gen, "unet", None)
    if unet is None or not hasattr(unet, "add_adapter"):
        raise UserError(
            "training.lora_target_modules: this generator only supports its default targets; use null"
        )
    from peft import LoraConfig

    names = [n for n, _ in unet.named_modules()]
    missing = [t for t in target_modules if not any(n == t or n.endswith("." + t) for n in names)]
    if missing:
        raise UserError(
            f"training.lora_target_modules: no module named {missing[0]!r} in the generator; "
            f"its defaults are {', '.join(gen.lora_target_modules)}"
        )
    unet.requires_grad_(False)
    if getattr(gen, "text_encoder", None) is not None:
        gen.text_encoder.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=rank,
            lora_alpha=alpha,  # type: ignore[arg-type]  # peft annotates int; the scaling alpha/r takes any
            init_lora_weights="gaussian",
            target_modules=list(target_modules),
        ),
        adapter_name=getattr(gen, "adapter_name", "default"),
    )
    gen._has_lora = True


@contextlib.contextmanager
def judge_checkpointing(judge: Any, enabled: bool) -> Iterator[None]:
    """Recompute a `transformers` judge's layer activations in backward (one more judge forward of time).

    transformers only checkpoints a layer whose `training` flag is set; the frozen judge stays in eval mode
    otherwise, so only the layers' own flags are raised (dropout and attention modules keep eval behaviour).
    Only the forward must run inside: the recomputation in backward does not look at these flags.
    """
    model = getattr(judge, "model", None)
    if not enabled or model is None or not getattr(model, "supports_gradient_checkpointing", False):
        yield
        return
    from transformers.modeling_layers import GradientCheckpointingLayer

    layers = [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]
    new_api = hasattr(model, "activation_checkpointing_enable")  # transformers >= 5.x; the old names warn
    was_on = bool(model.is_activation_checkpointing if new_api else model.is_gradient_checkpointing)
    if not was_on:
        if new_api:
            model.activation_checkpointing_enable({"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    flags = [m.training for m in layers]
    for m in layers:
        m.training = True
    try:
        yield
    finally:
        for m, flag in zip(layers, flags, strict=True):
            m.training = flag
        if not was_on:
            if new_api:
                model.activation_checkpointing_disable()
            else:
                model.gradient_checkpointing_disable()
            # enabling hooked the input embeddings (so that their output requires grad) and disabling leaves
            # the hook unless peft is loaded: without this, a run would add one hook per step
            if callable(getattr(model, "disable_input_require_grads", None)):
                model.disable_input_require_grads()


def decode(gen: Any, latents: Tensor, checkpointing: bool) -> Tensor:
    """Latents -> images in [0, 1] with gradient; checkpointed as a whole when asked."""
    if checkpointing and latents.requires_grad:
        from torch.utils.checkpoint import checkpoint

        return checkpoint(gen.decode, latents, use_reentrant=False)
    return gen.decode(latents)


def autocast(device: torch.device, mixed_precision: str) -> contextlib.AbstractContextManager[Any]:
    """bf16/fp16 autocast on CUDA only; a no-op on CPU (where bf16 matmuls are slow and gain nothing)."""
    if device.type != "cuda" or mixed_precision == "no":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if mixed_precision == "bf16" else torch.float16
    return torch.autocast("cuda", dtype=dtype)

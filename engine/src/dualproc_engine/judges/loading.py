"""Loading a real-family judge model: frozen, in eval mode, in the precision that fits the device, and
optionally with its language model quantized to 8 or 4 bits (bitsandbytes, on CUDA only).

bf16 on a GPU (half the memory, the precision these checkpoints were trained in), fp32 on a CPU. Quantized,
the language model's linear layers are stored in int8 (LLM.int8(), Dettmers et al. 2022) or NF4 (QLoRA,
Dettmers et al. 2023) and compute in bf16; the vision tower, its projector and the output head stay in bf16,
since they are a small part of the weights and the gradient to the image passes through them first. Frozen
quantized layers still pass gradients to their inputs (QLoRA trains through them), so the image keeps its
gradient.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError

QUANTIZATIONS = ("none", "8bit", "4bit")
KEEP_UNQUANTIZED = ("visual", "vision_tower", "vision_model", "multi_modal_projector", "connector", "lm_head")
"""Module-name parts left in bf16: the vision side of every family here, and the output head."""


def check_quantization(kind: str, device: str | torch.device) -> None:
    """One line for a quantization this machine cannot do."""
    if kind not in QUANTIZATIONS:
        raise UserError(
            f"training.judge_quantization: expected one of {', '.join(QUANTIZATIONS)}, got {kind!r}"
        )
    if kind == "none":
        return
    if torch.device(device).type != "cuda":
        raise UserError(
            f"training.judge_quantization: {kind} needs the judge on a CUDA device (bitsandbytes)"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise UserError(
            f"training.judge_quantization: {kind} needs bitsandbytes (pip install bitsandbytes); or use none"
        )


def quantization_config(kind: str) -> Any:
    """transformers' BitsAndBytesConfig for `kind` ("8bit" or "4bit"), or None for "none"."""
    if kind == "none":
        return None
    from transformers import BitsAndBytesConfig

    skip = list(KEEP_UNQUANTIZED)
    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        llm_int8_skip_modules=skip,
    )


def load_frozen(
    model_class: Any, folder: str | Path, device: str | torch.device, quantization: str = "none"
) -> Any:
    """The model from `folder`, frozen and in eval mode, on `device` (see the module's docstring)."""
    check_quantization(quantization, device)
    dtype = torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    config = quantization_config(quantization)
    if config is None:
        model: Any = model_class.from_pretrained(str(folder), dtype=dtype)
        model = model.to(device)
    else:
        # a quantized model is placed at load time; bitsandbytes weights cannot be moved with .to()
        model = model_class.from_pretrained(
            str(folder), dtype=dtype, quantization_config=config, device_map={"": torch.device(device)}
        )
    model.eval()
    model.requires_grad_(False)  # the judge is frozen; gradients still flow to the images
    return model

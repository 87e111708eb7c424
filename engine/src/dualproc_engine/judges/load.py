"""A judge by name: a preset (`dualproc models`), or a folder holding a judge. The one place that decides
which adapter a name gets; `ask`, `teach` and `eval` all load judges here.

- embedded presets and folders of embedded judges: `EmbeddedJudge` (judges/embedded.py);
- LLaVA-1.5 presets (from the local Hugging Face cache) and folders whose config says `llava`: `LlavaJudge`;
- Qwen2.5-VL presets (from the local Hugging Face cache) and folders whose config says `qwen2_5_vl` or
  `qwen2_vl`: `Qwen2VLJudge`;
- Gemma 3 presets (from the local Hugging Face cache) and folders whose config says `gemma3`: `Gemma3Judge`;
- Idefics2 presets (from the local Hugging Face cache) and folders whose config says `idefics2`:
  `Idefics2Judge`;
- Idefics3 and SmolVLM presets (from the local Hugging Face cache) and folders whose config says `idefics3`
  or `smolvlm`: `Idefics3Judge`;
- LLaVA-NeXT presets (from the local Hugging Face cache) and folders whose config says `llava_next`:
  `LlavaNextJudge`;
- PaliGemma / PaliGemma 2 presets (from the local Hugging Face cache) and folders whose config says
  `paligemma`: `PaliGemmaJudge`;
- other presets (none today among the judges): one line saying there is no adapter yet.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelMissingError, UserError, did_you_mean

JUDGE_ADAPTERS = (
    "embedded",
    "llava-1.5",
    "qwen2.5-vl",
    "gemma3",
    "idefics2",
    "idefics3/smolvlm",
    "paligemma",
    "llava-next",
)
"""Judge families with an adapter; the other presets are listed by `dualproc models` but not usable yet."""
ADAPTED_FAMILIES = {
    "llava": ("llava", "llava_next"),
    "qwen2.5-vl": ("qwen2_5_vl",),
    "gemma3": ("gemma3",),
    "idefics": ("idefics2", "idefics3", "smolvlm"),
    "paligemma": ("paligemma",),
}
"""Preset family -> the config.json model types its adapters take (llava-next is family llava: the folder's
model type picks LLaVA-1.5's or LLaVA-NeXT's adapter; idefics2 and idefics3 likewise)."""
NO_ADAPTER_PRESETS: tuple[str, ...] = ()
"""Presets of an adapted family that no adapter takes, refused before looking for their weights (none
today: every judge preset has an adapter)."""


def load_judge(name: str, device: str | torch.device = "cpu", quantization: str = "none") -> Any:
    """The judge `name` means, on `device`; `quantization` ("none", "8bit", "4bit") applies to the real
    families' language models (`loading.py`)."""
    from ..presets import PRESETS, preset_names

    spec = PRESETS.get(name)
    if spec is not None and spec.role != "judge":
        raise UserError(f"judge {name!r} is a {spec.role}; judges are " + _judge_names())
    if spec is None and "/" not in name and not Path(name).is_dir():
        hint = did_you_mean(name, preset_names("judge"))
        raise UserError(f"unknown judge {name!r}{hint}; judges are {_judge_names()}, or a model folder")
    if spec is not None and spec.family != "embedded":
        types = () if name in NO_ADAPTER_PRESETS else ADAPTED_FAMILIES.get(spec.family, ())
        folder = _local_folder(spec) if types else None
        if folder is None or _model_type(folder) not in types:
            raise UserError(
                f"judge {name!r} ({spec.family}) has no adapter yet; adapters: {', '.join(JUDGE_ADAPTERS)}"
            )
        return _load_by_type(folder, device, name, quantization)
    if spec is None and _model_type(Path(name)) in _ADAPTERS:
        return _load_by_type(Path(name), device, name, quantization)
    if quantization != "none":
        raise UserError(
            f"training.judge_quantization: {quantization} is for the real families; the embedded judge "
            f"{name!r} is a few MB: use none"
        )
    return _load_embedded(name, device)


_ADAPTERS = {
    "llava": ("LLaVA-1.5", "llava", "LlavaJudge"),
    "llava_next": ("LLaVA-NeXT", "llava_next", "LlavaNextJudge"),
    "qwen2_5_vl": ("Qwen2.5-VL", "qwen2_vl", "Qwen2VLJudge"),
    "qwen2_vl": ("Qwen2-VL", "qwen2_vl", "Qwen2VLJudge"),
    "gemma3": ("Gemma 3", "gemma3", "Gemma3Judge"),
    "idefics2": ("Idefics2", "idefics2", "Idefics2Judge"),
    "idefics3": ("Idefics3", "idefics3", "Idefics3Judge"),
    "smolvlm": ("SmolVLM", "idefics3", "Idefics3Judge"),
    "paligemma": ("PaliGemma", "paligemma", "PaliGemmaJudge"),
}
"""config.json model type -> (the name errors use, the adapter's module in this package, its class)."""


def _load_by_type(folder: Path, device: str | torch.device, name: str, quantization: str) -> Any:
    label, module, class_name = _ADAPTERS[str(_model_type(folder))]
    adapter = getattr(importlib.import_module(f".{module}", __package__), class_name)
    try:
        return adapter.from_pretrained(folder, device=device, quantization=quantization)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(
            f"judge {name!r}: cannot load it as {label} ({type(e).__name__}: {str(e).splitlines()[0]})"
        ) from None


def _load_embedded(name: str, device: str | torch.device) -> Any:
    from .embedded import load_judge as load

    try:
        return load(name, device=device)
    except ModelMissingError:
        raise
    except (OSError, ValueError) as e:
        raise UserError(
            f"judge {name!r}: cannot load it ({type(e).__name__}: {str(e).splitlines()[0]})"
        ) from None


def _local_folder(spec: Any) -> Path:
    from ..local_models import find_local

    folder = find_local(spec)
    if folder is None:
        raise ModelMissingError(
            f"judge {spec.name}: {spec.source} is not in the local Hugging Face cache; download it on a "
            f"connected machine (huggingface-cli download {spec.source}) or pass its folder as the judge"
        )
    return folder


def _model_type(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "config.json").read_text()).get("model_type"))
    except (OSError, ValueError):
        return None


def _judge_names() -> str:
    from ..presets import preset_names

    return ", ".join(preset_names("judge"))

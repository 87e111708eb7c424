"""A judge by name: a preset (`dualproc models`), or a folder holding a judge. The one place that decides
which adapter a name gets; `ask`, `teach` and `eval` all load judges here.

- embedded presets and folders of embedded judges: `EmbeddedJudge` (judges/embedded.py);
- LLaVA-1.5 presets (from the local Hugging Face cache) and folders whose config says `llava`: `LlavaJudge`;
- other presets: one line saying there is no adapter yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelMissingError, UserError

JUDGE_ADAPTERS = ("embedded", "llava-1.5")
"""Judge families with an adapter; the other presets are listed by `dualproc models` but not usable yet."""


def load_judge(name: str, device: str | torch.device = "cpu") -> Any:
    from ..presets import PRESETS

    spec = PRESETS.get(name)
    if spec is not None and spec.role != "judge":
        raise UserError(f"judge {name!r} is a {spec.role}; judges are " + _judge_names())
    if spec is None and "/" not in name and not Path(name).is_dir():
        raise UserError(f"unknown judge {name!r}; judges are {_judge_names()}, or a model folder")
    if spec is not None and spec.family != "embedded":
        folder = _local_folder(spec) if spec.family == "llava" else None
        if folder is None or _model_type(folder) != "llava":
            raise UserError(
                f"judge {name!r} ({spec.family}) has no adapter yet; adapters: {', '.join(JUDGE_ADAPTERS)}"
            )
        return _load_llava(folder, device, name)
    if spec is None and _model_type(Path(name)) == "llava":
        return _load_llava(Path(name), device, name)
    return _load_embedded(name, device)


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


def _load_llava(folder: Path, device: str | torch.device, name: str) -> Any:
    from .llava import LlavaJudge

    try:
        return LlavaJudge.from_pretrained(folder, device=device)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(
            f"judge {name!r}: cannot load it as LLaVA-1.5 ({type(e).__name__}: {str(e).splitlines()[0]})"
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
    from ..presets import PRESETS

    return ", ".join(n for n, s in PRESETS.items() if s.role == "judge")

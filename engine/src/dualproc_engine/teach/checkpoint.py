"""Resumable checkpoints: `checkpoints/step-N/` holds everything a run needs to continue bit-exactly.

Files (safetensors and JSON only, never pickle):
- `lora.safetensors`: the trainable LoRA tensors in `lora_parameters()` order (exact restore);
- `pytorch_lora_weights.safetensors`: the same LoRA in the generator's diffusers layout (usable on its own);
- `optimizer.safetensors` + the optimiser's scalars in `state.json`;
- `rng.safetensors`: torch CPU (and CUDA) generator states; the loop's own `random.Random` state is in JSON;
- `state.json`: step, NaN-step count, elapsed time, the recipe fingerprint. Written last.
A checkpoint is written to a temporary folder and renamed into place, so a crash never leaves a half one.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

KEEP = 3
"""Checkpoints kept (the newest); older ones are deleted after a new one is in place."""
_STEP_DIR = re.compile(r"^step-(\d+)$")


def _random_state_to_json(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _random_state_from_json(data: list[Any]) -> tuple[Any, ...]:
    return (data[0], tuple(data[1]), data[2])


def save_checkpoint(
    folder: Path,
    step: int,
    gen: Any,
    params: list[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    rng: random.Random,
    extra: dict[str, Any],
) -> Path:
    """Write `folder/step-N/` atomically and prune old checkpoints; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step}"
    tmp = folder / f".tmp-step-{step}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(
        {f"lora.{i}": p.detach().cpu().contiguous() for i, p in enumerate(params)},
        str(tmp / "lora.safetensors"),
    )
    gen.save_lora(tmp)

    opt = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, state in opt["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    rng_tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            rng_tensors[f"torch_cuda.{i}"] = s
    save_file(rng_tensors, str(tmp / "rng.safetensors"))
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in opt["param_groups"]]
    state_json = {
        "step": step,
        "n_lora_tensors": len(params),
        "python_rng": _random_state_to_json(rng.getstate()),
        "optimizer_param_groups": groups,
        "optimizer_scalars": scalars,
        **extra,
    }
    (tmp / "state.json").write_text(json.dumps(state_json, indent=1))

    old = folder / f".old-step-{step}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    for stale in list_checkpoints(folder)[:-KEEP]:
        shutil.rmtree(stale, ignore_errors=True)
    return final


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints (those with state.json), oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for d in folder.iterdir():
        m = _STEP_DIR.match(d.name)
        if m and (d / "state.json").is_file():
            found.append((int(m.group(1)), d))
    return [d for _, d in sorted(found)]


def read_state(path: Path) -> dict[str, Any]:
    """A checkpoint's state.json."""
    state: dict[str, Any] = json.loads((path / "state.json").read_text())
    return state


def load_checkpoint(
    path: Path, params: list[torch.nn.Parameter], optimizer: torch.optim.Optimizer, rng: random.Random
) -> dict[str, Any]:
    """Restore LoRA, optimiser and RNG states in place; returns state.json."""
    state = read_state(path)
    lora = load_file(str(path / "lora.safetensors"))
    if state["n_lora_tensors"] != len(params) or len(lora) != len(params):
        raise ValueError(f"{path}: the checkpoint's LoRA has {len(lora)} tensors, the model {len(params)}")
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(lora[f"lora.{i}"])
    tensors = load_file(str(path / "optimizer.safetensors"))
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, idx, name = key.split(".", 2)
        opt_state.setdefault(int(idx), {})[name] = value
    for idx, values in state["optimizer_scalars"].items():
        opt_state.setdefault(int(idx), {}).update(values)
    groups = [
        {k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in state["optimizer_param_groups"]
    ]
    optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
    rng.setstate(_random_state_from_json(state["python_rng"]))
    rng_tensors = load_file(str(path / "rng.safetensors"))
    torch.set_rng_state(rng_tensors["torch_cpu"])
    cuda_keys = sorted(
        (k for k in rng_tensors if k.startswith("torch_cuda.")), key=lambda k: int(k.split(".")[1])
    )
    cuda = [rng_tensors[k] for k in cuda_keys]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    return state

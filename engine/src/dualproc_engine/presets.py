"""Named models a recipe or the CLI can ask for: the families the engine has adapters for.

`memory_gb` is the peak training memory published for the reference implementation (bf16, one A100), and
None where nobody has measured it yet; it is never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["generator", "judge"]
EMBEDDED = "embedded"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    role: Role
    source: str  # Hugging Face repo id, or EMBEDDED for weights shipped with the engine
    memory_gb: float | None = None


def _specs(*specs: ModelSpec) -> dict[str, ModelSpec]:
    return {s.name: s for s in specs}


PRESETS: dict[str, ModelSpec] = _specs(
    # Generators
    ModelSpec("scenes-generator", "embedded", "generator", EMBEDDED),
    ModelSpec("flux-schnell", "flux", "generator", "black-forest-labs/FLUX.1-schnell", 44.3),
    ModelSpec("flux-dev", "flux", "generator", "black-forest-labs/FLUX.1-dev"),
    ModelSpec("sd3-medium", "sd3", "generator", "stabilityai/stable-diffusion-3-medium-diffusers"),
    ModelSpec("sd3.5-medium", "sd3", "generator", "stabilityai/stable-diffusion-3.5-medium"),
    ModelSpec("sd3.5-large", "sd3", "generator", "stabilityai/stable-diffusion-3.5-large"),
    ModelSpec("sdxl-turbo", "sdxl-turbo", "generator", "stabilityai/sdxl-turbo"),
    ModelSpec("sd-turbo", "sdxl-turbo", "generator", "stabilityai/sd-turbo"),
    ModelSpec("sana-1600m", "sana", "generator", "Efficient-Large-Model/Sana_1600M_1024px_diffusers"),
    ModelSpec("sana-sprint", "sana", "generator", "Efficient-Large-Model/Sana_Sprint_1.6B_1024px_diffusers"),
    # Judges
    ModelSpec("scenes-judge", "embedded", "judge", EMBEDDED),
    ModelSpec("scenes-judge-heldout", "embedded", "judge", EMBEDDED),
    ModelSpec("scenes-judge-depth", "embedded", "judge", EMBEDDED),
    ModelSpec("scenes-judge-audit", "embedded", "judge", EMBEDDED),
    ModelSpec("qwen2.5-vl-7b", "qwen2.5-vl", "judge", "Qwen/Qwen2.5-VL-7B-Instruct", 19.6),
    ModelSpec("qwen2.5-vl-3b", "qwen2.5-vl", "judge", "Qwen/Qwen2.5-VL-3B-Instruct"),
    ModelSpec("idefics2-8b", "idefics", "judge", "HuggingFaceM4/idefics2-8b", 17.3),
    ModelSpec("idefics3-8b", "idefics", "judge", "HuggingFaceM4/Idefics3-8B-Llama3"),
    ModelSpec("smolvlm-2b", "idefics", "judge", "HuggingFaceTB/SmolVLM-Instruct"),
    ModelSpec("gemma3-4b", "gemma3", "judge", "google/gemma-3-4b-it"),
    ModelSpec("llava-1.5-7b", "llava", "judge", "llava-hf/llava-1.5-7b-hf"),
    ModelSpec("llava-next-7b", "llava", "judge", "llava-hf/llava-v1.6-mistral-7b-hf"),
    ModelSpec("paligemma2-3b", "paligemma", "judge", "google/paligemma2-3b-pt-224"),
)


def preset_names(role: Role) -> list[str]:
    """The presets of one role, in the order above (for messages that list them)."""
    return [name for name, spec in PRESETS.items() if spec.role == role]

"""The resolved recipe as typed, validated dataclasses: what `teach` reads, nothing else.

The app validates recipes against its schema (app/src/recipes/schema.ts) and sends the resolved dict, with
`prompts` and `eval.prompts` expanded to lists of strings. The same defaults are repeated here so that a
researcher can call `teach` from Python with a partial dict; a wrong key or value is one `UserError` line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError

OVERLAY_KINDS = ("horizon", "palette", "stroke", "points", "layout", "image")
KEEP_OVERLAY_KINDS = tuple(k for k in OVERLAY_KINDS if k != "image")
"""A keep question's visual prompt: the drawn overlays (a reference image of one's own is for teaching)."""
CHECKPOINT_PARTS = ("generator", "decoder", "judge")
"""What `training.gradient_checkpointing` can name: true is all three, false none."""


@dataclass(frozen=True)
class Question:
    question: str
    answer: str = "Yes"
    weight: float = 1.0
    visual_prompt: dict[str, Any] | None = field(
        default=None, metadata={"help": "an overlay spec (prompts/spec.py) or {kind: image, path, mode}"}
    )
    prompts: list[str] | None = field(
        default=None,
        metadata={"help": "asked only of images of these prompts (the app's {slot} and `when`); None: all"},
    )
    pair_of: int | None = field(
        default=None,
        metadata={"help": "the app's: asked with a pair of question N's palette colours (its pair_weight)"},
    )


@dataclass(frozen=True)
class KeepQuestion:
    """A question whose answer should not change: the judge's odds of Yes against No about each taught image
    are held to its odds about the base model's image from the same prompt and noise."""

    question: str
    weight: float = 1.0
    visual_prompt: dict[str, Any] | None = field(default=None, metadata={"help": "an overlay spec"})

    def as_questions(self) -> list[Question]:
        """The two questions the judge is asked: the same words answered Yes and answered No."""
        return [Question(self.question, answer, self.weight, self.visual_prompt) for answer in ("Yes", "No")]


@dataclass(frozen=True)
class EvalConfig:
    prompts: list[str] | None = field(default=None, metadata={"help": "held-out prompts; None: training"})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    lora_scales: list[float] = field(default_factory=lambda: [0.0, 5.0])


def _is_number(value: object) -> bool:
    """An int or a float, not a bool (YAML's true is an int to Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class TrainingConfig:
    """Training settings; names and defaults are the recipe schema's (which follow the paper's code)."""

    max_train_steps: int = 100
    learning_rate: float = 5e-5
    lora_rank: int = 16
    lora_alpha: float = 8
    lora_scale: float = 5
    use_scale: float | None = field(
        default=None,
        metadata={
            "help": "adapter scale the taught LoRA is used at (early stopping, metadata); None: lora_scale"
        },
    )
    lora_target_modules: list[str] | None = None
    train_batch_size: int = 1
    gradient_accumulation_steps: int = 1
    num_inference_steps: int = 1
    backprop_steps: int = 1
    noise_pool_size: int = 100
    max_grad_norm: float = 1.0
    resolution_px: int = 512
    gradient_checkpointing: bool | list[str] = False
    mixed_precision: str = "no"
    preserve_weight: float = 0.0
    preserve_palette_weight: float = field(
        default=0.0,
        metadata={"help": "weight of the colour-distribution match to the base model on the taught prompts"},
    )
    preserve_layout_weight: float = field(
        default=0.0,
        metadata={"help": "weight of the lightness-layout match to the base model on the taught prompts"},
    )
    preserve_diversity_weight: float = field(
        default=0.0,
        metadata={"help": "weight of keeping the taught images as different from each other as the base's"},
    )
    keep_weight: float = field(
        default=1.0,
        metadata={"help": "weight of the recipe's keep questions (the base image's answers kept)"},
    )
    early_stopping_patience: int | None = None
    judge_augment: list[str] = field(
        default_factory=list,
        metadata={"help": "random views the training judge sees (teach/views.py): hflip, vflip, shuffle"},
    )
    checkpointing_steps: int = 50
    max_nan_steps: int = 5
    seed: int = 0
    guidance_scale: float | None = field(
        default=None,
        metadata={"help": "the generator's guidance where it has one (CFG or embedded); None: default"},
    )
    judge_device: str | None = field(
        default=None, metadata={"help": "device of the judge (e.g. cuda:1); None: the generator's"}
    )
    judge_quantization: str = field(
        default="none", metadata={"help": "none, 8bit or 4bit: the judge's language model via bitsandbytes"}
    )
    vae_tiling: bool = field(
        default=False, metadata={"help": "VAE slicing and tiling where the family has it"}
    )
    offload_text_encoders: bool = field(
        default=False, metadata={"help": "text encoders to the CPU once every prompt is encoded"}
    )

    @property
    def used_scale(self) -> float:
        """The adapter scale the taught LoRA is used at: use_scale, else the lora_scale it trains at."""
        return self.lora_scale if self.use_scale is None else self.use_scale

    def __post_init__(self) -> None:
        positive_ints = (
            "max_train_steps",
            "lora_rank",
            "train_batch_size",
            "gradient_accumulation_steps",
            "num_inference_steps",
            "backprop_steps",
            "noise_pool_size",
            "checkpointing_steps",
            "max_nan_steps",
            "resolution_px",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"training.{name}: expected an integer >= 1, got {value!r}")
        for name in ("learning_rate", "lora_alpha", "lora_scale", "max_grad_norm"):
            value = getattr(self, name)
            if not _is_number(value) or not value > 0:
                raise UserError(f"training.{name}: expected a number > 0, got {value!r}")
        if self.use_scale is not None and (not _is_number(self.use_scale) or not self.use_scale > 0):
            raise UserError(f"training.use_scale: expected a number > 0 or null, got {self.use_scale!r}")
        for name in (
            "preserve_palette_weight",
            "preserve_layout_weight",
            "preserve_diversity_weight",
            "keep_weight",
        ):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise UserError(f"training.{name}: expected a number >= 0, got {value!r}")
        if self.preserve_diversity_weight > 0 and self.train_batch_size < 2:
            raise UserError(
                "training.preserve_diversity_weight compares the images of a batch with one another: "
                "it needs train_batch_size >= 2"
            )
        if not isinstance(self.preserve_weight, int | float) or self.preserve_weight < 0:
            raise UserError(f"training.preserve_weight: expected a number >= 0, got {self.preserve_weight!r}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise UserError(
                f"training.mixed_precision: expected no, bf16 or fp16, got {self.mixed_precision!r}"
            )
        if self.backprop_steps > self.num_inference_steps:
            raise UserError(
                f"training.backprop_steps ({self.backprop_steps}) must be <= num_inference_steps "
                f"({self.num_inference_steps})"
            )
        for name in ("vae_tiling", "offload_text_encoders"):
            if not isinstance(getattr(self, name), bool):
                raise UserError(f"training.{name}: expected true or false, got {getattr(self, name)!r}")
        parts = self.gradient_checkpointing
        if not isinstance(parts, bool) and (
            not isinstance(parts, list)
            or not parts
            or any(p not in CHECKPOINT_PARTS for p in parts)
            or len(set(parts)) != len(parts)
        ):
            raise UserError(
                "training.gradient_checkpointing: expected true, false or a list of the parts to checkpoint "
                f"({', '.join(CHECKPOINT_PARTS)}), got {parts!r}"
            )
        if self.judge_device is not None and not isinstance(self.judge_device, str):
            raise UserError(
                f"training.judge_device: expected a device name or null, got {self.judge_device!r}"
            )
        guidance = self.guidance_scale
        if guidance is not None and (isinstance(guidance, bool) or not isinstance(guidance, int | float)):
            raise UserError(f"training.guidance_scale: expected a number or null, got {guidance!r}")
        if self.judge_quantization not in ("none", "8bit", "4bit"):
            raise UserError(
                f"training.judge_quantization: expected none, 8bit or 4bit, got {self.judge_quantization!r}"
            )
        if self.seed < 0:
            raise UserError(f"training.seed: expected an integer >= 0, got {self.seed!r}")
        self._check_judge_augment()
        patience = self.early_stopping_patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
        ):
            raise UserError(
                f"training.early_stopping_patience: expected an integer >= 1 or null, got {patience!r}"
            )

    def _check_judge_augment(self) -> None:
        from .views import AUGMENTATIONS

        value = self.judge_augment
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise UserError(f"training.judge_augment: expected a list of names, got {value!r}")
        unknown = [a for a in value if a not in AUGMENTATIONS]
        if unknown:
            raise UserError(
                f"training.judge_augment: unknown {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(AUGMENTATIONS)}"
            )

    @property
    def checkpointed(self) -> frozenset[str]:
        """The parts whose activations are recomputed in backward (`CHECKPOINT_PARTS`)."""
        parts = self.gradient_checkpointing
        if isinstance(parts, bool):
            return frozenset(CHECKPOINT_PARTS) if parts else frozenset()
        return frozenset(parts)


@dataclass(frozen=True)
class TeachConfig:
    prompts: list[str]
    questions: list[Question]
    keep: list[KeepQuestion] = field(default_factory=list)
    """Questions whose answers the taught images keep from the base model's (`training.keep_weight`)."""
    keep_judge: str | None = None
    """The judge the keep questions are asked of; None: the training judge."""
    name: str | None = None
    description: str | None = None
    generator: str = "scenes-generator"
    judge: str = "scenes-judge"
    co_judges: list[str] = field(default_factory=list)
    """More training judges: the loss averages each wanted answer's log-probability over `judge` and these."""
    heldout_judge: str | None = "scenes-judge-heldout"
    eval: EvalConfig = field(default_factory=EvalConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    @property
    def keep_questions(self) -> list[Question]:
        """What the judge is asked for the keep questions: each one answered Yes, then answered No."""
        return [q for k in self.keep for q in k.as_questions()]

    @property
    def eval_prompts(self) -> list[str]:
        return self.eval.prompts or self.prompts


def _build(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UserError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(names))}")
    try:
        return cls(**data)
    except TypeError as e:  # a missing required key
        raise UserError(f"{where}: {e}") from None


def parse_recipe(recipe: dict[str, Any]) -> TeachConfig:
    """The resolved recipe dict -> `TeachConfig`; one-line `UserError` on a bad key or value."""
    if not isinstance(recipe, dict):
        raise UserError(f"recipe: expected a mapping, got {type(recipe).__name__}")
    data = dict(recipe)
    prompts = data.get("prompts")
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) and p for p in prompts):
        raise UserError("prompts: expected one prompt or a non-empty list of prompts (templates expanded)")
    data["prompts"] = list(prompts)
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise UserError("questions: expected at least one question with its wanted answer")
    parsed = []
    for i, q in enumerate(questions):
        question = _build(Question, q, f"questions[{i}]")
        _check_asked(question, f"questions[{i}]", OVERLAY_KINDS)
        if not isinstance(question.answer, str) or not question.answer.strip():
            raise UserError(f"questions[{i}].answer: must not be empty")
        asked_of = question.prompts
        if asked_of is not None and (
            not isinstance(asked_of, list) or not all(isinstance(p, str) for p in asked_of)
        ):
            raise UserError(f"questions[{i}].prompts: expected a list of prompts or null, got {asked_of!r}")
        parsed.append(question)
    if sum(q.weight for q in parsed) <= 0:
        raise UserError("questions: at least one question needs a weight > 0")
    for prompt in data["prompts"]:
        if not any(q.weight > 0 and (q.prompts is None or prompt in q.prompts) for q in parsed):
            raise UserError(f"prompts: no question with a weight > 0 is asked of {prompt!r}")
    data["questions"] = parsed
    data["keep"] = _parse_keep(data.get("keep"))
    evaluation = dict(data.get("eval") or {})
    if isinstance(evaluation.get("prompts"), str):
        evaluation["prompts"] = [evaluation["prompts"]]
    data["eval"] = _build(EvalConfig, evaluation, "eval")
    data["training"] = _build(TrainingConfig, data.get("training") or {}, "training")
    config: TeachConfig = _build(TeachConfig, data, "recipe")
    _check_co_judges(config)
    _check_keep_judge(config)
    if config.training.early_stopping_patience is not None and config.heldout_judge is None:
        raise UserError(
            "training.early_stopping_patience: early stopping watches the held-out judge; set heldout_judge"
        )
    return config


def _check_asked(q: Question | KeepQuestion, where: str, overlay_kinds: tuple[str, ...]) -> None:
    """What every question put to a judge needs: words, a weight >= 0, a visual prompt of a known kind."""
    if not isinstance(q.question, str) or not q.question.strip():
        raise UserError(f"{where}.question: must not be empty")
    if not _is_number(q.weight) or q.weight < 0:
        raise UserError(f"{where}.weight: expected a number >= 0, got {q.weight!r}")
    vp = q.visual_prompt
    if vp is not None and (not isinstance(vp, dict) or vp.get("kind") not in overlay_kinds):
        kind = vp.get("kind") if isinstance(vp, dict) else vp
        raise UserError(
            f"{where}.visual_prompt.kind: expected one of {', '.join(overlay_kinds)}, got {kind!r}"
        )


def _parse_keep(keep: Any) -> list[KeepQuestion]:
    if keep is None:
        return []
    if not isinstance(keep, list):
        raise UserError(f"keep: expected a list of questions, got {type(keep).__name__}")
    parsed = []
    for i, k in enumerate(keep):
        q = _build(KeepQuestion, k, f"keep[{i}]")
        _check_asked(q, f"keep[{i}]", KEEP_OVERLAY_KINDS)
        parsed.append(q)
    if parsed and sum(q.weight for q in parsed) <= 0:
        raise UserError("keep: at least one question needs a weight > 0")
    return parsed


def _check_keep_judge(config: TeachConfig) -> None:
    """The keep questions' judge shapes the LoRA too, so it cannot be the one that checks it."""
    name = config.keep_judge
    if name is not None and (not isinstance(name, str) or not name):
        raise UserError(f"keep_judge: expected a judge name or null, got {name!r}")
    if config.keep and name is not None and name == config.heldout_judge:
        raise UserError(
            f"keep_judge: {name!r} is the held-out judge; a judge the LoRA is taught against cannot check "
            "it: choose another heldout_judge"
        )


def _check_co_judges(config: TeachConfig) -> None:
    """Co-teaching judges are names, none of them the training judge again or the held-out judge: a judge
    the LoRA was trained against cannot check it."""
    co = config.co_judges
    if not isinstance(co, list) or not all(isinstance(name, str) and name for name in co):
        raise UserError(f"co_judges: expected a list of judge names, got {co!r}")
    if config.judge in co or len(set(co)) < len(co):
        raise UserError("co_judges: each judge may teach once (the training judge is already `judge`)")
    if config.heldout_judge is not None and config.heldout_judge in co:
        raise UserError(
            f"co_judges: {config.heldout_judge!r} is the held-out judge; a judge that teaches the LoRA "
            "cannot check it: choose another heldout_judge"
        )

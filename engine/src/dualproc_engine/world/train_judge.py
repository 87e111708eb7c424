"""Train an embedded Scenes judge from a seed: `train_judge(out_dir, seed=0, ...)`.

The data are rendered on the fly: every `batches_per_chunk` steps a fresh chunk of scenes from the run's
own seed range (world/judge_data.py) and their QA records, all families, with overlays. Each batch is drawn
from the chunk by a family mix that follows the running loss of each family (a family the judge has
learned gets less of the batch, never under `min_share`), at half Yes and half No. The curriculum: near-miss
negatives (judge_data.HARD_NEGATIVE) are left out at first and let in linearly over the first
`curriculum_frac` of the steps. A share of the images is degraded (blur, noise, JPEG, jitter) before its
overlay. The loss is the judge contract's: -log P(wanted answer) over the full vocabulary.

Resumable: a checkpoint (model, optimiser, mix state, step) is written to out_dir/checkpoint every
`checkpoint_every` steps and on cancel; a batch depends only on (seed, step, mix state), so a resumed run
continues as if never stopped. At the end the judge's temperature is fitted on a calibration set and folded
into `lm_head` (world/calibrate_judge.py), and the model is saved with its processor in out_dir
(safetensors + configs).

    python -m dualproc_engine.world.train_judge --out DIR --seed 0 --max-steps 2000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from .calibrate_judge import calibrate
from .judge_data import SEED_BASES, drop_words, is_hard, record_images, scenes_qa
from .qa.common import LANDSCAPE_OBJECTS, LINEART_OBJECTS

ProgressFn = Callable[[int, int | None, str, str | None], None]
MetricFn = Callable[[str, float, int | None], None]

PER_SCENE = {
    "horizon_line": 2,
    "horizon_band": 1,
    "palette_match": 1,
    "stroke_width": 2,
    "relative_depth": 2,
    "object_presence": 1,
    "object_count": 1,
    "object_color": 1,
    "sky": 1,
    "time_of_day": 1,
    "layout_match": 1,
}
"""Questions per scene and family in a chunk: more for the relational families the mix leans on."""


@dataclass
class TrainJudgeConfig:
    seed: int = field(default=0, metadata={"help": "initialisation and data seed"})
    max_train_steps: int = field(default=2000, metadata={"help": "optimiser steps"})
    phrasing_split: str = field(default="train", metadata={"help": "QA phrasings: train, heldout or all"})
    vision: str = field(default="resnet", metadata={"help": "vision tower: resnet or bit"})
    vision_stages: int = field(
        default=3, metadata={"help": "the tower's stages: 3 gives 4 x 4 image tokens at 64 px, 2 gives 8 x 8"}
    )
    train_batch_size: int = 64
    learning_rate: float = field(default=5e-4, metadata={"help": "peak AdamW lr (DESIGN: ~5e-4 works)"})
    warmup_steps: int = 100
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    scenes_per_chunk: int = 128
    batches_per_chunk: int = 6
    curriculum_frac: float = field(
        default=0.3, metadata={"help": "share of steps over which near misses arrive"}
    )
    degrade_share: float = field(default=0.25, metadata={"help": "share of training images degraded"})
    aux_weight: float = field(
        default=1.0, metadata={"help": "weight of the vision tower's auxiliary read-out loss (0: none)"}
    )
    painted_palette_share: float = field(
        default=0.5,
        metadata={"help": "share of palette Nos asked again with strip colours painted in"},
    )
    recolored_palette_share: float = field(
        default=0.0,
        metadata={"help": "share of palette records asked again of the scene repainted in strip colours"},
    )
    tiled_palette_share: float = field(
        default=0.0,
        metadata={
            "help": "share of plain palette records asked again with the swatches tiled over the image"
        },
    )
    attacked_palette_share: float = field(
        default=0.0,
        metadata={
            "help": "palette pictures per batch (as a share of the batch) pushed to change the judge's "
            "answer, then answered by their pixels (world/palette_attack.py); 0: none"
        },
    )
    attack_steps: int = field(default=4, metadata={"help": "gradient steps of each push"})
    min_share: float = field(default=0.03, metadata={"help": "least share of a batch per family"})
    max_share: float = field(default=0.3, metadata={"help": "greatest share of a batch per family"})
    family_weights: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "help": "family -> factor on its running loss when the batch is shared out (a family to "
            "focus on gets more of it); unnamed families 1"
        },
    )
    checkpoint_every: int = 200
    eval_every: int = 200
    init_from: str = field(
        default="",
        metadata={"help": "a judge folder to fine-tune (its tokenizer and weights) instead of a new one"},
    )
    init_tower_from: str = field(
        default="",
        metadata={
            "help": "weights for a new judge's vision tower (a safetensors file of its state, e.g. from "
            "studies/tower_pretraining.py); empty: a random tower"
        },
    )
    generated_pool: str = field(
        default="",
        metadata={
            "help": "pool files of measured generated images, comma separated (world/judge_generated.py)"
        },
    )
    generated_share: float = field(
        default=0.3, metadata={"help": "share of each batch from the generated pool"}
    )
    generated_families: str = field(
        default="",
        metadata={
            "help": "question families the generated pool is asked, comma separated; empty: every family it "
            "can answer (a fine-tune for one family leaves the judge's answers to the others as they were)"
        },
    )
    aux_object_kinds: str = field(
        default="",
        metadata={
            "help": "the auxiliary read-out also says, per object kind, whether the image shows one: "
            "'asked' (the kind an object presence question asks about) or 'all' (every kind, on every "
            "rendered image); empty: off (the tower learns shapes slowly from the answer loss alone)"
        },
    )
    word_dropout: float = field(
        default=0.0,
        metadata={
            "help": "probability that each word of a training question is replaced by one the tokenizer "
            "does not know, so that a wording with unknown words gets an unsure answer, not a confident guess"
        },
    )

    calibration_word_dropout: float = field(
        default=0.3,
        metadata={
            "help": "the temperature is fitted on the calibration questions as written and again with this "
            "share of their words unknown (world/calibrate_judge.py); 0: as written only"
        },
    )

    def __post_init__(self) -> None:
        if self.phrasing_split not in ("train", "heldout", "all"):
            raise ValueError(f"phrasing_split: expected train, heldout or all, got {self.phrasing_split!r}")
        if self.max_train_steps < 1:
            raise ValueError("max_train_steps: must be at least 1")
        if self.init_from and self.init_tower_from:
            raise ValueError("init_tower_from starts a new judge's tower; init_from fine-tunes a whole judge")
        if not 0 <= self.generated_share < 1:
            raise ValueError("generated_share: must be in [0, 1)")
        for name in ("word_dropout", "calibration_word_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name}: must be in [0, 1)")
        if not 0 <= self.attacked_palette_share <= 1:
            raise ValueError("attacked_palette_share: must be in [0, 1]")
        if self.attack_steps < 1:
            raise ValueError("attack_steps: must be at least 1")
        for name in ("painted_palette_share", "recolored_palette_share", "tiled_palette_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: must be in [0, 1]")
        check_family_weights(self.family_weights)
        try:
            check_families(self.generated_families.split(",") if self.generated_families else [])
        except ValueError as e:
            raise ValueError(f"generated_families: {e}") from None
        if self.aux_object_kinds not in OBJECT_KIND_MODES:
            raise ValueError(
                f"aux_object_kinds: expected one of {OBJECT_KIND_MODES}, got {self.aux_object_kinds!r}"
            )


OBJECT_KIND_MODES = ("", "asked", "all")
"""The per-kind object read-out: off, the kind asked about, or every kind on every rendered image."""


def learning_rate_at(step: int, cfg: TrainJudgeConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.max_train_steps - cfg.warmup_steps)
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def check_families(families: list[str]) -> None:
    """ValueError, in one line, where a family is not a Scenes QA family."""
    from .qa import FAMILIES

    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown question family {', '.join(unknown)}; known: {', '.join(FAMILIES)}")


def check_family_weights(weights: dict[str, float]) -> None:
    """ValueError, in one line, where a family is not a Scenes QA family or its factor is not above 0."""
    try:
        check_families(list(weights))
    except ValueError as e:
        raise ValueError(f"family_weights: {e}") from None
    for family, weight in weights.items():
        if not weight > 0:
            raise ValueError(f"family_weights: {family} must be > 0, got {weight}")


def family_shares(loss_ema: dict[str, float], cfg: TrainJudgeConfig) -> dict[str, float]:
    """Batch share per family, proportional to its running loss (times its `family_weights` factor), clipped
    to [min_share, max_share]."""
    raw = {f: max(v, 1e-3) * cfg.family_weights.get(f, 1.0) for f, v in loss_ema.items()}
    total = sum(raw.values())
    shares = {f: min(cfg.max_share, max(cfg.min_share, v / total)) for f, v in raw.items()}
    total = sum(shares.values())
    return {f: v / total for f, v in shares.items()}


def draw_batch(
    chunk_records: list[dict[str, Any]],
    step: int,
    cfg: TrainJudgeConfig,
    loss_ema: dict[str, float],
    size: int | None = None,
) -> tuple[list[dict[str, Any]], list[str | None], random.Random]:
    """Records for one step (family mix, half Yes / half No, curriculum) and each one's degradation."""
    from ..judges.degrade import DEGRADATIONS

    rng = random.Random(f"{cfg.seed}/batch/{step}")
    size = cfg.train_batch_size if size is None else size
    let_in = min(1.0, step / max(1.0, cfg.curriculum_frac * cfg.max_train_steps))
    pools: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in chunk_records:
        if is_hard(record) and rng.random() >= let_in:
            continue
        pools.setdefault((record["family"], record["answer"]), []).append(record)
    families = [f for f in loss_ema if (f, "Yes") in pools and (f, "No") in pools]
    shares = family_shares({f: loss_ema[f] for f in families}, cfg)
    picked = rng.choices(families, weights=[shares[f] for f in families], k=size)
    batch = [rng.choice(pools[(f, "Yes" if i % 2 == 0 else "No")]) for i, f in enumerate(picked)]
    kinds = [rng.choice(DEGRADATIONS) if rng.random() < cfg.degrade_share else None for _ in batch]
    return batch, kinds, rng


# -- checkpoints (safetensors for tensors, JSON for the rest) ----------------------------------------------
def _save_checkpoint(
    folder: Path, model: Any, optimizer: torch.optim.Optimizer, state: dict[str, Any]
) -> None:
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
    opt = optimizer.state_dict()
    tensors = {f"{i}.{k}": v for i, s in opt["state"].items() for k, v in s.items() if torch.is_tensor(v)}
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps({**state, "param_groups": opt["param_groups"]}, indent=1))
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        folder.rename(old)
        tmp.rename(folder)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        tmp.rename(folder)


def _load_checkpoint(folder: Path, model: Any, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    state = json.loads((folder / "state.json").read_text())
    tensors = load_file(str(folder / "optimizer.safetensors"))
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        opt_state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    return state


# -- auxiliary read-out of the vision tower ------------------------------------------------------------------
AUX_FAMILIES = ("horizon_line", "palette_match", "stroke_width", "layout_match", "relative_depth")
"""Families whose answer the image (with its visual prompt) decides alone, whatever the wording."""


OBJECT_KIND_COLUMNS = tuple(f"object_presence:{k}" for k in sorted({*LANDSCAPE_OBJECTS, *LINEART_OBJECTS}))
"""With `aux_object_kinds`: one more read-out per object kind, "does the image show one?"."""


def aux_columns(object_kinds: str) -> tuple[str, ...]:
    return AUX_FAMILIES + (OBJECT_KIND_COLUMNS if object_kinds else ())


def aux_target(record: dict[str, Any], object_kinds: str = "") -> tuple[str, float] | None:
    """The read-out column of a record and its image-decided truth (1.0 / 0.0), or None for families the
    question's slots decide.

    For relative depth it is "A is closer than B", whichever relation the question asks about; with
    `object_kinds` "asked", object presence is the column of the kind asked about.
    """
    family = record["family"]
    yes = record["answer"] == "Yes"
    if object_kinds == "asked" and family == "object_presence":
        return f"object_presence:{record['params']['kind']}", float(yes)
    if family not in AUX_FAMILIES:
        return None
    if family == "relative_depth":
        return family, float(yes != (record["params"]["relation"] == "farther"))
    return family, float(yes)


class AuxReadout(torch.nn.Module):
    """A linear read-out per image-decided family from the tower's feature map (mean and max pooled).

    Why: the language model has to find the relational evidence (is the line on the horizon?) in the image
    tokens and bind it to the question's words at once, and with the answer loss alone the relational
    families sat at chance for 1,200 steps while the same tower with a linear read-out learns the horizon
    line in 50. This loss shapes the tower from the first step; the read-out is dropped after training
    (the saved model is the stock VLM, nothing else).
    """

    def __init__(self, channels: int, object_kinds: str = ""):
        super().__init__()
        self.object_kinds = object_kinds
        self.columns = aux_columns(object_kinds)
        self.linear = torch.nn.Linear(2 * channels, len(self.columns))

    def forward(self, feature_map: torch.Tensor) -> torch.Tensor:
        flat = feature_map.flatten(2)  # (B, C, H*W)
        return self.linear(torch.cat([flat.mean(2), flat.amax(2)], dim=1))


def aux_loss(
    readout: AuxReadout,
    feature_map: torch.Tensor,
    records: list[dict[str, Any]],
    kinds_in_sight: list[dict[str, bool] | None] | None = None,
) -> torch.Tensor:
    """Binary cross-entropy of the read-out on the records that have an image-decided truth (0 if none).

    With `object_kinds` "all", `kinds_in_sight` (one entry per record: its scene's kinds, or None for a
    generated image) adds every kind's presence for every rendered image, as a second mean: a rendered
    batch then teaches the tower some 300 object labels instead of the few object presence questions in it,
    without drowning the relational families' few labels.
    """
    logits = readout(feature_map)
    family_cells = [
        (i, readout.columns.index(read[0]), read[1])
        for i, record in enumerate(records)
        if (read := aux_target(record, readout.object_kinds)) is not None
    ]
    kind_cells = []
    if readout.object_kinds == "all" and kinds_in_sight is not None:
        kind_cells = [
            (i, readout.columns.index(f"object_presence:{kind}"), float(seen))
            for i, kinds in enumerate(kinds_in_sight)
            for kind, seen in (kinds or {}).items()
        ]
    total = feature_map.sum() * 0.0
    for cells in (family_cells, kind_cells):
        if cells:
            rows, cols, targets = zip(*cells, strict=True)
            picked = logits[torch.tensor(rows), torch.tensor(cols)]
            total = total + torch.nn.functional.binary_cross_entropy_with_logits(
                picked, torch.tensor(targets)
            )
    return total


# -- generated images labelled by the measurers ---------------------------------------------------------
class PoolImages:
    """A pool's images by row, converted to [0, 1] one at a time when asked for (`pool[i]`)."""

    def __init__(self, pool: dict[str, Any]):
        self.pool = pool

    def __getitem__(self, row: int) -> torch.Tensor:
        from .judge_generated import pool_images

        return pool_images(self.pool, [row])[0]


class GeneratedData:
    """The generated pool's images and QA records (world/judge_generated.py), drawn half Yes, half No."""

    def __init__(self, pool: dict[str, Any], records: list[dict[str, Any]], seed: int):
        self.pool, self.seed = pool, seed  # images stay uint8: pools of ten thousand images stay small
        self.pools: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in records:
            self.pools.setdefault((record["family"], record["answer"]), []).append(record)
        self.families = sorted(f for f, a in self.pools if a == "Yes" and (f, "No") in self.pools)
        if not self.families:
            raise ValueError("generated_pool: no family has both Yes and No records")

    @classmethod
    def load(cls, cfg: TrainJudgeConfig) -> GeneratedData:
        from .judge_generated import depth_records, load_pool, palette_records, pool_records, stroke_records
        from .qa.palette import tiled_records

        pool = load_pool(cfg.generated_pool)
        records = pool_records(pool["scenes"], cfg.seed, cfg.phrasing_split)
        records += depth_records(pool["scenes"], cfg.seed, cfg.phrasing_split)
        records += stroke_records(pool["scenes"], cfg.seed, cfg.phrasing_split)
        palette = palette_records(pool, cfg.seed, cfg.phrasing_split)
        records += palette
        if cfg.tiled_palette_share > 0:
            rng = random.Random(f"{cfg.seed}/generated/tiled")
            records += tiled_records(palette, PoolImages(pool), cfg.tiled_palette_share, rng)
        if cfg.generated_families:
            asked = set(cfg.generated_families.split(","))
            records = [r for r in records if r["family"] in asked]
        return cls(pool, records, cfg.seed)

    def draw(self, step: int, n: int) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}/generated/{step}")
        return [
            rng.choice(self.pools[(rng.choice(self.families), "Yes" if i % 2 == 0 else "No")])
            for i in range(n)
        ]

    def palette_draw(self, rng: random.Random, n: int) -> list[dict[str, Any]]:
        """`n` palette records (either answer), or none if the pool has no palette question."""
        records = self.pools.get(("palette_match", "Yes"), []) + self.pools.get(("palette_match", "No"), [])
        return rng.sample(records, min(n, len(records)))

    def plain_images(self, records: list[dict[str, Any]]) -> torch.Tensor:
        """The records' images in [0, 1], without overlays."""
        from .judge_generated import pool_images

        return pool_images(self.pool, [r["scene_index"] for r in records])

    def images_for(self, records: list[dict[str, Any]]) -> torch.Tensor:
        """The records' images with their overlays, converted to [0, 1] only for the images drawn."""
        from .judge_generated import pool_images

        picked = pool_images(self.pool, [r["scene_index"] for r in records])
        return record_images(picked, [{**r, "scene_index": i} for i, r in enumerate(records)])


# -- palette pictures pushed to change the judge's answer ----------------------------------------------------
def attacked_batch(
    judge: Any, chunk: Any, generated: GeneratedData | None, step: int, cfg: TrainJudgeConfig
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """This step's pushed palette pictures with overlays, and their records (world/palette_attack.py):
    half from the rendered chunk (scenes as rendered), half from the generated pool when there is one."""
    from .palette_attack import attacked_palette_records

    n = round(cfg.attacked_palette_share * cfg.train_batch_size)
    rng = random.Random(f"{cfg.seed}/attack/{step}")
    plain = [
        r
        for r in chunk.records
        if r["family"] == "palette_match" and "recolor" not in r["params"] and "paint" not in r["params"]
    ]
    from_pool = generated.palette_draw(rng, n // 2) if generated is not None else []
    rendered = rng.sample(plain, min(len(plain), n - len(from_pool)))
    images = [chunk.images[[r["scene_index"] for r in rendered]]]
    if from_pool:
        assert generated is not None
        images.append(generated.plain_images(from_pool))
    was_training = judge.model.training
    judge.model.eval()  # the push sees the judge as the teach loop does (BatchNorm statistics fixed)
    try:
        return attacked_palette_records(judge, torch.cat(images), rendered + from_pool, cfg.attack_steps, rng)
    finally:
        judge.model.train(was_training)


# -- the loop ----------------------------------------------------------------------------------------------
def load_tower(model: Any, path: str) -> None:
    """A new judge's vision tower from a safetensors file of its state; a file of another tower is one
    `UserError` line."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from ..errors import UserError

    try:
        state = load_file(path)
    except (OSError, SafetensorError) as e:
        raise UserError(f"init_tower_from: cannot read {path} as safetensors ({type(e).__name__})") from None
    try:
        model.model.vision_tower.load_state_dict(state)
    except RuntimeError:
        raise UserError(
            f"init_tower_from: {path} is not the weights of this judge's vision tower "
            f"({model.config.vision_config.model_type}, stages {model.config.vision_config.hidden_sizes})"
        ) from None


def train_judge(
    out_dir: str | Path,
    seed: int = 0,
    max_steps: int = 2000,
    phrasing_split: str = "train",
    vision: str = "resnet",
    on_progress: ProgressFn | None = None,
    on_metric: MetricFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    validation_scenes: int = 96,
    calibration_scenes: int = 160,
    **overrides: Any,
) -> dict[str, Any]:
    """Train (or resume) a Scenes judge in `out_dir`; returns a summary (steps, seconds, accuracies, files).

    `overrides` set other TrainJudgeConfig fields. `validation_scenes` / `calibration_scenes` size the
    held-aside sets for the running accuracy and the temperature fit. Raises `JobCancelled` after saving
    a checkpoint when `should_stop()` turns true.
    """
    from ..errors import JobCancelled
    from ..judges.embedded import EmbeddedJudge
    from ..judges.evaluate import accuracy_by_family, p_yes
    from ..judges.scenes_vlm import JudgeArchitecture, build_judge_files, copy_judge_files
    from ..world.qa import FAMILIES

    cfg = TrainJudgeConfig(
        seed=seed, max_train_steps=max_steps, phrasing_split=phrasing_split, vision=vision, **overrides
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda *a: None)
    metric = on_metric or (lambda *a: None)
    stop = should_stop or (lambda: False)
    arch = JudgeArchitecture(vision=cfg.vision, vision_stages=cfg.vision_stages)

    if cfg.init_from:
        model, processor = copy_judge_files(cfg.init_from, out)
        torch.manual_seed(
            cfg.seed
        )  # the read-out's initialisation (a new judge's follows build_model's seed)
    else:
        model, processor = build_judge_files(out, arch, cfg.phrasing_split, cfg.seed)
        if cfg.init_tower_from:
            load_tower(model, cfg.init_tower_from)
    judge = EmbeddedJudge(model, processor)
    readout = AuxReadout(model.config.vision_config.hidden_size, cfg.aux_object_kinds)
    # model and read-out are checkpointed and optimised together; only the model is saved at the end
    trainable = torch.nn.ModuleDict({"model": model, "aux": readout})
    tower_map: dict[str, torch.Tensor] = {}  # the vision tower's last output, for the read-out
    model.model.vision_tower.register_forward_hook(
        lambda _m, _i, out: tower_map.__setitem__("last", out.last_hidden_state)
    )
    decay = [p for n, p in trainable.named_parameters() if p.ndim >= 2 and "embed" not in n]
    no_decay = [p for n, p in trainable.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.learning_rate,
        betas=(0.9, 0.98),
    )

    checkpoint = out / "checkpoint"
    loss_ema = {f: math.log(2) for f in FAMILIES}
    step, elapsed_s, history = 0, 0.0, []
    if (checkpoint / "state.json").is_file():
        state = _load_checkpoint(checkpoint, trainable, optimizer)
        if state["config"] != asdict(cfg):
            raise ValueError(f"{out}: its checkpoint was made with another configuration; use a new --out")
        step, elapsed_s, loss_ema, history = (
            state["step"],
            state["elapsed_s"],
            state["loss_ema"],
            state["history"],
        )
    log = (out / "metrics.jsonl").open("a")

    def save() -> None:
        _save_checkpoint(
            checkpoint,
            trainable,
            optimizer,
            {
                "config": asdict(cfg),
                "step": step,
                "elapsed_s": elapsed_s,
                "loss_ema": loss_ema,
                "history": history,
            },
        )

    generated = GeneratedData.load(cfg) if cfg.generated_pool else None
    validation = scenes_qa(SEED_BASES["validation"] + cfg.seed, validation_scenes, cfg.phrasing_split)
    val_images = record_images(validation.images, validation.records)

    def evaluate() -> dict[str, float]:
        model.eval()
        acc = accuracy_by_family(p_yes(judge, val_images, validation.records), validation.records)
        model.train()
        return acc

    model.train()
    chunk_index, chunk = -1, None
    started = time.monotonic() - elapsed_s
    while step < cfg.max_train_steps:
        if stop():
            save()
            raise JobCancelled()
        if step // cfg.batches_per_chunk != chunk_index:
            chunk_index = step // cfg.batches_per_chunk
            chunk = scenes_qa(
                SEED_BASES["train"] * (cfg.seed + 1) + chunk_index,
                cfg.scenes_per_chunk,
                cfg.phrasing_split,
                per_scene=PER_SCENE,
                painted_palette_share=cfg.painted_palette_share,
                recolored_palette_share=cfg.recolored_palette_share,
                tiled_palette_share=cfg.tiled_palette_share,
            )
        assert chunk is not None
        n_generated = round(cfg.generated_share * cfg.train_batch_size) if generated else 0
        records, kinds, rng = draw_batch(
            chunk.records, step, cfg, loss_ema, cfg.train_batch_size - n_generated
        )
        images = record_images(chunk.images, records, kinds, rng)
        in_sight: list[dict[str, bool] | None] = [chunk.kinds_in_sight[r["scene_index"]] for r in records]
        if generated is not None:
            extra = generated.draw(step, n_generated)
            records, images = records + extra, torch.cat([images, generated.images_for(extra)])
            in_sight += [None] * len(extra)  # a generated image's objects are not known
        pushed: list[dict[str, Any]] = []
        if cfg.attacked_palette_share > 0:
            pushed_images, pushed = attacked_batch(judge, chunk, generated, step, cfg)
            records, images = records + pushed, torch.cat([images, pushed_images])
            in_sight += [None] * len(pushed)  # moved pictures: their objects are not vouched for
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, cfg)
        questions = [r["question"] for r in records]
        if cfg.word_dropout > 0:
            words_rng = random.Random(cfg.seed * 1_000_003 + step)  # resumable: a function of the step
            questions = [drop_words(q, cfg.word_dropout, words_rng) for q in questions]
        logprob = judge.logprob_pairs(images, questions, [r["answer"] for r in records])
        loss = -logprob.mean()
        auxiliary = (
            aux_loss(readout, tower_map["last"], records, in_sight) if cfg.aux_weight > 0 else loss * 0.0
        )
        optimizer.zero_grad(set_to_none=True)
        (loss + cfg.aux_weight * auxiliary).backward()
        torch.nn.utils.clip_grad_norm_(trainable.parameters(), cfg.max_grad_norm)
        optimizer.step()
        per_record = (-logprob).detach()
        for family in {r["family"] for r in records}:
            values = [float(v) for v, r in zip(per_record, records, strict=True) if r["family"] == family]
            loss_ema[family] = 0.9 * loss_ema[family] + 0.1 * sum(values) / len(values)
        step += 1
        elapsed_s = time.monotonic() - started
        progress(step, cfg.max_train_steps, "steps", None)
        if step % 20 == 0 or step == cfg.max_train_steps:
            row = {
                "step": step,
                "loss": float(loss.detach()),
                "aux_loss": float(auxiliary.detach()),
                "lr": learning_rate_at(step - 1, cfg),
                "elapsed_s": elapsed_s,
            }
            row.update({f"loss_ema/{f}": round(v, 4) for f, v in loss_ema.items()})
            if pushed:  # how often the push fooled the judge (its answer to a pushed picture was wrong)
                wrong = per_record[len(records) - len(pushed) :] > math.log(2)
                row["attack/fooled"] = round(float(wrong.float().mean()), 4)
                row["attack/yes"] = round(sum(r["answer"] == "Yes" for r in pushed) / len(pushed), 4)
            log.write(json.dumps(row) + "\n")
            log.flush()
            metric("loss", float(loss.detach()), step)
        if step % cfg.eval_every == 0 or step == cfg.max_train_steps:
            acc = evaluate()
            history.append({"step": step, "elapsed_s": round(elapsed_s, 1), "accuracy": acc})
            log.write(json.dumps({"step": step, "validation_accuracy": acc}) + "\n")
            log.flush()
            for family, value in acc.items():
                metric(f"validation_accuracy/{family}", value, step)
        if step % cfg.checkpoint_every == 0 and step < cfg.max_train_steps:
            save()
    log.close()
    train_s = elapsed_s

    model.eval()
    temperature = calibrate(
        judge, cfg.seed, cfg.phrasing_split, cfg.calibration_word_dropout, calibration_scenes
    )
    final_acc = evaluate()
    metric("temperature", temperature, step)

    model.save_pretrained(str(out))
    summary = {
        "config": asdict(cfg),
        "architecture": asdict(arch),
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": step,
        "train_time_s": round(train_s, 1),
        "temperature": temperature,
        "validation_accuracy": final_acc,
        "history": history,
        "torch_threads": torch.get_num_threads(),
    }
    tmp = out / "training.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    os.replace(tmp, out / "training.json")
    return summary


def parse_family_weights(items: list[str]) -> dict[str, float]:
    """["palette_match=4", ...] -> {"palette_match": 4.0}; a malformed item is a one-line error."""
    weights = {}
    for item in items:
        family, _, factor = item.partition("=")
        try:
            weights[family.strip()] = float(factor)
        except ValueError:
            raise SystemExit(f"--family-weight: expected FAMILY=FACTOR, got {item!r}") from None
    return weights


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train an embedded Scenes judge (resumes from --out).")
    parser.add_argument("--out", required=True, help="run folder: checkpoints, metrics, the final model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--phrasing-split", default="train", choices=["train", "heldout", "all"])
    parser.add_argument("--vision", default="resnet", choices=["resnet", "bit"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--vision-stages",
        type=int,
        default=3,
        choices=[2, 3],
        help="3: 4 x 4 image tokens at 64 px; 2: 8 x 8",
    )
    parser.add_argument("--init-from", default="", help="judge folder to fine-tune instead of a new judge")
    parser.add_argument(
        "--init-tower-from", default="", help="weights for a new judge's vision tower (safetensors)"
    )
    parser.add_argument("--generated-pool", default="", help="pool files of measured generated images (a,b)")
    parser.add_argument("--generated-share", type=float, default=0.3, help="batch share from the pool")
    parser.add_argument(
        "--generated-families", default="", help="families the pool is asked, comma separated (default: all)"
    )
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--warmup-steps", type=int, default=100)
    parser.add_argument("--curriculum-frac", type=float, default=0.3)
    parser.add_argument("--max-share", type=float, default=0.3, help="greatest batch share of one family")
    parser.add_argument(
        "--family-weight",
        action="append",
        default=[],
        metavar="FAMILY=FACTOR",
        help="weigh a family's running loss by FACTOR when sharing out the batch (repeatable)",
    )
    parser.add_argument(
        "--aux-object-kinds",
        default="",
        choices=[mode for mode in OBJECT_KIND_MODES if mode],
        help="read out object presence per kind from the tower too: the kind asked, or all kinds",
    )
    parser.add_argument(
        "--word-dropout", type=float, default=0.0, help="share of question words replaced by an unknown one"
    )
    parser.add_argument(
        "--recolored-palette-share",
        type=float,
        default=0.0,
        help="share of palette records asked again of the scene repainted in strip colours",
    )
    parser.add_argument(
        "--tiled-palette-share",
        type=float,
        default=0.0,
        help="share of plain palette records asked again with the swatches tiled over the image",
    )
    parser.add_argument(
        "--attacked-palette-share",
        type=float,
        default=0.0,
        help="palette pictures per batch (a share of it) pushed to change the judge's answer, "
        "then answered by their pixels",
    )
    parser.add_argument("--attack-steps", type=int, default=4, help="gradient steps of each push")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    def progress(done: int, total: int | None, unit: str, message: str | None) -> None:
        if done % 50 == 0:
            print(f"step {done}/{total}", flush=True)

    summary = train_judge(
        args.out,
        seed=args.seed,
        max_steps=args.max_steps,
        phrasing_split=args.phrasing_split,
        vision=args.vision,
        init_from=args.init_from,
        init_tower_from=args.init_tower_from,
        generated_pool=args.generated_pool,
        generated_share=args.generated_share,
        generated_families=args.generated_families,
        learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps,
        curriculum_frac=args.curriculum_frac,
        max_share=args.max_share,
        family_weights=parse_family_weights(args.family_weight),
        word_dropout=args.word_dropout,
        recolored_palette_share=args.recolored_palette_share,
        tiled_palette_share=args.tiled_palette_share,
        attacked_palette_share=args.attacked_palette_share,
        attack_steps=args.attack_steps,
        aux_object_kinds=args.aux_object_kinds,
        vision_stages=args.vision_stages,
        on_progress=progress,
        on_metric=lambda name, value, step: (
            print(f"{name} {value:.4f} @ {step}", flush=True)
            if name.startswith("validation") or name == "temperature"
            else None
        ),
    )
    print(
        json.dumps({k: summary[k] for k in ("steps", "train_time_s", "temperature", "validation_accuracy")})
    )


if __name__ == "__main__":
    main()

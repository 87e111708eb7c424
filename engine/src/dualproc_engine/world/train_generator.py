"""Training the embedded Scenes generator: rectified flow on fresh renders, then reflow to 1-4 steps.

Phases, all in one resumable run folder:
1. `flow`: rectified flow (x_t = (1 - s) x + s z, target v = z - x, s ~ U[0, 1]) on batches rendered on the
   fly from the run's seed (batch k is `sample_scenes(seed, step k)`, so a resumed run sees the same data),
   captions dropped 10% of the time so that the teacher can use classifier-free guidance. EMA weights.
2. `pairs`: the EMA teacher maps fixed noises to images with `teacher_steps` Euler steps and CFG; the
   (noise seed, image, caption) pairs are kept.
3. `reflow`: the student, initialised from the teacher, learns the straight map noise -> teacher image
   (Liu et al. 2022, "Flow Straight and Fast", 2-rectified flow), with half of its noise levels on the
   1/2/4-step grid. CFG is baked in, so the student runs without it: one UNet call per step.
The run folder holds `checkpoint.pt` (rewritten atomically every `checkpoint_every` steps), `metrics.jsonl`,
`teacher/` and `final/` (pipelines saved with `save_pretrained`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .attributes import SCENE_KINDS

ProgressFn = Callable[[int, int | None, str, str | None], None]
MetricFn = Callable[[str, float, int | None], None]


@dataclass
class TrainGeneratorConfig:
    max_steps: int = field(default=2000, metadata={"help": "rectified-flow steps (phase 1)"})
    batch_size: int = field(default=32, metadata={"help": "images per step"})
    learning_rate: float = field(default=5e-4, metadata={"help": "AdamW learning rate of phase 1"})
    warmup_steps: int = field(default=100, metadata={"help": "linear warm-up steps"})
    ema_decay: float = field(default=0.995, metadata={"help": "EMA of the weights; the EMA is what ships"})
    caption_dropout: float = field(default=0.1, metadata={"help": "share of empty captions (for CFG)"})
    reflow_pairs: int = field(default=2048, metadata={"help": "teacher pairs for reflow (0: no reflow)"})
    teacher_steps: int = field(default=6, metadata={"help": "Euler steps of the teacher making pairs"})
    guidance_scale: float = field(default=2.0, metadata={"help": "teacher CFG scale, baked into the student"})
    reflow_steps: int = field(default=800, metadata={"help": "reflow steps (phase 3)"})
    reflow_learning_rate: float = field(default=2e-4, metadata={"help": "AdamW learning rate of reflow"})
    checkpoint_every: int = field(default=100, metadata={"help": "steps between checkpoints"})
    init_from: str = field(default="", metadata={"help": "checkpoint.pt whose model weights start a new run"})
    num_threads: int = field(default=1, metadata={"help": "torch CPU threads (machines are shared)"})
    band_noise: float = field(
        default=0.0,
        metadata={
            "help": "teacher pairs of landscapes whose caption names a horizon band are drawn from noise "
            "with a step of this strength at the scene's horizon (world/horizon_noise.py); the student "
            "learns them from the plain noise, so the band words place the horizon (0: plain noise)"
        },
    )
    every_band: bool = field(
        default=True,
        metadata={
            "help": "with band_noise, each landscape whose caption names a band is also drawn in the other "
            "two bands from the same noise (its band words swapped), so that only the words tell them apart"
        },
    )
    fresh_pairs: bool = field(
        default=False,
        metadata={
            "help": "reflow on pairs the teacher draws from fresh noise at every step instead of the "
            "reflow_pairs fixed ones (teacher_steps UNet calls a step), so no noise can be learned by heart"
        },
    )
    spread_weight: float = field(
        default=0.0,
        metadata={
            "help": "reflow: weight of keeping the student's pictures of a batch as different from one "
            "another as the teacher's pictures they learn (the squared shrink of every two pictures' mean "
            "absolute difference; teach/path.py diversity_loss), against the loss of variety across noises "
            "(0: off)"
        },
    )
    scene_kind: str = field(
        default="mix",
        metadata={"help": "scenes to train on: mix (half landscapes, half line art), landscape or lineart"},
    )

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_steps < (0 if self.init_from else 1):
            raise ValueError(
                "batch_size must be >= 1, max_steps >= 1 (or 0 with init_from: its weights teach)"
            )
        if self.band_noise < 0 or self.spread_weight < 0:
            raise ValueError("band_noise and spread_weight must be >= 0")
        if not 0 <= self.caption_dropout < 1:
            raise ValueError("caption_dropout must be in [0, 1)")
        if self.reflow_pairs and self.reflow_pairs < self.batch_size:
            raise ValueError("reflow_pairs must be 0 or at least batch_size")
        if self.scene_kind not in ("mix", *SCENE_KINDS):
            raise ValueError(f"scene_kind must be mix, {' or '.join(SCENE_KINDS)}; got {self.scene_kind!r}")

    @property
    def kind(self) -> str | None:
        """`sample_scenes`' kind: None mixes the two."""
        return None if self.scene_kind == "mix" else self.scene_kind


LOSS_SIGMA_FLOOR = 0.5
"""x0 loss weight 1 / max(s, LOSS_SIGMA_FLOOR)^2 (see `_Trainer._flow_loss`)."""
GRID_SIGMAS = (1.0, 0.75, 0.5, 0.25)
"""The noise levels a 1-, 2- or 4-step sampler visits (see EmbeddedGenerator.sigmas)."""


def train_generator(
    out_dir: str,
    seed: int = 0,
    max_steps: int = 2000,
    on_progress: ProgressFn | None = None,
    on_metric: MetricFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Train (or resume) the embedded generator in `out_dir`; returns paths, steps and timings.

    `options` are the other `TrainGeneratorConfig` fields (reflow_steps, reflow_pairs, ...). Stopping
    (`should_stop` returning True) saves a checkpoint and returns with `"stopped": True`.
    """
    config = TrainGeneratorConfig(max_steps=max_steps, **options)
    torch.set_num_threads(config.num_threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trainer = _Trainer(out, seed, config, on_progress, on_metric, should_stop or (lambda: False))
    return trainer.run()


class _Trainer:
    def __init__(
        self,
        out: Path,
        seed: int,
        config: TrainGeneratorConfig,
        on_progress: ProgressFn | None,
        on_metric: MetricFn | None,
        should_stop: Callable[[], bool],
    ):
        from ..generators.embedded import EmbeddedGenerator, build_pipeline

        self.out, self.seed, self.config = out, seed, config
        self.on_progress = on_progress or (lambda *a: None)
        self.on_metric = on_metric or (lambda *a: None)
        self.should_stop = should_stop
        self.pipe = build_pipeline(seed=seed)
        self.gen = EmbeddedGenerator(self.pipe)
        self.modules = torch.nn.ModuleDict({"unet": self.pipe.unet, "text_encoder": self.pipe.text_encoder})
        self.ema = copy.deepcopy(self.modules).requires_grad_(False)
        self.phase, self.step, self.elapsed_s = "flow", 0, 0.0
        self.optimizer = self._optimizer(config.learning_rate)
        self.empty_ids = self.gen.tokenize([""])[0]
        if config.init_from and not (out / "checkpoint.pt").is_file():
            state = torch.load(config.init_from, map_location="cpu", weights_only=False)
            self.modules.load_state_dict(state["model"])
            self.ema.load_state_dict(state["model"])
        self._load_checkpoint()

    # --- bookkeeping ---------------------------------------------------------------------------------
    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.modules.parameters(), lr=lr, weight_decay=0.0)

    def _state(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "seed": self.seed,
            "config": asdict(self.config),
            "model": self.modules.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }

    def _save_checkpoint(self) -> None:
        tmp = self.out / "checkpoint.pt.tmp"
        torch.save(self._state(), tmp)
        os.replace(tmp, self.out / "checkpoint.pt")  # never half-written

    def _load_checkpoint(self) -> None:
        path = self.out / "checkpoint.pt"
        if not path.is_file():
            return
        state = torch.load(path, map_location="cpu", weights_only=False)
        self.modules.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.phase, self.step, self.elapsed_s = state["phase"], state["step"], state["elapsed_s"]
        if self.phase == "reflow":
            self.optimizer = self._optimizer(self.config.reflow_learning_rate)
        self.optimizer.load_state_dict(state["optimizer"])

    def _metric(self, name: str, value: float) -> None:
        self.on_metric(name, value, self.step)
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"phase": self.phase, "step": self.step, name: value}) + "\n")

    def _save_pipeline(self, name: str) -> Path:
        """The EMA weights as a loadable pipeline folder."""
        pipe = copy.deepcopy(self.pipe)
        pipe.unet.load_state_dict(self.ema["unet"].state_dict())
        pipe.text_encoder.load_state_dict(self.ema["text_encoder"].state_dict())
        folder = self.out / name
        tmp = self.out / f"{name}.tmp"
        pipe.save_pretrained(str(tmp), safe_serialization=True)
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        os.replace(tmp, folder)
        return folder

    # --- phases --------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        c = self.config
        if self.phase == "flow":
            if not self._loop(c.max_steps, self._flow_batch, c.learning_rate):
                return self._result(stopped=True)
            self._save_pipeline("teacher")
            self.phase = "pairs" if c.reflow_pairs else "done"
            self.step = 0
            self._save_checkpoint()
        if self.phase == "pairs":
            if not c.fresh_pairs:
                self._make_pairs()
            self.phase, self.step = "reflow", 0
            self.optimizer = self._optimizer(c.reflow_learning_rate)
            self._save_checkpoint()
        if self.phase == "reflow":
            if c.fresh_pairs:
                batch_fn = self._fresh_reflow_batch
            else:
                self.pairs = torch.load(self.out / "pairs.pt", weights_only=False)
                batch_fn = self._reflow_batch
            if not self._loop(c.reflow_steps, batch_fn, c.reflow_learning_rate):
                return self._result(stopped=True)
            self.phase, self.step = "done", 0
            self._save_checkpoint()
        final = self._save_pipeline("final")
        return self._result(stopped=False, final=str(final))

    def _result(self, stopped: bool, final: str | None = None) -> dict[str, Any]:
        self._save_checkpoint()
        return {
            "out_dir": str(self.out),
            "phase": self.phase,
            "step": self.step,
            "train_time_s": round(self.elapsed_s, 1),
            "stopped": stopped,
            "final": final,
            "teacher": str(self.out / "teacher") if (self.out / "teacher").exists() else None,
        }

    def _loop(self, total: int, batch_fn: Callable[[int], tuple[Tensor, Tensor, Tensor]], lr: float) -> bool:
        """Train until `total` steps; False when stopped early (after a checkpoint)."""
        c = self.config
        smooth = None
        while self.step < total:
            if self.should_stop():
                self._save_checkpoint()
                return False
            start = time.perf_counter()
            for group in self.optimizer.param_groups:
                group["lr"] = lr * min(1.0, (self.step + 1) / c.warmup_steps) * _cosine(self.step, total)
            x, z, ids = batch_fn(self.step)
            s = self._noise_levels(x.shape[0])
            loss = self._flow_loss(x, z, ids, s)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(self.modules.parameters(), 1.0)
            self.optimizer.step()
            _ema_update(self.ema, self.modules, c.ema_decay)
            self.step += 1
            self.elapsed_s += time.perf_counter() - start
            value = float(loss.detach())
            smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
            if self.step % 25 == 0 or self.step == total:
                self._metric(f"{self.phase}_loss", smooth)
                if self.phase == "reflow" and c.spread_weight > 0:
                    self._metric("spread_loss", self._last_spread)
                self._metric("grad_norm", float(grad_norm))
                self.on_progress(self.step, total, "steps", f"{self.phase} loss {smooth:.4f}")
            if self.step % c.checkpoint_every == 0:
                self._save_checkpoint()
        return True

    def _noise_levels(self, n: int) -> Tensor:
        g = torch.Generator().manual_seed(
            self.seed * 7919 + self.step + (0 if self.phase == "flow" else 10**7)
        )
        s = torch.rand(n, generator=g)
        if self.phase == "reflow":
            # Half the batch on the sampler's grid: those are the only noise levels a 1-4 step sampler visits.
            grid = torch.tensor(GRID_SIGMAS)[torch.randint(len(GRID_SIGMAS), (n,), generator=g)]
            s = torch.where(torch.arange(n) < n // 2, grid, s)
        return s

    def _flow_loss(self, x: Tensor, z: Tensor, ids: Tensor, s: Tensor) -> Tensor:
        """Rectified flow with an x0-predicting UNet: x_s = (1 - s) x + s z, loss w(s) ||x0(x_s) - x||^2.

        The v loss ||v - (z - x)||^2 equals ||x0 - x||^2 / s^2; that weight (up to 100x at s = 0.1) spent the
        model on fine denoising and left the global layout (horizon, sky) unlearned after 300 steps, while a
        1-4 step sampler lives at s in {1, 0.75, 0.5, 0.25}. w(s) = 1 / max(s, 0.5)^2 keeps the v loss's
        shape for s >= 0.5 and caps it at 4 below.
        """
        s4 = s[:, None, None, None]
        x_s = (1 - s4) * x + s4 * z
        x0 = self.gen.predict_x0(x_s, s, self.gen.embed_tokens(ids))
        loss = ((x0 - x).square() / s4.clamp_min(LOSS_SIGMA_FLOOR).square()).mean()
        if self.phase == "reflow" and self.config.spread_weight > 0:
            # Regression to many targets pulls the student's pictures together (the band pairs' rounds drew
            # one picture per caption): keep every two as far apart as the two teacher pictures they learn.
            from ..teach.path import diversity_loss

            spread = diversity_loss(x0, x)
            self._last_spread = float(spread.detach())
            loss = loss + self.config.spread_weight * spread
        return loss

    def _flow_batch(self, step: int) -> tuple[Tensor, Tensor, Tensor]:
        from ..generators.embedded import images_to_latents
        from .render import render
        from .scene import sample_scenes

        c = self.config
        scenes = sample_scenes(_batch_seed(self.seed, step), c.batch_size, c.kind)
        x = images_to_latents(render(scenes))
        g = torch.Generator().manual_seed(_batch_seed(self.seed, step))
        z = torch.randn(x.shape, generator=g)
        ids = self.gen.tokenize([s.caption for s in scenes])
        drop = torch.rand(len(scenes), generator=g) < c.caption_dropout
        ids[drop] = self.empty_ids
        return x, z, ids

    # --- reflow --------------------------------------------------------------------------------------
    def _make_pairs(self) -> None:
        """Teacher images from fixed noises (seeded per chunk of scenes), with CFG; written to pairs.pt."""
        from ..generators.embedded import EmbeddedGenerator
        from .scene import sample_scenes

        c = self.config
        teacher_pipe = copy.deepcopy(self.pipe)
        teacher_pipe.unet.load_state_dict(self.ema["unet"].state_dict())
        teacher_pipe.text_encoder.load_state_dict(self.ema["text_encoder"].state_dict())
        self.teacher = EmbeddedGenerator(teacher_pipe)
        chunk = 64
        images, ids_all, noise_of = [], [], []
        start = time.perf_counter()
        scenes = sample_scenes(_pair_seed(self.seed), c.reflow_pairs, c.kind)
        for k in range(0, c.reflow_pairs, chunk):
            x, ids, of, _ = self._teacher_draws(scenes[k : k + chunk], _pair_seed(self.seed) + k)
            images.append(x)
            ids_all.append(ids)
            noise_of += [k + i for i in of]
            self.on_progress(
                min(k + chunk, c.reflow_pairs), c.reflow_pairs, "pairs", "teacher pairs for reflow"
            )
            if self.should_stop():
                break  # pairs are cheap to redo; nothing half-done is kept
        self.elapsed_s += time.perf_counter() - start
        pairs = {"images": torch.cat(images), "ids": torch.cat(ids_all), "chunk": chunk}
        torch.save({**pairs, "noise_of": torch.tensor(noise_of)}, self.out / "pairs.pt")

    def _teacher_draws(self, scenes: list[Any], noise_seed: int) -> tuple[Tensor, Tensor, list[int], Tensor]:
        """The teacher's pictures of `scenes` (8 bits a channel), their caption ids, for each the index of the
        scene whose noise (drawn from `noise_seed`) it starts from, and that plain noise: with `band_noise`, a
        landscape whose caption names a band is drawn with the horizon step (in every band, `every_band`)."""
        from ..generators.base import sample_euler
        from .horizon_noise import horizon_shaped, pair_specs, sky_ground_directions

        c, teacher = self.config, self.teacher
        if not hasattr(self, "_directions"):  # renders 800 landscapes: once a run
            self._directions = sky_ground_directions() if c.band_noise else {}
            self._uncond = teacher.encode_prompt([""])
        specs = pair_specs(scenes, every_band=c.band_noise > 0 and c.every_band)
        captions = [p.caption for p in specs]
        z = teacher.make_noise(len(scenes), noise_seed)[[p.noise_of for p in specs]]
        with torch.no_grad():
            emb = teacher.encode_prompt(captions)
            cfg = _cfg_velocity(teacher, self._uncond.expand(len(specs), -1, -1), c.guidance_scale)
            shaped = horizon_shaped(z, specs, c.band_noise, self._directions)
            x = sample_euler(cfg, shaped, teacher.sigmas(c.teacher_steps), emb)
        images = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return images, teacher.tokenize(captions), [p.noise_of for p in specs], z

    def _reflow_batch(self, step: int) -> tuple[Tensor, Tensor, Tensor]:
        c = self.config
        n_pairs = self.pairs["images"].shape[0]
        g = torch.Generator().manual_seed(_batch_seed(self.seed, step) + 1)
        idx = torch.randperm(n_pairs, generator=g)[: c.batch_size]
        x = self.pairs["images"][idx].float() / 127.5 - 1
        chunk = self.pairs["chunk"]
        noise_of = self.pairs.get("noise_of")  # pairs made before it: one pair per scene, in order
        z = torch.stack(
            [self._pair_noise(int(noise_of[i] if noise_of is not None else i), chunk) for i in idx]
        )
        return x, z, self.pairs["ids"][idx]

    def _fresh_reflow_batch(self, step: int) -> tuple[Tensor, Tensor, Tensor]:
        """A batch of pairs drawn now: fresh scenes and noise (seeded by the step, so a resumed run sees the
        same), the teacher's picture from the noise (with the horizon step, `band_noise`), the plain noise."""
        from ..generators.embedded import EmbeddedGenerator
        from .scene import sample_scenes

        if not hasattr(self, "teacher"):
            self.teacher = EmbeddedGenerator.from_pretrained(self.out / "teacher")  # the flow phase's EMA
        seed = _pair_seed(self.seed) + step
        scenes = sample_scenes(seed, self.config.batch_size, self.config.kind)
        images, ids, _, z = self._teacher_draws(scenes, seed)
        return images.float() / 127.5 - 1, z, ids

    def _pair_noise(self, i: int, chunk: int) -> Tensor:
        base = i - i % chunk
        key = (base,)
        cache = self.__dict__.setdefault("_noise_cache", {})
        if key not in cache:
            n = min(chunk, self.config.reflow_pairs - base)
            cache[key] = self.gen.make_noise(n, _pair_seed(self.seed) + base)
        return cache[key][i - base]


def export_checkpoint(out_dir: str, name: str = "snapshot") -> str:
    """Save the EMA weights of `out_dir`'s last checkpoint as a pipeline folder (to look at a running run)."""
    trainer = _Trainer(Path(out_dir), 0, TrainGeneratorConfig(), None, None, lambda: False)
    return str(trainer._save_pipeline(name))


def _cfg_velocity(gen: Any, uncond: Tensor, scale: float) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """Classifier-free guidance: v_u + scale (v_c - v_u) (Ho & Salimans 2022), one batched call; at scale 1
    (a teacher with CFG baked in, a reflowed student) just v_c."""
    if scale == 1:
        return gen.velocity

    def model(x: Tensor, sigma: Tensor, emb: Tensor) -> Tensor:
        v = gen.velocity(torch.cat([x, x]), sigma, torch.cat([emb, uncond]))
        v_c, v_u = v.chunk(2)
        return v_u + scale * (v_c - v_u)

    return model


def _batch_seed(seed: int, step: int) -> int:
    return seed * 1_000_000 + step


def _pair_seed(seed: int) -> int:
    return seed * 1_000_000 + 900_000


def _cosine(step: int, total: int) -> float:
    """Cosine decay to 10% of the peak."""
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step, total) / max(total, 1)))


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p, 1 - decay)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the embedded Scenes generator (resumes in --out).")
    parser.add_argument("--out", required=True, help="run folder (checkpoint.pt, metrics.jsonl, final/)")
    parser.add_argument("--seed", type=int, default=0)
    for f in TrainGeneratorConfig.__dataclass_fields__.values():
        flag, help_text = "--" + f.name.replace("_", "-"), f.metadata["help"]
        if isinstance(f.default, bool):  # --every-band / --no-every-band
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text
            )
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default, help=help_text)
    args = vars(parser.parse_args(argv))
    out, seed = args.pop("out"), args.pop("seed")

    def progress(done: int, total: int | None, unit: str, message: str | None) -> None:
        print(f"{done}/{total} {unit} {message or ''}", flush=True)

    print(json.dumps(train_generator(out, seed=seed, on_progress=progress, **args)), flush=True)


if __name__ == "__main__":
    main()

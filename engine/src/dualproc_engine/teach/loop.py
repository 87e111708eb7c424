"""`teach(recipe, out_dir)`: dual-process distillation of a judge's answers into generator LoRA weights.

Two modes, one loop: with one prompt it is the paper's test-time setting (a few noises, one prompt); with a
prompt list each step draws its prompts from the list (distillation), and the evaluation prompts should be
held out. Outputs in `out_dir`:
- `metrics.jsonl`: per step {step, loss, question_losses, scores, grad_norm, lr, time_s, skipped
  [, preserve_loss] [, palette_loss] [, layout_loss] [, diversity_loss] [, keep_loss]} (a question's score
  is null at a step none of whose images it was asked);
- `eval.jsonl`: per evaluation {step, scale, scores} from the training judge on the evaluation images (null
  for a question asked of no evaluation prompt);
- `grids/step-N.png`: evaluation prompts x seeds, one block of rows per adapter scale (0 first);
- `checkpoints/step-N/`: resumable state (checkpoint.py), every `checkpointing_steps`, on stop and at the end;
- `pytorch_lora_weights.safetensors`: the LoRA in the diffusers layout, with `dualproc.*` metadata.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch

from ..errors import JobCancelled, UserError
from ..generators.guidance import set_guidance
from ..reporting import Reporter
from ..unknown_words import as_unknown, unknown_words
from . import adapters, memory
from .checkpoint import list_checkpoints, load_checkpoint, read_state, save_checkpoint
from .config import TeachConfig, parse_recipe
from .early_stop import HeldoutWatch
from .evaluate import Evaluator
from .objectives import finite_or_none, question_weights
from .outputs import MetricsLog, save_final_lora
from .path import PRESERVE_PROMPTS
from .questions import QuestionSet, averaged_logprob
from .step import Run, StepResult, train_step


class TeachDiverged(UserError):
    """The loss or the gradient was not finite in `max_nan_steps` steps."""


_FREE_ON_RESUME = (
    "max_train_steps",
    "checkpointing_steps",
    "max_nan_steps",
    # where things run and how memory is saved: the same training either way
    "judge_device",
    "vae_tiling",
    "offload_text_encoders",
    "judge_quantization",  # (changes the judge's numerics a little, not what the LoRA is trained for)
)
"""Training fields a resumed run may change; any other change makes the checkpoint meaningless."""


def fingerprint(cfg: TeachConfig) -> str:
    data = dataclasses.asdict(cfg)
    # left out when empty, as in runs made before co-judges existed, so that their checkpoints still resume
    if not data["co_judges"]:
        data.pop("co_judges")
    if not data["keep"]:  # likewise for runs made before keep questions existed
        for key in ("keep", "keep_judge"):
            data.pop(key)
        data["training"].pop("keep_weight")
    data.pop("eval")
    data.pop("name")
    data.pop("description")
    for key in _FREE_ON_RESUME:
        data["training"].pop(key)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def teach(
    recipe: dict[str, Any],
    out_dir: str | Path,
    resume: bool = False,
    reporter: Reporter | None = None,
    generator: Any = None,
    judge: Any = None,
    recipe_dir: str | Path | None = None,
    preserve_prompts: list[str] | None = None,
    heldout_judge: Any = None,
) -> dict[str, Any]:
    """Train a LoRA so that `judge` gives the recipe's wanted answers about the generator's images.

    `recipe` is the resolved recipe dict (app/src/recipes/schema.ts, prompts expanded); `generator`/`judge`
    are adapter objects, loaded by the recipe's names when None; `recipe_dir` resolves `image` visual
    prompts; `preserve_prompts` are the unrelated prompts of `preserve_weight` (default: PRESERVE_PROMPTS).
    Returns a JSON-serialisable summary. Raises `JobCancelled` after saving a checkpoint when the reporter
    says stop, `UserError` (one line) for mistakes in the recipe, `TeachDiverged` after `max_nan_steps`.
    """
    cfg = parse_recipe(recipe)
    t = cfg.training
    reporter = reporter or Reporter()
    out = Path(out_dir)

    device = adapters.pick_device()
    gen = (
        generator
        if generator is not None
        else adapters.load_generator(cfg.generator, device, t.resolution_px)
    )
    set_guidance(gen, t.guidance_scale)
    device = getattr(gen, "device", device)
    on_judge = memory.judge_device(t.judge_device, device)
    judge = judge if judge is not None else adapters.load_judge(cfg.judge, on_judge, t.judge_quantization)
    questions = QuestionSet(judge, cfg.questions, recipe_dir)
    co_teachers = [
        QuestionSet(adapters.load_judge(name, on_judge, t.judge_quantization), cfg.questions, recipe_dir)
        for name in cfg.co_judges
    ]
    keep = keep_question_set(cfg, questions, on_judge)
    _warn_about_inputs(cfg, gen, questions, keep, device, reporter)
    watch = None
    if t.early_stopping_patience is not None:
        held = (
            heldout_judge
            if heldout_judge is not None
            else adapters.load_judge(str(cfg.heldout_judge), on_judge)
        )
        watch = HeldoutWatch(QuestionSet(held, cfg.questions, recipe_dir), t.early_stopping_patience, out)
    out.mkdir(parents=True, exist_ok=True)  # only once models and questions are known to be usable

    run = build_run(cfg, gen, questions, device, preserve_prompts, keep)
    if co_teachers:
        run.judge_logprob = averaged_logprob([questions, *co_teachers])
    params, optimizer = run.params, run.optimizer

    rng = random.Random(t.seed)
    step, nan_steps, elapsed_s, resumed_from = 0, 0, 0.0, None
    checkpoints = out / "checkpoints"
    print_ = fingerprint(cfg)
    if resume:
        found = list_checkpoints(checkpoints)
        if found:
            if read_state(found[-1]).get("fingerprint") != print_:
                raise UserError(
                    f"resume: {found[-1]} was written by a different recipe or models; "
                    f"only {', '.join(_FREE_ON_RESUME)} may change when resuming"
                )
            state = load_checkpoint(found[-1], params, optimizer, rng)
            step = resumed_from = int(state["step"])
            nan_steps, elapsed_s = int(state["nan_steps"]), float(state["elapsed_s"])
            if watch is not None and "early_stopping" in state:
                watch.load_state(state["early_stopping"])
            reporter.log("info", f"resumed from {found[-1]} at step {step}")
        else:
            reporter.log("info", f"resume: no checkpoint in {checkpoints}; starting from step 0")
    metrics = MetricsLog(out / "metrics.jsonl", resumed_from if resume else None)
    if not resume:
        (out / "eval.jsonl").write_text("")
    evaluator = Evaluator(gen, cfg.eval_prompts, cfg.eval.seeds, cfg.eval.lora_scales, t.num_inference_steps)
    _apply_memory_options(t, gen, reporter)  # after the last encode_prompt (the evaluator's)
    grids: list[str] = []
    last_saved = -1

    def checkpoint() -> Path:
        nonlocal last_saved
        path = save_checkpoint(
            checkpoints,
            step,
            gen,
            params,
            optimizer,
            rng,
            {
                "nan_steps": nan_steps,
                "elapsed_s": elapsed_s,
                "fingerprint": print_,
                **({"early_stopping": watch.state()} if watch is not None else {}),
            },
        )
        last_saved = step
        reporter.artifact(str(path), "checkpoint", f"resumable state at step {step}")
        return path

    def evaluate() -> bool:
        """Grids and scores of this step; True when the held-out judge says stop."""
        path, judged, images = evaluator.run(step, out, questions, t.lora_scale)
        grids.append(str(path))
        reporter.artifact(
            str(path), "image", f"evaluation grid at step {step}: scales {cfg.eval.lora_scales}"
        )
        with (out / "eval.jsonl").open("a") as f:
            for scale, s in judged.items():
                scored = [x for x in s if x is not None]  # None: asked of no evaluation prompt
                f.write(json.dumps({"step": step, "scale": scale, "scores": s}) + "\n")
                if scored:
                    reporter.metric(f"eval_score@{scale:g}", sum(scored) / len(scored), step)
        if watch is None:
            return False
        taught = images.get(t.used_scale)  # the held-out judge watches the LoRA at the scale it is used at
        if taught is None:
            taught = evaluator.images(t.used_scale, t.lora_scale)
        stop_now = watch.update(step, taught, params, evaluator.asked(watch.questions))
        reporter.metric(f"heldout_score@{t.used_scale:g}", float(watch.last_score or 0.0), step)
        return stop_now

    def stop() -> JobCancelled:
        if last_saved != step:
            checkpoint()
        return JobCancelled()

    result: StepResult | None = None
    reporter.progress(step, t.max_train_steps, "steps", "teaching")
    while step < t.max_train_steps:
        if reporter.should_stop():
            raise stop()
        started = time.perf_counter()
        result = train_step(run, rng)
        step += 1
        elapsed_s += time.perf_counter() - started
        _log_step(metrics, reporter, step, result, optimizer, elapsed_s)
        if result.skipped:
            nan_steps += 1
            reporter.log(
                "warning",
                f"step {step}: loss {result.loss:.4g}, grad norm {result.grad_norm:.4g} not finite; "
                f"step skipped ({nan_steps} of at most {t.max_nan_steps})",
            )
            if nan_steps >= t.max_nan_steps:
                checkpoint()
                raise TeachDiverged(
                    f"training diverged: the loss or gradient was not finite in {nan_steps} steps; "
                    "lower training.learning_rate or training.lora_scale"
                )
        if step % t.checkpointing_steps == 0 or step == t.max_train_steps:
            stop_early = evaluate()
            checkpoint()
            if stop_early:
                assert watch is not None
                reporter.log(
                    "info",
                    f"early stop at step {step}: the held-out judge's score has not risen for "
                    f"{watch.patience} evaluations; keeping the LoRA of step {watch.best_step}",
                )
                watch.restore_best(params)
                break
        try:
            reporter.progress(step, t.max_train_steps, "steps")
        except JobCancelled:
            raise stop() from None

    if last_saved != step:  # resumed at or beyond max_train_steps
        checkpoint()
    if not grids:
        evaluate()
    lora = save_final_lora(
        gen,
        out,
        {
            "base_model": cfg.generator,
            "judge": cfg.judge,
            "recipe": cfg.name or "",
            "steps": step,
            "lora_scale": t.used_scale,
            "fingerprint": print_,
        },
    )
    reporter.artifact(str(lora), "weights", f"LoRA after {step} steps, to use at scale {t.used_scale:g}")
    return {
        "lora_path": str(lora),
        "steps": step,
        "early_stopping": None if watch is None else {**watch.state(), "stopped_at": step},
        "mode": "test-time" if len(cfg.prompts) == 1 else "distillation",
        "resumed_from_step": resumed_from,
        "loss": result.loss if result else None,
        "scores": finite_or_none(result.scores) if result else None,
        "nan_steps": nan_steps,
        "time_s": elapsed_s,
        "metrics_path": str(out / "metrics.jsonl"),
        "grids": grids,
        "checkpoint": str(checkpoints / f"step-{step}"),
    }


def build_run(
    cfg: TeachConfig,
    gen: Any,
    questions: QuestionSet,
    device: torch.device,
    preserve_prompts: list[str] | None = None,
    keep: QuestionSet | None = None,
) -> Run:
    """Attach the LoRA (seeded init), make the optimiser, encode the prompts and draw the noise pool.
    `keep`: the recipe's keep questions bound to the judge (default: bound here)."""
    t = cfg.training
    torch.manual_seed(t.seed)  # the LoRA's gaussian init
    adapters.attach_lora(gen, t.lora_rank, t.lora_alpha, t.lora_target_modules)
    gen.set_lora_scale(t.lora_scale)
    params = gen.lora_parameters()
    optimizer = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=0.0)
    scaler = None
    if device.type == "cuda" and t.mixed_precision == "fp16":
        scaler = torch.amp.GradScaler("cuda")
    preserve_embeds = None
    if t.preserve_weight > 0:
        unrelated = [p for p in (preserve_prompts or list(PRESERVE_PROMPTS)) if p not in cfg.prompts]
        if not unrelated:
            raise UserError(
                "training.preserve_weight: no unrelated prompts left to preserve (all are trained)"
            )
        preserve_embeds = gen.encode_prompt(unrelated)
    if keep is None:
        keep = keep_question_set(cfg, questions, device)
    return Run(
        gen=gen,
        questions=questions,
        keep=keep,
        training=t,
        prompt_embeds=gen.encode_prompt(cfg.prompts),
        noise_pool=gen.make_noise(t.noise_pool_size, t.seed),
        sigmas=gen.sigmas(t.num_inference_steps),
        weights=question_weights(questions.weights, device),
        params=params,
        optimizer=optimizer,
        device=device,
        preserve_embeds=preserve_embeds,
        scaler=scaler,
        asked=questions.asked(cfg.prompts).to(device) if questions.conditional else None,
    )


def keep_question_set(cfg: TeachConfig, questions: QuestionSet, device: torch.device) -> QuestionSet | None:
    """The recipe's keep questions bound to their judge (`keep_judge`, loaded on `device`, or the training
    judge); None without any (or at keep_weight 0)."""
    t = cfg.training
    if not cfg.keep or t.keep_weight <= 0:
        return None
    judge = questions.judge
    if cfg.keep_judge is not None:
        judge = adapters.load_judge(cfg.keep_judge, device, t.judge_quantization)
    return QuestionSet(judge, cfg.keep_questions)


def _apply_memory_options(t: Any, gen: Any, reporter: Reporter) -> None:
    if t.vae_tiling and not memory.enable_vae_tiling(gen):
        reporter.log("warning", "training.vae_tiling: this generator has no VAE to slice or tile; ignored")
    if t.offload_text_encoders:
        moved = memory.offload_text_encoders(gen)
        reporter.log("info", f"training.offload_text_encoders: {moved} text encoder(s) moved to the CPU")


_REGULARISER_LOSSES = ("preserve_loss", "palette_loss", "layout_loss", "diversity_loss", "keep_loss")
"""The `StepResult` fields of the regularisers, logged (metrics.jsonl and metrics) where they are on."""


def _log_step(
    metrics: MetricsLog,
    reporter: Reporter,
    step: int,
    r: StepResult,
    optimizer: torch.optim.Optimizer,
    elapsed_s: float,
) -> None:
    lr = float(optimizer.param_groups[0]["lr"])
    row: dict[str, Any] = {
        "step": step,
        "loss": r.loss,
        "question_losses": finite_or_none(r.question_losses),
        "scores": finite_or_none(r.scores),
        "grad_norm": r.grad_norm,
        "lr": lr,
        "time_s": round(elapsed_s, 4),
        "skipped": r.skipped,
    }
    regularisers = {name: getattr(r, name) for name in _REGULARISER_LOSSES}
    row.update({name: value for name, value in regularisers.items() if value is not None})
    metrics.write(row)
    if r.skipped:
        return
    reporter.metric("loss", r.loss, step)
    for i, s in enumerate(r.scores):
        if math.isfinite(s):  # NaN: not asked of this step's images
            reporter.metric(f"score/{i}", s, step)
    reporter.metric("grad_norm", r.grad_norm, step)
    for name, value in regularisers.items():
        if value is not None:
            reporter.metric(name, value, step)


def _warn_about_inputs(
    cfg: TeachConfig,
    gen: Any,
    questions: QuestionSet,
    keep: QuestionSet | None,
    device: torch.device,
    reporter: Reporter,
) -> None:
    """Things that are allowed but probably not meant: said once, as warnings, before training."""
    for asked_set in (questions, keep):  # the keep questions' judge may be another than the training judge
        if asked_set is None:
            continue
        tokenizer = getattr(asked_set.judge, "tokenizer", None)
        for recipe_words, asked in dict.fromkeys(zip(asked_set.questions, asked_set.asked_as, strict=True)):
            # what the judge is asked (a Scenes question in its own words), named as the recipe wrote it
            if unknown := unknown_words(tokenizer, asked):
                reporter.log("warning", f"question {recipe_words!r}: the judge reads {as_unknown(unknown)}")
    for p in dict.fromkeys(cfg.prompts + cfg.eval_prompts):
        if unknown := unknown_words(getattr(gen, "tokenizer", None), p):
            reporter.log("warning", f"prompt {p!r}: the generator reads {as_unknown(unknown)}")
    with torch.no_grad():
        side = gen.decode(gen.make_noise(1, 0)).shape[-1]
    if side != cfg.training.resolution_px:
        reporter.log(
            "warning",
            f"training.resolution_px={cfg.training.resolution_px}: {cfg.generator} draws {side} px "
            f"images; using {side}",
        )
    if device.type != "cuda" and cfg.training.mixed_precision != "no":
        reporter.log(
            "info", f"mixed_precision {cfg.training.mixed_precision} applies on CUDA only; float32 here"
        )

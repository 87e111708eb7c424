"""The engine's half of `dualproc eval RUN`: held-out images at each adapter scale, scored by every judge.

For each prompt p, seed s and scale c the generator samples from `make_noise(1, s)`, so the images at
scale 0 (the base model) and at the trained scale differ only by the LoRA: pairs compare like with like.
Every image is written as a PNG (`images/scale-<c>/p<p>-s<s>.png`) and one before/after grid per prompt
(`grids/prompt-<p>.png`: a row per scale, a column per seed). Each judge answers each of the recipe's
questions (with its visual prompt) about every image it is asked of: the probability of the wanted answer
(None where a question is asked only of other prompts' images), and how it was asked each question (a Scenes
judge in its own words, judges/base.py `in_own_words`); and each of the recipe's keep questions, the
probability of Yes between Yes and No (whether the answer stayed is a paired comparison, the app's).

What the numbers mean (success by measurers, confidence intervals, drift, the hacking flag) is the app's
work (app/src/eval/): it owns the measurers, so it also owns the statistics built on them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from ..generators.guidance import set_guidance
from ..images import image_grid, save_png
from ..reporting import Reporter

CHUNK = 64
"""Images per generator or judge call: bounds memory; progress is reported per chunk."""


def scale_folder(scale: float) -> str:
    return f"scale-{scale:g}"


def evaluate_run(
    recipe: dict[str, Any],
    recipe_dir: str | Path,
    lora: str,
    prompts: list[str],
    seeds: list[int],
    lora_scales: list[float],
    judges: list[str],
    out_dir: str | Path,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Generate and judge the evaluation images; returns the images and, per judge, their scores."""
    from ..generators.generate import load_checked_lora
    from ..teach import adapters
    from ..teach.config import parse_recipe
    from ..teach.objectives import yes_against_no
    from ..teach.questions import QuestionSet

    reporter = reporter or Reporter()
    cfg = parse_recipe(recipe)
    _check_inputs(prompts, seeds, lora_scales, judges)
    device = adapters.pick_device()
    # at the size it was taught at
    gen = adapters.load_generator(cfg.generator, device, cfg.training.resolution_px)
    set_guidance(gen, cfg.training.guidance_scale)  # the guidance it was taught with
    load_checked_lora(gen, lora, cfg.generator)
    out = Path(out_dir)

    cells = [(c, p, s) for c in lora_scales for p in range(len(prompts)) for s in seeds]
    total = len(cells) * (1 + len(judges))
    images = _generate(gen, prompts, cells, cfg.training.num_inference_steps, reporter, total)
    del gen
    records = []
    for (scale, p, seed), image in zip(cells, images, strict=True):
        path = save_png(image, out / "images" / scale_folder(scale) / f"p{p}-s{seed}.png")
        records.append(
            {"path": str(path), "prompt_index": p, "prompt": prompts[p], "seed": seed, "lora_scale": scale}
        )
    grids = _write_grids(images, prompts, seeds, lora_scales, out)
    for path in grids:
        reporter.artifact(str(path), "grid", "before/after grid: a row per adapter scale, a column per seed")

    scored = []
    done = len(cells)
    for name in judges:
        judge = adapters.load_judge(name, device)
        questions = QuestionSet(judge, cfg.questions, recipe_dir)
        kept = QuestionSet(judge, cfg.keep_questions) if cfg.keep else None
        asked = questions.asked([prompts[p] for _, p, _ in cells])
        probabilities, yes = [], []
        with torch.no_grad():
            for k in range(0, len(images), CHUNK):
                chunk = images[k : k + CHUNK].to(device)
                probabilities.append(questions.logprob(chunk, asked[k : k + CHUNK]).float().exp().cpu())
                if kept is not None:
                    yes.append(torch.sigmoid(yes_against_no(kept.logprob(chunk))).cpu())
                done += chunk.shape[0]
                reporter.progress(done, total, "images", f"judge {name}")
        table = torch.cat(probabilities)
        rows = [
            [_finite(v) if a else None for v, a in zip(row, ask, strict=True)]
            for row, ask in zip(table.tolist(), asked.tolist(), strict=True)
        ]
        entry = {"judge": name, "asked_as": questions.asked_as, "probabilities": rows}
        if kept is not None:
            entry["keep_asked_as"] = kept.asked_as[0::2]
            entry["keep_probabilities"] = [[_finite(v) for v in row] for row in torch.cat(yes).tolist()]
        scored.append(entry)
    return {
        "out_dir": str(out),
        "questions": [q.question for q in cfg.questions],
        **({"keep": [k.question for k in cfg.keep]} if cfg.keep else {}),
        "images": records,
        "grids": [str(g) for g in grids],
        "judges": scored,
    }


def _check_inputs(prompts: list[str], seeds: list[int], lora_scales: list[float], judges: list[str]) -> None:
    if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise UserError("prompts: expected at least one non-empty prompt")
    if not seeds or len(set(seeds)) != len(seeds):
        raise UserError("seeds: expected at least one seed, without repeats")
    if not lora_scales or len(set(lora_scales)) != len(lora_scales):
        raise UserError("lora_scales: expected at least one adapter scale, without repeats")
    if not judges:
        raise UserError("judges: expected at least one judge")


def _generate(
    gen: Any,
    prompts: list[str],
    cells: list[tuple[float, int, int]],
    steps: int,
    reporter: Reporter,
    total: int,
) -> torch.Tensor:
    """(len(cells), 3, H, W) images in [0, 1], in `cells` order (scale-major); progress also cancels."""
    with torch.no_grad():
        embeds = gen.encode_prompt(prompts)
    out: list[torch.Tensor] = []
    for scale in dict.fromkeys(c for c, _, _ in cells):
        mine = [(p, s) for c, p, s in cells if c == scale]
        gen.set_lora_scale(scale)
        for k in range(0, len(mine), CHUNK):
            part = mine[k : k + CHUNK]
            noise = torch.cat([gen.make_noise(1, s) for _, s in part])
            with torch.no_grad():
                out.append(gen.sample(embeds[[p for p, _ in part]], noise, steps).float().cpu())
            reporter.progress(sum(x.shape[0] for x in out), total, "images", f"generating at scale {scale:g}")
    return torch.cat(out)


def _write_grids(
    images: torch.Tensor, prompts: list[str], seeds: list[int], scales: list[float], out: Path
) -> list[Path]:
    """One grid per prompt: a row per scale (in the given order), a column per seed."""
    n_p, n_s = len(prompts), len(seeds)
    paths = []
    for p in range(n_p):
        rows = [images[c * n_p * n_s + p * n_s : c * n_p * n_s + (p + 1) * n_s] for c in range(len(scales))]
        grid = image_grid(torch.cat(rows), cols=n_s)
        paths.append(save_png(grid, out / "grids" / f"prompt-{p}.png"))
    return paths


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0

"""The engine's Python API: what the worker's jobs call, and what a researcher can call directly.

Every function takes plain values and an optional `Reporter`, and returns a JSON-serialisable dict (the
`result` of the matching protocol job). Parameter names are the protocol's field names, so a job's params
are passed as keyword arguments unchanged (`jobs.HANDLERS`; a test checks the two agree).
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path
from typing import Any

from . import PROTOCOL_VERSION, __version__
from .errors import JobCancelled, UserError
from .local_models import find_local, hf_cache_dir
from .presets import PRESETS
from .reporting import Reporter
from .unknown_words import as_unknown

OPTIONAL_PACKAGES = (
    "numpy",
    "transformers",
    "diffusers",
    "peft",
    "accelerate",
    "safetensors",
    "bitsandbytes",
    "kernels",
)


def list_models(reporter: Reporter | None = None) -> dict[str, Any]:
    """Every preset with whether its weights are present locally."""
    models = []
    for spec in PRESETS.values():
        path = find_local(spec)
        models.append(
            {
                "name": spec.name,
                "family": spec.family,
                "role": spec.role,
                "source": spec.source,
                "present": path is not None,
                "path": str(path) if path else None,
                "memory_gb": spec.memory_gb,
            }
        )
    return {"models": models}


def doctor(reporter: Reporter | None = None) -> dict[str, Any]:
    """Versions and devices for `dualproc doctor`; never fails: what cannot be imported is None."""
    torch_version, devices = _torch_and_devices()
    return {
        "engine_version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "torch": torch_version,
        "cuda_devices": devices,
        "packages": {name: _version_of(name) for name in OPTIONAL_PACKAGES},
        "hf_cache": str(hf_cache_dir()),
        "hub_kernels": hub_kernels_allowed(),
    }


def hub_kernels_allowed() -> bool:
    """Whether transformers may swap layers for kernels from the Hub: only where the user set USE_HUB_KERNELS
    to a true value (the engine sets it to NO otherwise, `dualproc_engine/__init__.py`)."""
    import os

    return os.environ.get("USE_HUB_KERNELS", "NO").strip().lower() in ("1", "true", "yes", "y", "on")


def render_scenes(
    n: int,
    seed: int,
    size_px: int,
    out_dir: str,
    kind: str | None = None,
    fixed: dict[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Render `n` Scenes to `out_dir` (PNGs, attributes.jsonl, contact sheet).

    `fixed` sets attributes (horizon, stroke_width_px, palette, sky; horizon_max lowers the horizons above it)
    and keeps everything else of each scene as the same seed draws it without them: counterfactual twins of
    the unfixed batch."""
    from .world.dataset import write_dataset

    reporter = reporter or Reporter()
    out = _output_folder(out_dir)
    needs = {
        "horizon": "landscape",
        "horizon_max": "landscape",
        "sky": "landscape",
        "stroke_width_px": "lineart",
    }
    for name, wanted in needs.items():
        if name in (fixed or {}) and kind != wanted:  # a mix would hold scenes that cannot take it
            raise UserError(f"render: a fixed {name} needs kind {wanted!r}, not {kind!r}")
    if fixed and "palette" in fixed:
        from .world.palettes import Palette

        try:
            Palette(None, tuple(str(c).lower() for c in fixed["palette"]))
        except ValueError as error:  # the Scenes world draws with 4 to 6 colours
            raise UserError(f"render: palette: {error}") from None
    written = write_dataset(
        out,
        n=n,
        seed=seed,
        size_px=size_px,
        kind=kind,
        on_progress=lambda done, total: reporter.progress(done, total, "images"),
        **(fixed or {}),
    )
    sheet = out / "contact_sheet.png"
    if sheet.is_file():
        reporter.artifact(str(sheet), "grid", "contact sheet of the rendered scenes")
    return {
        "out_dir": str(out),
        "count": written,
        "attributes": str(out / "attributes.jsonl"),
        "contact_sheet": str(sheet) if sheet.is_file() else None,
    }


def make_qa_set(
    n: int,
    seed: int,
    size_px: int,
    out_dir: str,
    kind: str | None = None,
    families: list[str] | None = None,
    per_scene: int = 1,
    phrasing_split: str = "train",
    overlay_images: bool = False,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Render `n` Scenes and write balanced yes/no questions about them to `out_dir`/qa.jsonl."""
    from .world.qa_dataset import write_qa_dataset

    reporter = reporter or Reporter()
    out = _output_folder(out_dir)
    try:
        counts = write_qa_dataset(
            out,
            n=n,
            seed=seed,
            size_px=size_px,
            kind=kind,
            families=families,
            per_scene=per_scene,
            phrasing_split=phrasing_split,
            overlay_images=overlay_images,
            on_progress=lambda done, total, unit: reporter.progress(done, total, unit),
        )
    except ValueError as e:  # an unknown family or split: the user's choice, not an engine bug
        raise UserError(str(e)) from e
    qa = out / "qa.jsonl"
    reporter.artifact(str(qa), "table", "question records")
    return {"out_dir": str(out), "scenes": counts["scenes"], "questions": counts["questions"], "qa": str(qa)}


def read_questions(questions: list[str], reporter: Reporter | None = None) -> dict[str, Any]:
    """What each question asks in the Scenes world, where it is worded as one of its phrasings: {"family",
    "variant"} or None each (`world/qa/phrasings.py` `scenes_reading`); the evaluation measures a plain
    question the measurers answer (a sky kind, a horizon band) and draws its perfect-control twins by it."""
    from .world.qa.phrasings import scenes_reading

    return {"readings": [scenes_reading(q) for q in questions]}


def ask(
    images: list[str],
    question: str,
    answer: str = "Yes",
    overlay: dict[str, Any] | None = None,
    judge: str = "scenes-judge",
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """The judge's probability of `answer` to `question` for each image (after drawing `overlay`), and the
    question as the judge was asked it (a Scenes judge: in its own words)."""
    from .judges.ask import ask_files, asked_as, unknown_question_words

    answers = ask_files(images, question, answer=answer, overlay=overlay, judge=judge)
    asked = asked_as(question, judge)
    if unknown := unknown_question_words(asked, judge):
        (reporter or Reporter()).log(
            "warning",
            f"the judge reads {as_unknown(unknown)}: its answer is a guess",
        )
    return {"answers": answers, "asked_as": asked}


def generate(
    prompt: str,
    n: int,
    seed: int,
    out_dir: str,
    num_inference_steps: int = 1,
    generator: str = "scenes-generator",
    lora: str | None = None,
    lora_scale: float = 1.0,
    guidance_scale: float | None = None,
    resolution_px: int | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """`n` images of `prompt` as PNGs and a grid in `out_dir`, optionally with a LoRA fused in."""
    from .generators.generate import generate_files

    reporter = reporter or Reporter()
    result = generate_files(
        prompt,
        n,
        seed,
        str(_output_folder(out_dir)),
        num_inference_steps=num_inference_steps,
        generator=generator,
        on_progress=reporter.progress,
        lora=lora,
        lora_scale=lora_scale,
        guidance_scale=guidance_scale,
        resolution_px=resolution_px,
        on_warning=lambda message: reporter.log("warning", message),
    )
    reporter.artifact(result["grid"], "grid", f"{n} images of {prompt!r}")
    return result


def train_judge(
    out_dir: str,
    seed: int = 0,
    max_train_steps: int = 1500,
    phrasing_split: str = "train",
    vision: str = "resnet",
    init_from: str | None = None,
    generated_pools: list[str] | None = None,
    generated_share: float | None = None,
    generated_families: list[str] | None = None,
    learning_rate: float | None = None,
    max_share: float | None = None,
    word_dropout: float | None = None,
    recolored_palette_share: float | None = None,
    tiled_palette_share: float | None = None,
    attacked_palette_share: float | None = None,
    family_weights: dict[str, float] | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Train (or resume) an embedded judge in `out_dir`; with `init_from`, fine-tune that judge instead.

    A fine-tune starts from a judge that already knows the near misses: 50 warm-up steps, no curriculum."""
    from .world.train_judge import train_judge as train

    reporter = reporter or Reporter()
    overrides: dict[str, Any] = {}
    if init_from:
        overrides.update(init_from=str(_input_folder(init_from)), warmup_steps=50, curriculum_frac=0.0)
    if generated_pools:
        overrides["generated_pool"] = ",".join(str(_input_file(p)) for p in generated_pools)
    if generated_share is not None:
        overrides["generated_share"] = generated_share
    if generated_families:
        overrides["generated_families"] = ",".join(_known_family_names(generated_families))
    if learning_rate is not None:
        overrides["learning_rate"] = learning_rate
    if max_share is not None:
        overrides["max_share"] = max_share
    if word_dropout is not None:
        overrides["word_dropout"] = word_dropout
    if recolored_palette_share is not None:
        overrides["recolored_palette_share"] = recolored_palette_share
    if tiled_palette_share is not None:
        overrides["tiled_palette_share"] = tiled_palette_share
    if attacked_palette_share is not None:
        overrides["attacked_palette_share"] = attacked_palette_share
    if family_weights:
        overrides["family_weights"] = _known_families(family_weights)
    summary = train(
        str(_output_folder(out_dir)),
        seed=seed,
        max_steps=max_train_steps,
        phrasing_split=phrasing_split,
        vision=vision,
        **overrides,
        on_progress=reporter.progress,
        on_metric=reporter.metric,
        should_stop=reporter.should_stop,
    )
    return {"out_dir": out_dir, "summary": _jsonable(summary)}


def judge_pool(
    out: str,
    seed: int,
    n_per_source: int,
    base_sources: int,
    loras: list[dict[str, str]],
    generator: str = "scenes-generator",
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Generate and measure a pool of images for judge training (world/judge_generated.py)."""
    from .world.judge_generated import build_pool, pool_counts, pool_sources

    reporter = reporter or Reporter()
    for lora in loras:
        _input_file(lora["run"])
    sources = pool_sources(base_sources, [f"{lora['name']}={lora['run']}" for lora in loras])
    if not sources:
        raise UserError("judge_pool: no sources; give base_sources > 0 or at least one LoRA")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    pool = build_pool(
        target,
        sources,
        n_per_source,
        seed,
        generator=generator,
        on_progress=lambda done, total: reporter.progress(done, total, "sources", None),
    )
    return {"out": out, "images": len(pool["scenes"]), "counts": pool_counts(pool["scenes"])}


def train_generator(
    out_dir: str, seed: int = 0, max_train_steps: int = 2000, reporter: Reporter | None = None
) -> dict[str, Any]:
    """Train (or resume) the embedded generator in `out_dir`."""
    from .world.train_generator import train_generator as train

    reporter = reporter or Reporter()
    summary = train(
        str(_output_folder(out_dir)),
        seed=seed,
        max_steps=max_train_steps,
        on_progress=reporter.progress,
        on_metric=reporter.metric,
        should_stop=reporter.should_stop,
    )
    if summary.get("stopped"):  # the trainer saved a checkpoint and returned: report it as cancelled
        raise JobCancelled()
    return {"out_dir": out_dir, "summary": _jsonable(summary)}


def teach(
    recipe: dict[str, Any],
    out_dir: str,
    recipe_dir: str = ".",
    resume: bool = False,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Teach the recipe's control: train a LoRA of its generator from its judge's answers, in `out_dir`."""
    from .teach.loop import teach as run_teach

    summary = run_teach(
        recipe,
        str(_output_folder(out_dir)),
        resume=resume,
        reporter=reporter or Reporter(),
        recipe_dir=recipe_dir,
    )
    lora = Path(out_dir) / "pytorch_lora_weights.safetensors"
    return {
        "out_dir": out_dir,
        "lora": str(lora),
        "steps": int(summary.get("steps", 0)),
        "summary": _jsonable(summary),
    }


def bench_teach(steps: int = 10, scale: str = "embedded", reporter: Reporter | None = None) -> dict[str, Any]:
    """Steps/s of the teach loop against a reference-style loop on the same models, in the same run.

    `scale`: "embedded" (the default: the embedded models' sizes), "full" (FLUX.1-schnell and Qwen2.5-VL-7B at
    their published sizes, bf16, CUDA only) or "tiny" (the code of "full" on tiny configs); `teach/bench.py`.
    On the CPU both run on one thread: with two threads on a shared 2-core machine a step's time swings by
    10-50x with the load, which drowns the difference being measured.
    """
    import torch

    from .teach.bench import run_bench

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _jsonable(run_bench(scale, steps, reporter))
    finally:
        torch.set_num_threads(threads)


def _jsonable(value: Any) -> Any:
    """Summaries may hold paths and numpy numbers; the protocol carries JSON."""
    import json

    return json.loads(json.dumps(value, default=str))


def _output_folder(out_dir: str) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"out_dir {out} exists and is not a folder")
    return out


def _known_family_names(families: list[str]) -> list[str]:
    """Question families, refused in one line where one is not a Scenes QA family (a user's mistake)."""
    from .world.train_judge import check_families

    try:
        check_families(families)
    except ValueError as e:
        raise UserError(f"generated_families: {e}") from None
    return list(families)


def _known_families(weights: dict[str, float]) -> dict[str, float]:
    """The factors by question family, refused in one line (a user's mistake) where the config would refuse
    them: a family that is not a Scenes QA family, a factor not above 0."""
    from .world.train_judge import check_family_weights

    try:
        check_family_weights(weights)
    except ValueError as e:
        raise UserError(str(e)) from None
    return dict(weights)


def _input_folder(path: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{path}: no such folder")
    return folder


def _input_file(path: str) -> Path:
    if not Path(path).exists():
        raise UserError(f"{path}: no such file or folder")
    return Path(path)


def _torch_and_devices() -> tuple[str | None, list[dict[str, Any]]]:
    try:
        import torch
    except Exception:  # a broken torch install is exactly what doctor must report, not crash on
        return None, []
    devices = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(
                {"index": index, "name": props.name, "memory_gb": round(props.total_memory / 2**30, 1)}
            )
    return torch.__version__, devices


def _version_of(package: str) -> str | None:
    # Read the installed metadata instead of importing: importing transformers alone takes seconds.
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def evaluate(
    recipe: dict[str, Any],
    recipe_dir: str,
    lora: str,
    prompts: list[str],
    seeds: list[int],
    lora_scales: list[float],
    judges: list[str],
    out_dir: str,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Held-out images of a taught LoRA at each adapter scale, and every judge's answers about them."""
    from .evaluation.run import evaluate_run

    return evaluate_run(
        recipe,
        recipe_dir,
        lora,
        prompts,
        seeds,
        lora_scales,
        judges,
        str(_output_folder(out_dir)),
        reporter=reporter or Reporter(),
    )

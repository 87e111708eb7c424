"""The pictures in the docs: contact sheets of landscapes, line art, each visual prompt and each recipe.

    python -m dualproc_engine.world.figures --out docs/images

Every picture is rendered from fixed seeds, so rerunning this reproduces the committed files.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _sheet(images: Any, path: Path) -> None:
    from ..images import image_grid, save_png

    save_png(image_grid(images, pad_px=4), path)
    print(f"wrote {path}")


def scenes_sheet(out: Path) -> None:
    """The README's picture: 64 scenes at 64 px, landscapes and line art mixed."""
    from .render import render
    from .scene import sample_scenes

    _sheet(render(sample_scenes(0, 64, size_px=64)), out / "scenes-contact-sheet.png")


def kind_sheets(out: Path) -> None:
    """Landscapes and line art at 128 px, one palette per row of named palettes."""
    from .render import render
    from .scene import sample_scenes

    _sheet(render(sample_scenes(1, 16, kind="landscape", size_px=128)), out / "landscapes-128.png")
    _sheet(render(sample_scenes(2, 16, kind="lineart", size_px=128)), out / "lineart-128.png")


def visual_prompt_sheet(out: Path) -> None:
    """One scene per visual prompt kind, at 128 px, with the prompt a question of that kind would use."""
    import torch

    from ..prompts import apply_overlay
    from .qa import make_qa
    from .render import render, render_full
    from .scene import sample_scenes

    wanted = ["horizon_line", "palette_match", "stroke_width", "relative_depth", "layout_match"]
    images = []
    for number, family in enumerate(wanted):
        kind = "lineart" if family == "stroke_width" else "landscape"
        # Rendering fills in each object's visible point, which depth and layout questions need.
        scenes = render_full(sample_scenes(10 + number, 32, kind=kind, size_px=128)).scenes
        records = make_qa(scenes, 10 + number, families=[family], per_scene=1)
        chosen = next(r for r in records if r["overlay"] is not None and r["answer"] == "Yes")
        scene = render([scenes[chosen["scene_index"]]])
        images.append(apply_overlay(scene, chosen["overlay"]))
    _sheet(torch.cat(images), out / "visual-prompts-128.png")


def recipe_sheets(out: Path, recipes: Path) -> None:
    """Per library recipe, what its judge is shown: four Scenes renders of the recipe's kind at 128 px with
    the first visual prompt of its questions (resolved by the app, so palette_from_image has its colours)."""
    import json
    import subprocess
    import tempfile

    import torch
    import yaml

    from ..prompts import apply_overlay
    from .render import render
    from .scene import sample_scenes

    app = Path(__file__).resolve().parents[4] / "app" / "bin" / "dualproc.js"
    for number, file in enumerate(sorted(recipes.glob("*.yaml"))):
        with tempfile.TemporaryDirectory() as tmp:
            resolved = Path(tmp) / "recipe.yaml"
            cmd = ["node", str(app), "recipe", "check", "-q", str(file), "--out", str(resolved)]
            subprocess.run(cmd, check=True, capture_output=True)
            recipe = yaml.safe_load(resolved.read_text())
        prompts = [q["visual_prompt"] for q in recipe["questions"] if q.get("visual_prompt")]
        kind = "lineart" if any(p["kind"] == "stroke" for p in prompts) else "landscape"
        images = render(sample_scenes(20 + number, 4, kind=kind, size_px=128))
        if prompts:
            images = apply_overlay(images, json.loads(json.dumps(prompts[0])))
        _sheet(torch.cat([images]), out / f"recipe-{file.stem}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the Scenes figures used in the docs.")
    parser.add_argument("--out", default="docs/images", help="folder for the PNGs")
    parser.add_argument("--recipes", default="recipes", help="the recipe library (one sheet per recipe)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scenes_sheet(out)
    kind_sheets(out)
    visual_prompt_sheet(out)
    recipe_sheets(out, Path(args.recipes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

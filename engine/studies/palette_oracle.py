"""Is it the judge or the generator? The palette control taught by an oracle instead of the judge.

The library's palette-colours recipe does not take (docs/results.md: 0% adherent, the judges are hacked). This
study teaches the same recipe (same prompts, LoRA, learning rate, steps) with the judge replaced by an oracle
that reads the pixels directly, through the teach loop's own judge contract (`logprob(images, questions,
answers)`): its "log-probability" is minus a palette loss,

- adherence: each pixel's squared sRGB distance to its nearest palette colour, averaged over the image;
- coverage: how far the image's largest soft share of one palette colour exceeds `--max-share`, so that one
  flat wash of a single palette colour does not count (the measured control wants two colours on 5% each).

It writes a teach run folder (the library recipe as recipe.yaml, the LoRA, checkpoints), so that the app's
evaluation measures it exactly as it measures the judge-taught runs (held-out prompts and seeds, the palette
measurer, drift, diversity):

    cd engine && python studies/palette_oracle.py --out ../runs/palette-oracle
    node ../app/bin/dualproc.js eval ../runs/palette-oracle

If the oracle's LoRA reaches the measured target, the generator can draw the palette and the judge is what
fails; if it does not, no judge can teach this generator the palette.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor

REPO = Path(__file__).resolve().parents[2]


class PaletteOracle:
    """The judge contract answered from the pixels: every question's log-probability is minus the loss."""

    def __init__(self, colors: list[str], max_share: float, temperature: float = 0.01):
        from dualproc_engine.world.colorspace import hex_to_rgb

        self.palette = torch.tensor([hex_to_rgb(h) for h in colors])  # (K, 3) sRGB in [0, 1]
        self.max_share, self.temperature = max_share, temperature

    def loss(self, images: Tensor) -> Tensor:
        """(B,) adherence + coverage of images in [0, 1]."""
        pixels = images.flatten(2).transpose(1, 2)  # (B, HW, 3)
        d2 = (pixels[:, :, None, :] - self.palette.to(images)[None, None]).square().sum(-1)  # (B, HW, K)
        adherence = d2.min(-1).values.mean(1)
        shares = torch.softmax(-d2 / self.temperature, dim=-1).mean(1)  # (B, K) soft share of each colour
        coverage = torch.relu(shares.max(-1).values - self.max_share)
        return adherence + coverage

    def logprob(self, images: Tensor, questions: list[str], answers: list[str]) -> Tensor:
        return -self.loss(images)[:, None].expand(-1, len(questions))


def expanded_prompts(prompts: Any) -> list[str]:
    """A recipe's prompts with a template's slots expanded (as the app does before teaching)."""
    if isinstance(prompts, str | list):
        return [prompts] if isinstance(prompts, str) else list(prompts)
    slots = prompts["slots"]
    names = list(slots)
    return [
        prompts["template"].format(**dict(zip(names, values, strict=True)))
        for values in itertools.product(*(slots[n] for n in names))
    ]


def teach_with_judge(recipe_path: str | Path, out_dir: str | Path, judge: Any) -> dict[str, Any]:
    """Teach the recipe unchanged but for its judge, into a run folder `dualproc eval` can measure."""
    from dualproc_engine.teach import teach

    recipe = yaml.safe_load(Path(recipe_path).read_text())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recipe_path, out / "recipe.yaml")  # what `dualproc eval` reads
    resolved = {**recipe, "prompts": expanded_prompts(recipe["prompts"])}
    return teach(resolved, out, judge=judge)


def recipe_with(path: str | Path, generator: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The recipe at `path` (its generator replaced where one is given) and its first visual prompt."""
    recipe = yaml.safe_load(Path(path).read_text())
    if generator:
        recipe["generator"] = generator
    return recipe, next(q["visual_prompt"] for q in recipe["questions"] if q.get("visual_prompt"))


def teach_unmarked(recipe: dict[str, Any], out_dir: str | Path, judge: Any) -> dict[str, Any]:
    """Teach `recipe` with its visual prompts left off (an oracle that reads the pixels would read the overlay
    too), then write the whole recipe as the run's recipe.yaml, since `dualproc eval` reads the control from
    its visual prompt."""
    unmarked = {**recipe, "questions": [{**q, "visual_prompt": None} for q in recipe["questions"]]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recipe.yaml"
        path.write_text(yaml.safe_dump(unmarked, sort_keys=False))
        summary = teach_with_judge(path, out_dir, judge)
    (Path(out_dir) / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the teach run folder to write")
    parser.add_argument("--recipe", default=str(REPO / "recipes" / "palette-colours.yaml"))
    parser.add_argument("--max-share", type=float, default=0.6, help="largest share of one colour")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = yaml.safe_load(Path(args.recipe).read_text())
    colors = recipe["questions"][0]["visual_prompt"]["colors"]
    summary = teach_with_judge(args.recipe, args.out, PaletteOracle(colors, args.max_share))
    print({k: summary[k] for k in ("steps", "train_time_s") if k in summary})


if __name__ == "__main__":
    main()

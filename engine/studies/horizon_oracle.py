"""Is it the judge or the generator? The horizon control taught by an oracle instead of the judge.

A generator trained to follow its captions' horizon bands (docs/generator.md, "Keeping the spread") is taught
nothing by the shipped judges: horizon-30's LoRA draws speckle over an unmoved horizon. This study teaches
the same recipe (prompts, LoRA, learning rate, steps, regularisers) with the judge replaced by an oracle that
reads the pixels, through the teach loop's own judge contract: its log-probability is the log of the share
of a soft argmax over the rows' lightness steps that falls within the control's tolerance of the wanted
height (the horizon is where the mean lightness of the rows changes most). Like `palette_oracle.py` it writes
a teach run folder that `dualproc eval` measures as it measures the judge-taught runs:

    cd engine && python studies/horizon_oracle.py --out ../runs/horizon-oracle [--generator FOLDER]
    node ../app/bin/dualproc.js eval ../runs/horizon-oracle

If the oracle's LoRA reaches the measured target, the generator can move its horizon and the judge is what
fails; if it does not, no judge can teach this generator the control.
"""

from __future__ import annotations

import argparse

import torch
from palette_oracle import REPO, recipe_with, teach_unmarked
from torch import Tensor

LUMA = (0.299, 0.587, 0.114)


def luma(images: Tensor) -> Tensor:
    """(B, H, W) lightness of (B, 3, H, W) sRGB images in [0, 1] (Rec. 601 weights)."""
    return (images * torch.tensor(LUMA).to(images)[None, :, None, None]).sum(1)


class HorizonOracle:
    """The judge contract answered from the pixels: every question's log-probability is that of the horizon
    lying within `tolerance` of `height` (fractions of the image height, from the top)."""

    def __init__(self, height: float, tolerance: float = 0.03, temperature: float = 0.01):
        self.height, self.tolerance, self.temperature = height, tolerance, temperature

    def horizon_logprob(self, images: Tensor) -> Tensor:
        """(B,) log of the soft share of the rows' lightness steps within the tolerance of the height."""
        rows = luma(images).mean(-1)  # (B, H)
        steps = (rows[:, 1:] - rows[:, :-1]).abs()  # step k lies between rows k and k + 1
        at = torch.arange(1, rows.shape[1], dtype=images.dtype, device=images.device) / rows.shape[1]
        inside = (at - self.height).abs() <= self.tolerance + 0.5 / rows.shape[1]
        logp = torch.log_softmax(steps / self.temperature, dim=1)
        return torch.logsumexp(logp.masked_fill(~inside, float("-inf")), dim=1)

    def logprob(self, images: Tensor, questions: list[str], answers: list[str]) -> Tensor:
        return self.horizon_logprob(images)[:, None].expand(-1, len(questions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the teach run folder to write")
    parser.add_argument("--recipe", default=str(REPO / "recipes" / "horizon-30.yaml"))
    parser.add_argument("--generator", help="a generator folder instead of the recipe's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe, visual_prompt = recipe_with(args.recipe, args.generator)
    summary = teach_unmarked(recipe, args.out, HorizonOracle(visual_prompt["y"]))
    print({k: summary[k] for k in ("steps", "train_time_s") if k in summary})


if __name__ == "__main__":
    main()

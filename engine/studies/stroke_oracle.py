"""Is it the judge or the generator? The line-weight control taught by an oracle instead of the judge.

The library's line-weight recipe did not take at 1 sampling step (docs/results.md: 0%, the judges hacked by
speckle), and the reason given was the generator: its line art is blobs. This study tests that: it teaches the
same recipe (prompts, LoRA, learning rate, steps) with the judge replaced by an oracle that reads the pixels,
through the teach loop's own judge contract. Each pixel is read as a blend of the paper (the median colour)
and the ink (the mean colour of the darkest 1%), as the stroke measurer reads line art; pixels off that blend
(fills, speckle) do not count as ink. The width of the strokes is twice the ink's area over its outline's
length (a stroke of width w and length l has area w l and two edges of length l), the outline's length being
the summed gradient magnitude of the coverage. On renders of 1 / 2 / 3 / 4 px strokes at 64 px it reads
medians of 1.2 / 2.0 / 3.0 / 4.2 px (`--calibrate` prints them). Its log-probability is minus the squared miss
of the wanted width in half pixels, less penalties for ink outside 4-20% of the image (erasing the drawing, or
blackening it, is no way out) and for fine detail in the colour (a maze of coloured speckle). Like
`palette_oracle.py` it writes a teach run folder that `dualproc eval` measures as it measures the judge-taught
runs:

    cd engine && python studies/stroke_oracle.py --out ../runs/stroke-oracle [--generator FOLDER]
    node ../app/bin/dualproc.js eval ../runs/stroke-oracle

If the oracle's LoRA reaches the measured target, the generator can draw strokes of that width and the judge
is what fails. At 1 step it does not (docs/results.md, twenty-third session): every variant tried reached its
own reading of 2 px with textures the measurer reads otherwise, so a miss here says the oracle was hacked, not
that no judge could teach the control. With the twenty-third session's recipe (4 sampling steps, the colour
term, one phrasing) it reaches 31.2%, the judge 62.5%.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from horizon_oracle import luma
from palette_oracle import REPO, recipe_with, teach_unmarked
from torch import Tensor

LEAST_INK, MOST_INK = 0.04, 0.2  # renders of 2 px strokes: 0.10 (median)
OFF_SCALE = 0.01  # squared sRGB distance from the paper-ink segment at which a pixel counts 1 / e as ink
MOST_SPECKLE = 4e-4  # mean square of the colour's fine detail: renders and untaught images 1.5e-4 to 1.8e-4


class StrokeOracle:
    """The judge contract answered from the pixels: every question's log-probability is minus how far the
    estimated stroke width lies from `width_px` (in units of `tolerance_px`), less penalties for ink outside
    LEAST_INK-MOST_INK of the image and for speckle."""

    def __init__(self, width_px: float, tolerance_px: float = 0.5):
        self.width_px, self.tolerance_px = width_px, tolerance_px

    @staticmethod
    def ink_coverage(images: Tensor) -> Tensor:
        """(B, H, W) ink coverage in [0, 1]: each pixel read as a blend of the paper (the median colour) and
        the ink (the mean colour of the darkest 1%), as the stroke measurer reads line art; a pixel off the
        paper-ink segment (a fill, speckle) counts less the further off it lies."""
        lightness = luma(images).detach().flatten(1)  # (B, HW)
        pixels = images.flatten(2)  # (B, 3, HW)
        paper = pixels.detach().median(2).values[:, :, None]
        darkest = lightness <= lightness.quantile(0.01, dim=1, keepdim=True)
        ink = (pixels.detach() * darkest[:, None]).sum(2) / darkest.sum(1)[:, None]
        axis = ink[:, :, None] - paper  # (B, 3, 1)
        t = ((pixels - paper) * axis).sum(1) / axis.square().sum(1).clamp_min(1e-4)
        off = (pixels - paper - t.clamp(0, 1)[:, None] * axis).square().sum(1)  # (B, HW)
        coverage = t.clamp(0, 1) * torch.exp(-off / OFF_SCALE)  # a fill is not ink
        return coverage.view(images.shape[0], *images.shape[2:])

    @staticmethod
    def speckle(images: Tensor) -> Tensor:
        """(B,) mean square of the chroma's fine detail (what a 3 x 3 box blur removes): strokes are lightness
        edges, a maze of coloured speckle is not."""
        chroma = images - images.mean(1, keepdim=True)
        fine = chroma - F.avg_pool2d(chroma, 3, 1, 1, count_include_pad=False)
        return fine.square().mean((1, 2, 3))

    def width_and_share(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(B,) estimated stroke width in pixels and (B,) share of the image in ink."""
        ink = self.ink_coverage(images)
        dx = ink[:, :-1, 1:] - ink[:, :-1, :-1]
        dy = ink[:, 1:, :-1] - ink[:, :-1, :-1]
        outline = (dx.square() + dy.square() + 1e-6).sqrt().sum((1, 2))
        area = ink.sum((1, 2))
        return 2 * area / outline, area / ink[0].numel()

    def logprob(self, images: Tensor, questions: list[str], answers: list[str]) -> Tensor:
        width, share = self.width_and_share(images)
        scale = images.shape[-1] / 64  # the recipe's width is given at 64 px
        miss = (width - self.width_px * scale) / (self.tolerance_px * scale)
        ink_outside = torch.relu(LEAST_INK - share) + torch.relu(share - MOST_INK)
        logp = -miss.square() - 50 * ink_outside - 2000 * torch.relu(self.speckle(images) - MOST_SPECKLE)
        return logp[:, None].expand(-1, len(questions))


def calibrate(widths: list[float], n: int = 64) -> None:
    """Print the oracle's reading of rendered line art at each true stroke width (64 px)."""
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    oracle = StrokeOracle(2.0)
    for true in widths:
        scenes = sample_scenes(7, n, "lineart", 64, stroke_width_px=true)
        width, share = oracle.width_and_share(render(scenes, 64))
        q = width.quantile(torch.tensor([0.1, 0.5, 0.9]))
        print(f"{true} px: median {q[1]:.2f} [{q[0]:.2f}, {q[2]:.2f}], ink {share.median():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="the teach run folder to write")
    parser.add_argument("--recipe", default=str(REPO / "recipes" / "line-weight.yaml"))
    parser.add_argument("--generator", help="a generator folder instead of the recipe's")
    parser.add_argument("--calibrate", action="store_true", help="print the oracle's reading of renders")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.calibrate:
        calibrate([1.0, 2.0, 3.0, 4.0])
        return
    if not args.out:
        parser.error("--out is required unless --calibrate")
    recipe, visual_prompt = recipe_with(args.recipe, args.generator)
    summary = teach_unmarked(recipe, args.out, StrokeOracle(visual_prompt["width_px"]))
    print({k: summary[k] for k in ("steps", "train_time_s") if k in summary})


if __name__ == "__main__":
    main()

"""Would colour views help the palette? The judge's answer when image and strip turn together in hue.

The spatial views of `teach/views.py` (flips, shuffled quadrants) took away the place the palette LoRA used
to paint next to the strip. A colour view would rotate each image *with its strip drawn on* about the grey
axis of RGB by a random angle: a true palette match stays a match, so if the judge's mistakes were tied to
particular hues (warm washes taken for the teals of the retro strip), a LoRA could no longer rely on them.
This asks the judge about the retro strip on renders painted in retro's colours, on the same scenes in their
own palettes, and on the images of a taught palette LoRA (an `eval` folder), at six angles.

    cd engine && python studies/palette_hue_views.py --taught ../out/results/palette-colours/eval

Measured with the shipped `scenes-judge` (seventeenth session, docs/results.md): mean P(Yes) at 0-300
degrees 0.46 0.46 0.41 0.45 0.66 0.52 for retro renders, 0.44 0.40 0.34 0.42 0.53 0.51 for the same scenes
in their own colours, 0.94 0.96 0.93 0.61 0.96 0.92 for the taught LoRA's wash: the judge cannot tell the
renders apart at any angle, and accepts the wash at nearly all of them, so colour views would not take the
hack away.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from torch import Tensor

RETRO = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"]
QUESTION = "Does the image use the colours in the strip at the bottom?"
ANGLES = (0, 60, 120, 180, 240, 300)


def grey_axis_rotation(degrees: float) -> Tensor:
    """3 x 3 rotation of RGB about (1, 1, 1) (Rodrigues): a hue turn that keeps greys grey."""
    u = torch.ones(3) / math.sqrt(3)
    k = torch.tensor([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
    t = math.radians(degrees)
    return torch.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)


def main() -> None:
    from dualproc_engine.images import load_image
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.prompts import apply_overlay, parse_overlay
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="scenes-judge")
    parser.add_argument("--taught", type=Path, help="an eval folder: its images/scale-1/*.png")
    parser.add_argument("--n", type=int, default=48, help="landscapes of each kind")
    args = parser.parse_args()
    torch.set_num_threads(1)

    judge = load_judge(args.judge)
    strip = parse_overlay({"kind": "palette", "colors": RETRO})
    sets = {
        "retro renders": render(sample_scenes(5, args.n, "landscape", palette=RETRO)),
        "own colours": render(sample_scenes(5, args.n, "landscape")),
    }
    if args.taught:
        files = sorted((args.taught / "images" / "scale-1").glob("*.png"))
        sets["taught"] = torch.cat([load_image(f) for f in files])
    for name, images in sets.items():
        shown = apply_overlay(images, strip)
        means = []
        for degrees in ANGLES:
            turned = torch.einsum("ij,bjhw->bihw", grey_axis_rotation(degrees), shown).clamp(0, 1)
            with torch.no_grad():
                means.append(judge.logprob(turned, [QUESTION], ["Yes"]).exp().mean().item())
        print(
            f"{name:14s} n={len(images):3d} "
            + " ".join(f"{a}:{m:.2f}" for a, m in zip(ANGLES, means, strict=True))
        )


if __name__ == "__main__":
    main()

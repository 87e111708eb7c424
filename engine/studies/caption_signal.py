"""How much does each caption attribute tell a generator about the picture, in its own loss's terms?

At pure noise (sigma = 1) an x0-predicting flow model's best answer is the mean of the images that fit the
caption, and its loss is their variance. This study measures, on renders, how much knowing one attribute
lowers that variance: the mean squared distance to the overall mean image minus the mean squared distance
to the mean image of the render's group (horizon band, sky kind, or palette name). A small number means
the MSE objective hardly rewards learning that attribute from the text.

    cd engine && python studies/caption_signal.py --n 1500
"""

from __future__ import annotations

import argparse

import torch


def main() -> None:
    from dualproc_engine.world.captions import horizon_band
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    scenes = sample_scenes(77, args.n, kind="landscape")
    images = render(scenes)
    overall = ((images - images.mean(0)).square()).mean().item()

    def grouped(keys: list[str]) -> float:
        total = 0.0
        for key in set(keys):
            group = images[[i for i, k in enumerate(keys) if k == key]]
            total += (group - group.mean(0)).square().sum().item()
        return total / images.numel()

    print(f"pure-noise MSE of the best caption-blind prediction: {overall:.4f}")
    for name, keys in (
        ("horizon band", [horizon_band(s.horizon) for s in scenes]),
        ("sky kind", [s.sky or "" for s in scenes]),
        ("palette name", [s.palette.name or "random" for s in scenes]),
    ):
        gain = overall - grouped(keys)
        print(f"knowing the {name}: lowers it by {gain:.4f} ({100 * gain / overall:.1f}%)")


if __name__ == "__main__":
    main()

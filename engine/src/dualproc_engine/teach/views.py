"""Random views of the generated images for the training judge: transformations the answer does not depend on.

A generator optimised against one judge finds what that judge looks at. The embedded palette judge compares
the strip with the pixels just above it (docs/judge.md, locality study), and the palette LoRA learned to
paint the strip's colours along the bottom over a pale wash. If the judge sees each image flipped or with
its quadrants shuffled at random, a colour band in one place no longer always lands next to the strip: only
colours used all over the picture keep the answer up. The same idea keeps CLIP-guided drawing from
adversarial images (random crops and flips per step, e.g. CLIPDraw, Frans et al. 2021).

Each transformation is a permutation of pixels (differentiable, exact) drawn per image from the run's
`random.Random`, so a resumed run replays the same views. Which ones are safe depends on the control: a
vertical flip moves a horizon at 30% to 70%, a shuffle breaks any layout; see `AUGMENTATIONS`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import Tensor

AUGMENTATIONS = {
    "hflip": "mirror left-right at random (safe unless the answer depends on left and right)",
    "vflip": "mirror top-bottom at random (palette, line weight, attributes; not horizon or layout)",
    "shuffle": "shuffle the four quadrants at random (palette only: breaks every layout)",
}


def quadrants_shuffled(image: Tensor, order: Sequence[int]) -> Tensor:
    """(C, H, W) with its quadrants (top-left, top-right, bottom-left, bottom-right) placed in `order`:
    quadrant i of the result is quadrant order[i] of the input. Odd sides leave the last row/column be."""
    h, w = image.shape[-2] // 2, image.shape[-1] // 2
    tiles = [image[:, r * h : (r + 1) * h, c * w : (c + 1) * w] for r in (0, 1) for c in (0, 1)]
    out = image.clone()
    for i, j in enumerate(order):
        r, c = divmod(i, 2)
        out[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = tiles[j]
    return out


def random_views(images: Tensor, augmentations: Sequence[str], rng: random.Random) -> Tensor:
    """(B, C, H, W) -> the same images, each transformed by its own random draw of `augmentations`."""
    if not augmentations:
        return images
    views = []
    for image in images:
        if "shuffle" in augmentations:
            order = [0, 1, 2, 3]
            rng.shuffle(order)
            image = quadrants_shuffled(image, order)
        if "hflip" in augmentations and rng.random() < 0.5:
            image = image.flip(-1)
        if "vflip" in augmentations and rng.random() < 0.5:
            image = image.flip(-2)
        views.append(image)
    return torch.stack(views)

"""Does the generator draw the sky kind its caption names, or is the sky measurer misreading it?

For held-out landscapes (the generator evaluation's captions), each caption is written four times, its sky
phrase swapped for one of each sky kind ("under a clear sky", "at sunset", "at night", "under a grey sky"; or
the matching noun where the caption opens with one), and drawn from the same noise. Printed: how far apart
the four pictures of one noise are (mean absolute difference, 0-255), and how colourful the top quarter of
the picture (the sky, at any horizon the generator draws) is for each kind: the spread of a pixel's three
channels, averaged, beside the same for renders of the scenes whose own sky is of that kind. If the words
made the sky, a picture said to be day would be about as colourful as a rendered day sky, and unlike the
overcast picture of the same noise. Also printed: how far apart the text encoder puts the four captions.

    cd engine && python studies/sky_words.py --n 100
"""

from __future__ import annotations

import argparse
import itertools
import random

import torch

KINDS = ("day", "sunset", "night", "overcast")


def sky_swaps(caption: str, kind: str, rng: random.Random | None = None) -> dict[str, str] | None:
    """The caption with its sky phrase (of kind `kind`) swapped for one of each kind (each kind's first
    phrase, or with `rng` one drawn at random); None if it has none."""
    from dualproc_engine.world.captions import SKY_NOUNS, SKY_PHRASES

    def choose(options: list[str]) -> str:
        return rng.choice(options) if rng else options[0]

    for table, pick in (
        (SKY_PHRASES, lambda k: choose([p for p, needs in SKY_PHRASES[k] if needs is None])),
        (SKY_NOUNS, lambda k: choose(SKY_NOUNS[k])),
    ):
        phrases = [p if isinstance(p, str) else p[0] for p in table[kind]]
        lower = caption.lower()
        hit = next((p for p in sorted(phrases, key=len, reverse=True) if p.lower() in lower), None)
        if hit is None:
            continue
        i = lower.index(hit.lower())
        out = {}
        for other in KINDS:
            new = pick(other)
            if i == 0:
                new = new[0].upper() + new[1:]
            out[other] = caption[:i] + new + caption[i + len(hit) :]
        return out
    return None


def sky_colourfulness(images: torch.Tensor) -> torch.Tensor:
    """Per image, the spread of each pixel's three channels in the top quarter, averaged (0-255)."""
    top = images[:, :, : images.shape[2] // 4] * 255
    return top.std(dim=1).mean(dim=(1, 2))


def main() -> None:
    from dualproc_engine.generators.evaluate import HELDOUT_SEED
    from dualproc_engine.generators.generate import generate_images
    from dualproc_engine.generators.load import load_generator
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", default="scenes-generator", help="preset name or pipeline folder")
    parser.add_argument("--n", type=int, default=100, help="held-out landscapes")
    parser.add_argument("--steps", type=int, default=1, help="sampling steps")
    args = parser.parse_args()
    torch.set_num_threads(2)
    scenes = sample_scenes(HELDOUT_SEED, args.n, kind="landscape")
    swaps = [(s, sky_swaps(s.caption, s.sky or "day")) for s in scenes]
    kept = [(s, sw) for s, sw in swaps if sw is not None]
    print(f"{len(kept)} of {len(scenes)} captions with a sky phrase found; {args.steps} step(s)")
    gen = load_generator(args.generator)
    drawn = {k: generate_images(gen, [sw[k] for _, sw in kept], 0, args.steps) for k in KINDS}
    embeds = {k: gen.encode_prompt([sw[k] for _, sw in kept]) for k in KINDS}
    print("text encoder: mean distance between the two captions' token embeddings (L2; an embedding's norm")
    print(f"is {embeds['day'].norm(dim=-1).mean():.2f}):")
    for a, b in itertools.combinations(KINDS, 2):
        print(f"  {a} / {b}: {(embeds[a] - embeds[b]).norm(dim=-1).mean():.2f}")
    print("mean absolute difference between the pictures of one noise (0-255):")
    for a, b in itertools.combinations(KINDS, 2):
        print(f"  {a} / {b}: {255 * (drawn[a] - drawn[b]).abs().mean():.1f}")
    rendered = render([s for s, _ in kept])
    own = [s.sky or "day" for s, _ in kept]
    print("sky colourfulness (top quarter, channel spread 0-255): generated as said / renders of that kind")
    for k in KINDS:
        renders = rendered[[i for i, o in enumerate(own) if o == k]]
        print(
            f"  {k}: {sky_colourfulness(drawn[k]).mean():.1f} / {sky_colourfulness(renders).mean():.1f}"
            f" (n = {len(renders)})"
        )


if __name__ == "__main__":
    main()

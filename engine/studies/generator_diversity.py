"""How much a generator's pictures of one caption differ from noise to noise.

For held-out captions (half landscapes, half line art), each drawn from 8 noises at one step: the mean
absolute pixel difference (0-1) between two pictures of the same caption, over all pairs, per kind. The same
quantity as `dualproc eval`'s diversity across seeds (app/src/eval/diversity.ts), here over many captions at
once and without a LoRA. A generator that has stopped reading its noise draws one picture per caption and
scores near 0 (KID, over all captions, does not see it).

    cd engine && python studies/generator_diversity.py --generator scenes-generator --generator DIR ...
"""

from __future__ import annotations

import argparse
import itertools

import torch


def main() -> None:
    from dualproc_engine.generators.evaluate import HELDOUT_SEED
    from dualproc_engine.generators.load import load_generator
    from dualproc_engine.world.scene import sample_scenes

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", action="append", required=True, help="preset or folder; repeatable")
    parser.add_argument("--captions", type=int, default=32, help="held-out captions per kind")
    parser.add_argument("--noises", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(2)
    kinds = {
        k: [s.caption for s in sample_scenes(HELDOUT_SEED + 7, args.captions, k)]
        for k in ("landscape", "lineart")
    }
    print("| generator | landscapes | line art |\n|---|---|---|")
    for name in args.generator:
        gen = load_generator(name)
        noise = gen.make_noise(args.noises, 7)
        row = []
        for captions in kinds.values():
            diffs = []
            for caption in captions:
                with torch.no_grad():
                    images = gen.sample(gen.encode_prompt([caption] * args.noises), noise, 1)
                diffs += [(a - b).abs().mean() for a, b in itertools.combinations(images, 2)]
            row.append(float(torch.stack(diffs).mean()))
        print(f"| {name} | {row[0]:.3f} | {row[1]:.3f} |", flush=True)


if __name__ == "__main__":
    main()

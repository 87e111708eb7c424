"""Does a step in the starting noise put the horizon where the caption says (world/horizon_noise.py)?

Held-out landscapes whose caption names a horizon band are drawn from the same noises, plain and with the
step of `horizon_noise.horizon_shaped` at each scene's horizon, at several strengths; the app's measurers
(`dualproc world measure`) read the horizon and the sky kind. Band matched and sky kind matched are the
definitions of `generators/evaluate.py`.

    cd engine && python studies/horizon_noise_probe.py --generator scenes-generator --steps 1
    cd engine && python studies/horizon_noise_probe.py --generator TEACHER --steps 6 --cfg 2
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    from dualproc_engine.generators.base import sample_euler
    from dualproc_engine.generators.evaluate import HELDOUT_SEED, measure
    from dualproc_engine.generators.load import load_generator
    from dualproc_engine.world.captions import horizon_band
    from dualproc_engine.world.horizon_noise import horizon_shaped, pair_specs, sky_ground_directions
    from dualproc_engine.world.scene import sample_scenes
    from dualproc_engine.world.train_generator import _cfg_velocity

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", default="scenes-generator", help="preset name or pipeline folder")
    parser.add_argument("--steps", type=int, default=1, help="Euler steps")
    parser.add_argument("--cfg", type=float, default=1.0, help="CFG scale (1: none, as a reflowed student)")
    parser.add_argument("--strengths", default="0,0.3,0.6,1", help="step strengths, comma-separated")
    parser.add_argument("--n", type=int, default=96, help="held-out landscapes whose caption names a band")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = load_generator(args.generator)
    specs = [
        p for p in pair_specs(sample_scenes(HELDOUT_SEED, 6 * args.n, kind="landscape"), False) if p.horizon
    ]
    specs = specs[: args.n]
    captions = [p.caption for p in specs]
    emb = gen.encode_prompt(captions)
    velocity = _cfg_velocity(gen, gen.encode_prompt([""]).expand(len(specs), -1, -1), args.cfg)
    noise = gen.make_noise(len(specs), 12345)
    directions = sky_ground_directions()
    print(f"{len(specs)} held-out landscapes naming a band; {args.steps} step(s), CFG {args.cfg}")
    print("| step strength | horizon band matched | sky kind matched |\n|---|---|---|")
    for strength in (float(s) for s in args.strengths.split(",")):
        with torch.no_grad():
            x = sample_euler(
                velocity, horizon_shaped(noise, specs, strength, directions), gen.sigmas(args.steps), emb
            )
        measured = measure(gen.decode(x), "landscape")
        band = [m["horizon"] is not None and horizon_band(m["horizon"]) == horizon_band(p.horizon)
                for p, m in zip(specs, measured, strict=True)]  # fmt: skip
        sky = [m["sky"] == p.sky for p, m in zip(specs, measured, strict=True)]
        print(f"| {strength:g} | {100 * np.mean(band):.1f}% | {100 * np.mean(sky):.1f}% |", flush=True)


if __name__ == "__main__":
    main()

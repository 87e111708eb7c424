"""The drift floor of each control: exact counterfactual render pairs, measured by the app's drift checks.

For held-out scenes, the render as drawn and the same scene with only the controlled attribute set to the
library recipe's value (horizon at 0.3 of the height; stroke width 2 px at 64 px; the "retro" palette): the
Scenes world keeps everything else (sky, ground, objects, their order) fixed, so every change the drift
checks of `dualproc eval` report between the two is caused by the control alone. Writes
OUT/<control>/{base,control}/ (PNGs and attributes.jsonl) and prints the app's table for each
(app/scripts/drift-floor.ts). `dualproc eval` measures the same floor for each run of the embedded generator
(48 scenes; the report's "a perfect control" column).

    cd engine && python studies/drift_floor.py --out ../runs/drift-floor --n 200
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
CONTROLS = {
    "horizon": ("landscape", {"horizon": 0.3}),
    "stroke": ("lineart", {"stroke_width_px": 2.0}),
    "palette": (None, {"palette": "retro"}),
}
SEED = 999_999 + 31
"""A held-out scene seed (see generators/evaluate.py HELDOUT_SEED)."""


def main() -> None:
    from dualproc_engine.world.dataset import write_dataset

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for control, (kind, fixed) in CONTROLS.items():
        folder = Path(args.out) / control
        write_dataset(folder / "base", n=args.n, seed=SEED, kind=kind)
        write_dataset(folder / "control", n=args.n, seed=SEED, kind=kind, **fixed)
        print(f"\n### {control} ({kind or 'both kinds'}, {fixed})\n", flush=True)
        script = REPO / "app" / "scripts" / "drift-floor.ts"
        subprocess.run(
            ["npx", "tsx", str(script), str(folder.resolve()), "--controlled", control],
            cwd=REPO / "app",
            check=True,
        )


if __name__ == "__main__":
    main()

"""Does packing a picture's questions behind their shared opening speed up the embedded teach loop?

`dualproc bench teach` (the embedded scale: random-weight embedded models, 4 questions about 2 pictures, one
CPU thread) run twice each way, alternating, in one process: packed (the default) and unpacked (every
question its own sequence: `shared_prefix.MIN_SHARED_TOKENS` set out of reach). Fresh models per run, since
a generator takes one LoRA.

    cd engine && python studies/packing_speed.py
"""

from __future__ import annotations

import torch

from dualproc_engine.judges import shared_prefix
from dualproc_engine.teach.bench import bench, random_models

PACKED = shared_prefix.MIN_SHARED_TOKENS


def main() -> None:
    torch.set_num_threads(1)
    for repeat in range(2):
        for mode, least in (("packed", PACKED), ("unpacked", 10**9)):
            generator, judge = random_models()
            shared_prefix.MIN_SHARED_TOKENS = least
            r = bench(steps=20, generator=generator, judge=judge)
            ours, reference = r["ours"]["steps_per_s"], r["reference"]["steps_per_s"]
            print(f"{repeat} {mode}: ours {ours:.2f} steps/s, reference {reference:.2f}, {r['speedup']:.3f}x")


if __name__ == "__main__":
    main()

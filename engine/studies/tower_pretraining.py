"""Teach the judge's own vision tower the object kinds before the judge: does object presence then bind?

Object presence sits at 52-60% in every judge trained so far, while the judge's tower alone, with a linear
read-out per kind asked, learns the shapes to 83-87% in 10,000 steps (docs/judge.md, "Unknown words and object
shapes"): the shared judge training gives the family an order of magnitude fewer examples than that. This
study trains exactly the tower a new `scenes-judge` gets (`build_vision_config` of the default
`JudgeArchitecture`) on object presence alone, as `vision_tower_probe.py` does (batch 32, AdamW 1e-3, one
thread, a pair of logits per kind asked on the max-pooled feature map), and saves its weights for
`world.train_judge --init-tower-from` (the read-out is thrown away):

    cd engine && python studies/tower_pretraining.py --steps 10000 --out ../runs/tower-objects.safetensors
    cd engine && python studies/tower_pretraining.py --steps 3000 --probe-judge ../runs/judge   # frozen tower
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from torch import nn


def pretrain_tower(
    steps: int, out: Path | None, seed: int = 0, batch: int = 32, frozen_from: str | None = None
) -> list[dict[str, float]]:
    """Train the judge's tower on object presence for `steps` steps; save it to `out`; validation accuracy
    every 500 steps. With `frozen_from` (a judge folder), that judge's tower stays as it is and only the
    read-out learns: how much of the object kinds its features still hold."""
    from safetensors.torch import save_file
    from transformers import AutoModelForImageTextToText, ResNetModel

    from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_vision_config
    from dualproc_engine.world.judge_data import SEED_BASES, record_images, scenes_qa

    torch.manual_seed(seed)
    if frozen_from:
        tower = AutoModelForImageTextToText.from_pretrained(frozen_from).model.vision_tower.eval()
        tower.requires_grad_(False)
    else:
        tower = ResNetModel(build_vision_config(JudgeArchitecture()))
    family = "object_presence"
    val = scenes_qa(SEED_BASES["validation"], 160, "train", per_scene=2, families=[family])
    kinds = sorted({r["params"]["kind"] for r in val.records})
    head = nn.Linear(tower.config.hidden_sizes[-1], 2 * len(kinds))
    params = list(head.parameters()) + ([] if frozen_from else list(tower.parameters()))
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)

    def logits(x: torch.Tensor, records: list[dict]) -> torch.Tensor:
        asked = torch.tensor([kinds.index(r["params"]["kind"]) for r in records])
        pooled = tower(x).last_hidden_state.flatten(2).max(2).values
        pairs = head(pooled).view(x.shape[0], len(kinds), 2)
        return pairs[torch.arange(x.shape[0]), asked]  # (B, 2): No, Yes

    val_x = record_images(val.images, val.records) * 2 - 1  # the judge's processor: mean = std = 0.5
    val_y = torch.tensor([r["answer"] == "Yes" for r in val.records]).long()
    rng, rows, started = random.Random(seed), [], time.monotonic()
    for step in range(steps):
        if step % 6 == 0:  # a fresh chunk of scenes every 6 steps, as judge training draws them
            chunk = scenes_qa(SEED_BASES["train"] + step, 64, "train", per_scene=2, families=[family])
            pools = {a: [r for r in chunk.records if r["answer"] == a] for a in ("Yes", "No")}
        records = [rng.choice(pools["Yes" if i % 2 == 0 else "No"]) for i in range(batch)]
        x = record_images(chunk.images, records) * 2 - 1
        y = torch.tensor([i % 2 == 0 for i in range(batch)]).long()
        loss = nn.functional.cross_entropy(logits(x, records), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % 500 == 0 or step + 1 == steps:
            tower.eval()
            with torch.no_grad():
                accuracy = float((logits(val_x, val.records).argmax(1) == val_y).float().mean())
            tower.train(not frozen_from)
            rows.append(
                {"step": step + 1, "val_acc": round(accuracy, 3), "s": round(time.monotonic() - started)}
            )
            print(json.dumps(rows[-1]), flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in tower.state_dict().items()}, str(out))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="the tower's weights (.safetensors)")
    parser.add_argument(
        "--probe-judge", help="a judge folder: train only the read-out on its frozen tower (nothing saved)"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not args.out and not args.probe_judge:
        parser.error("give --out (train and save a tower) or --probe-judge (probe a judge's tower)")
    torch.set_num_threads(args.threads)
    pretrain_tower(
        args.steps, None if args.probe_judge else args.out, args.seed, frozen_from=args.probe_judge
    )


if __name__ == "__main__":
    main()

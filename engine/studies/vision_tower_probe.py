"""Which vision tower can learn the relational horizon-line question quickly? A linear-probe study.

Each tower (tiny config, random init) plus one linear layer on its max-pooled features is trained on one
QA family alone (default: horizon_line, "is the red line on the horizon?", with negatives at least 5 px off),
batch 32, AdamW lr 1e-3, one CPU thread; validation accuracy every 50 steps on held-aside scenes. This is
how the judge's tower was chosen (docs/judge.md):

    cd engine && python studies/vision_tower_probe.py --towers resnet,bit,convnext,clip --steps 400
    cd engine && python studies/vision_tower_probe.py --towers resnet,resnet-deep,resnet-wide \
        --family object_presence --steps 1500
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

import torch
from torch import nn

Features = Callable[[torch.Tensor], torch.Tensor]


def build_tower(name: str) -> tuple[nn.Module, Features]:
    """A tiny tower and its pooled features (B, C) of images in [-1, 1]."""
    import transformers as tf

    tower: nn.Module
    if name in ("resnet", "resnet-deep", "resnet-wide"):  # the judge's; two blocks a stage; twice as wide
        wide = name == "resnet-wide"
        tower = tf.ResNetModel(
            tf.ResNetConfig(
                embedding_size=64 if wide else 32,
                hidden_sizes=[64, 128, 256] if wide else [32, 64, 128],
                depths=[2, 2, 2] if name == "resnet-deep" else [1, 1, 1],
                layer_type="basic",
                hidden_act="relu",
            )
        )
    elif name == "bit":
        tower = tf.BitModel(
            tf.BitConfig(
                embedding_size=32,
                hidden_sizes=[32, 64, 128],
                depths=[1, 1, 1],
                layer_type="preactivation",
                global_padding="SAME",
                num_groups=8,
            )
        )
    elif name == "regnet":
        tower = tf.RegNetModel(
            tf.RegNetConfig(embedding_size=32, hidden_sizes=[32, 64, 128], depths=[1, 1, 1], groups_width=16)
        )
    elif name == "convnext":
        tower = tf.ConvNextModel(
            tf.ConvNextConfig(patch_size=4, num_stages=3, hidden_sizes=[32, 64, 128], depths=[1, 1, 1])
        )
    elif name == "swin":
        tower = tf.SwinModel(
            tf.SwinConfig(
                image_size=64,
                patch_size=2,
                embed_dim=32,
                depths=[1, 1, 1, 1],
                num_heads=[1, 2, 4, 8],
                window_size=4,
            ),
            add_pooling_layer=False,
        )
        return tower, lambda x: tower(x, output_hidden_states=True).hidden_states[-1].max(1).values
    elif name == "clip":
        tower = tf.CLIPVisionModel(
            tf.CLIPVisionConfig(
                image_size=64,
                patch_size=8,
                hidden_size=128,
                intermediate_size=512,
                num_hidden_layers=4,
                num_attention_heads=4,
            )
        )
        return tower, lambda x: tower(x).last_hidden_state[:, 1:].max(1).values
    elif name == "davit":
        from transformers.models.florence2.modeling_florence2 import Florence2VisionBackbone

        tower = Florence2VisionBackbone(
            tf.Florence2VisionConfig(
                depths=(1, 1, 1),
                patch_size=(7, 3, 3),
                patch_stride=(4, 2, 2),
                patch_padding=(3, 1, 1),
                patch_prenorm=(False, True, True),
                embed_dim=(32, 64, 128),
                num_heads=(1, 2, 4),
                num_groups=(1, 2, 4),
                window_size=4,
                drop_path_rate=0.0,
                projection_dim=128,
            )
        )
    else:
        raise SystemExit(f"unknown tower {name!r}")
    return tower, lambda x: tower(x).last_hidden_state.flatten(2).max(2).values


def probe(name: str, family: str, steps: int, seed: int = 0) -> list[dict[str, float]]:
    """Validation accuracy every 50 steps. For object_presence the answer depends on the kind asked about,
    so the read-out has a pair of logits per kind (the asked kind's pair is used): shape recognition alone."""
    from dualproc_engine.world.judge_data import SEED_BASES, record_images, scenes_qa

    torch.manual_seed(seed)
    tower, features = build_tower(name)
    width = features(torch.zeros(2, 3, 64, 64)).shape[1]

    def far(record: dict) -> bool:  # the easy negatives: a line at least 8% (5 px) off
        return not (record["answer"] == "No" and (record.get("margin") or 1) < 0.08)

    val = scenes_qa(SEED_BASES["validation"], 160, "train", per_scene=2, families=[family])
    val_records = [r for r in val.records if far(r)]
    kinds = sorted({r["params"]["kind"] for r in val_records}) if family == "object_presence" else [""]
    head = nn.Linear(width, 2 * len(kinds))
    params = list(tower.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)

    def logits(x: torch.Tensor, records: list[dict]) -> torch.Tensor:
        asked = torch.tensor([kinds.index(r["params"]["kind"]) if kinds != [""] else 0 for r in records])
        pairs = head(features(x)).view(x.shape[0], len(kinds), 2)
        return pairs[torch.arange(x.shape[0]), asked]  # (B, 2): No, Yes

    val_x = record_images(val.images, val_records) * 2 - 1
    val_y = torch.tensor([r["answer"] == "Yes" for r in val_records]).long()
    rng, rows, started = random.Random(seed), [], time.monotonic()
    for step in range(steps):
        if step % 6 == 0:
            chunk = scenes_qa(SEED_BASES["train"] + step, 64, "train", per_scene=2, families=[family])
            pools = {a: [r for r in chunk.records if r["answer"] == a and far(r)] for a in ("Yes", "No")}
        records = [rng.choice(pools["Yes" if i % 2 == 0 else "No"]) for i in range(32)]
        x = record_images(chunk.images, records) * 2 - 1
        y = torch.tensor([i % 2 == 0 for i in range(32)]).long()
        loss = nn.functional.cross_entropy(logits(x, records), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % 50 == 0:
            tower.eval()
            with torch.no_grad():
                accuracy = float((logits(val_x, val_records).argmax(1) == val_y).float().mean())
            tower.train()
            rows.append(
                {"step": step + 1, "val_acc": round(accuracy, 3), "s": round(time.monotonic() - started, 1)}
            )
            print(json.dumps({"tower": name, **rows[-1]}), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--towers", default="resnet,bit,regnet,convnext,swin,clip,davit")
    parser.add_argument("--family", default="horizon_line")
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.towers.split(","):
        probe(name, args.family, args.steps)


if __name__ == "__main__":
    main()

"""Can the judge's VLM learn the palette question, and what does it need? A palette-only training study.

Until the fifth session the judges answered "does the strip at the bottom show this image's palette?" at
chance. This trains a
fresh judge VLM (the shipped architecture, with `--stages` changing how many pixels an image token covers) on
the palette_match family alone, batch 64 half Yes / half No, AdamW, one CPU thread, with or without the
auxiliary read-out, and reports validation accuracy on held-aside scenes every `--eval-every` steps, split
by how the wrong strips were made (one or two swatches swapped for near misses, or another palette):

    cd engine && python studies/palette_probe.py --stages 3 --steps 600 --out /tmp/palette-s3.json
    cd engine && python studies/palette_probe.py --stages 2 --steps 600 --out /tmp/palette-s2.json
    cd engine && python studies/palette_probe.py --palette-layout tiles --steps 600 --out /tmp/tiles.json

`--family` trains on another QA family alone the same way (e.g. object_presence), to ask whether the
architecture can learn it at all when nothing else competes for the steps; `--split heldout` uses the
held-out phrasings, and `--init-from JUDGE` starts from a trained judge (its words and weights) instead of a
fresh one, to ask whether that judge can learn the family when it gets all of the batch:

    cd engine && python studies/palette_probe.py --family relative_depth --split heldout \
        --init-from src/dualproc_engine/weights/scenes-judge-heldout --steps 1500 --lr 3e-4 --out /tmp/rd.json

With 3 stages (the shipped judges) an image token covers 16 x 16 px, so the bottom row of tokens mixes the
8 px swatch strip with the scene above it; with 2 stages a token covers 8 x 8 px and the bottom row is the
strip alone.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time

import torch


def accuracy_by_perturbation(probs: list[float], records: list[dict]) -> dict[str, float]:
    hits: dict[str, list[bool]] = {}
    for p, r in zip(probs, records, strict=True):
        kind = r.get("params", {}).get("perturbation", r["answer"])  # other families: split by answer
        kind = "other" if kind.startswith("named") or kind == "random" else kind
        hits.setdefault(kind, []).append((p > 0.5) == (r["answer"] == "Yes"))
        hits.setdefault("all", []).append((p > 0.5) == (r["answer"] == "Yes"))
    return {k: round(100 * sum(v) / len(v), 1) for k, v in sorted(hits.items())}


def main() -> None:
    from dualproc_engine.judges.embedded import EmbeddedJudge
    from dualproc_engine.judges.evaluate import p_yes
    from dualproc_engine.judges.scenes_vlm import JudgeArchitecture, build_judge_files, copy_judge_files
    from dualproc_engine.world.judge_data import SEED_BASES, record_images, scenes_qa
    from dualproc_engine.world.train_judge import AuxReadout, aux_loss

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=3, help="tower stages: 3 = 16 px tokens, 2 = 8 px")
    parser.add_argument("--vision", default="resnet")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--aux", type=float, default=1.0, help="weight of the auxiliary read-out (0: none)")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", default="palette_match", help="the QA family to train on alone")
    parser.add_argument("--split", default="train", choices=["train", "heldout"], help="phrasings asked")
    parser.add_argument("--init-from", default=None, help="a trained judge's folder to start from")
    parser.add_argument(
        "--palette-layout",
        default="band",
        choices=["band", "tiles"],
        help="palette_match only: the strip at the bottom, or the swatches tiled over the image",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True, help="JSON file for the accuracy history")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    arch = JudgeArchitecture(vision=args.vision, vision_stages=args.stages)
    with tempfile.TemporaryDirectory() as folder:
        if args.init_from:  # its own tower and words; --vision and --stages do not apply
            model, processor = copy_judge_files(args.init_from, folder)
            model.train()
        else:
            model, processor = build_judge_files(folder, arch, args.split, args.seed)
    judge = EmbeddedJudge(model, processor)
    readout = AuxReadout(model.config.vision_config.hidden_size)
    tower_map: dict[str, torch.Tensor] = {}
    model.model.vision_tower.register_forward_hook(
        lambda _m, _i, out: tower_map.__setitem__("last", out.last_hidden_state)
    )
    params = list(model.parameters()) + list(readout.parameters())
    optimizer = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)

    families = [args.family]
    tiled = 1.0 if args.palette_layout == "tiles" else 0.0

    def asked(batch):  # with tiles, only the tiled copies (each answered by the whole picture)
        if tiled:
            batch.records = [r for r in batch.records if r["overlay"].get("layout") == "tiles"]
        return batch

    validation = asked(
        scenes_qa(
            SEED_BASES["validation"] + args.seed,
            240,
            args.split,
            per_scene=1,
            families=families,
            tiled_palette_share=tiled,
        )
    )
    val_images = record_images(validation.images, validation.records)
    history, started, chunk = [], time.monotonic(), None
    rng = random.Random(args.seed)
    for step in range(args.steps):
        if step % 4 == 0:
            chunk = asked(
                scenes_qa(
                    SEED_BASES["train"] * (args.seed + 1) + step // 4,
                    96,
                    args.split,
                    per_scene=2,
                    families=families,
                    tiled_palette_share=tiled,
                )
            )
        assert chunk is not None
        yes = [r for r in chunk.records if r["answer"] == "Yes"]
        no = [r for r in chunk.records if r["answer"] == "No"]
        records = [rng.choice(yes if i % 2 == 0 else no) for i in range(64)]
        images = record_images(chunk.images, records)
        warm = min(1.0, (step + 1) / 50)
        decay = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = args.lr * warm * decay
        questions, answers = [r["question"] for r in records], [r["answer"] for r in records]
        logprob = judge.logprob_pairs(images, questions, answers)
        loss = -logprob.mean()
        if args.aux > 0:
            loss = loss + args.aux * aux_loss(readout, tower_map["last"], records)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % args.eval_every == 0:
            model.eval()
            acc = accuracy_by_perturbation(p_yes(judge, val_images, validation.records), validation.records)
            model.train()
            row = {"step": step + 1, "seconds": round(time.monotonic() - started), "accuracy": acc}
            history.append(row)
            print(json.dumps(row), flush=True)
    result = {"args": vars(args), "image_tokens": arch.image_tokens, "history": history}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

"""The judge's calibration: one temperature for the whole vocabulary, folded into `lm_head` (it has no bias).

The teach loop treats a judge's answer as a probability, so the temperature is fitted to minimise the NLL of
the true answers on Scenes QA from the calibration seed range (world/judge_data.py `SEED_BASES`), which
training and evaluation never draw from. A judge meets wordings it never saw, whose new words its word-level
tokenizer maps to the unknown token; fitted on its own wordings alone it is over-confident on those
(docs/judge.md). So the calibration set holds each question twice: as written, and with a share of its words
replaced by an unknown one (`word_dropout`).

`train_judge` calibrates at the end of training; `python -m dualproc_engine.world.calibrate_judge --judge DIR`
refits a trained judge in place (its seed and phrasings read from its training.json) and records the new
temperature there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from pathlib import Path
from typing import Any

import torch

from .judge_data import SEED_BASES, drop_words, record_images, scenes_qa

CALIBRATION_SCENES = 160


@torch.no_grad()
def fit_temperature(judge: Any, images: torch.Tensor, records: list[dict[str, Any]]) -> float:
    """The temperature T minimising the NLL of the true answers (logits / T), by a 1-D grid search."""
    hidden_rows, targets = [], []
    for i in range(0, len(records), 128):
        part = records[i : i + 128]
        ids, attention, target = judge.encode_texts(
            [r["question"] for r in part], [r["answer"] for r in part]
        )
        features = judge.encode_images(images[i : i + 128])
        gather = judge._image_positions(ids, features.shape[1])
        image_part = features[torch.arange(len(part))[:, None], gather]
        text = judge.model.get_input_embeddings()(ids)
        embeds = torch.where((ids == judge.image_token_id)[:, :, None], image_part, text)
        hidden = judge.model.model.language_model(
            inputs_embeds=embeds, attention_mask=attention
        ).last_hidden_state
        rows, cols = target.nonzero(as_tuple=True)
        hidden_rows.append(hidden[rows, cols])
        targets.append(ids[rows, cols + 1])
    logits = judge.model.lm_head(torch.cat(hidden_rows)).float()
    answer = torch.cat(targets)
    grid = torch.exp(torch.linspace(math.log(0.3), math.log(4.0), 141))
    nll = torch.stack([torch.nn.functional.cross_entropy(logits / t, answer) for t in grid])
    return float(grid[int(nll.argmin())])


def calibration_set(
    seed: int, phrasing_split: str, word_dropout: float, n_scenes: int = CALIBRATION_SCENES
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Images and records of the calibration questions; with `word_dropout`, each again with words dropped."""
    data = scenes_qa(SEED_BASES["calibration"] + seed, n_scenes, phrasing_split)
    images, records = record_images(data.images, data.records), list(data.records)
    if word_dropout > 0:
        rng = random.Random(f"{seed}/calibration-words")
        dropped = [{**r, "question": drop_words(r["question"], word_dropout, rng)} for r in records]
        images, records = torch.cat([images, images]), records + dropped
    return images, records


def calibrate(
    judge: Any,
    seed: int,
    phrasing_split: str,
    word_dropout: float,
    n_scenes: int = CALIBRATION_SCENES,
) -> float:
    """Fit the temperature on the calibration set and fold it into the judge's `lm_head`; returns it."""
    images, records = calibration_set(seed, phrasing_split, word_dropout, n_scenes)
    temperature = fit_temperature(judge, images, records)
    with torch.no_grad():
        judge.model.lm_head.weight.div_(temperature)
    return temperature


def recalibrate_folder(folder: str | Path, word_dropout: float, n_scenes: int = CALIBRATION_SCENES) -> float:
    """Refit a trained judge folder's temperature in place (on top of the one already folded in)."""
    from ..judges.embedded import load_judge

    folder = Path(folder)
    summary_file = folder / "training.json"
    if not summary_file.is_file():
        raise ValueError(f"{folder}: no training.json (not a judge trained by world/train_judge.py)")
    summary = json.loads(summary_file.read_text())
    config = summary["config"]
    judge = load_judge(str(folder))
    judge.model.eval()
    temperature = calibrate(judge, config["seed"], config["phrasing_split"], word_dropout, n_scenes)
    judge.model.save_pretrained(str(folder))
    summary.setdefault("recalibrations", []).append(
        {"temperature": temperature, "word_dropout": word_dropout, "calibration_scenes": n_scenes}
    )
    tmp = folder / "training.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    os.replace(tmp, summary_file)
    return temperature


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Refit a trained Scenes judge's temperature in place.")
    parser.add_argument("--judge", required=True, help="a judge folder written by world/train_judge.py")
    parser.add_argument(
        "--word-dropout", type=float, default=0.3, help="share of words unknown in the second copy"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    temperature = recalibrate_folder(args.judge, args.word_dropout)
    print(json.dumps({"judge": args.judge, "temperature": temperature, "word_dropout": args.word_dropout}))


if __name__ == "__main__":
    main()

"""Does a panel of training judges resist the hacks each of them falls for alone?

Each judge round of docs/judge.md was hacked by a different picture (a pale wash, orange with specks, cyan
with green blobs). This study teaches a recipe unchanged with its judge replaced by a panel, through the teach
loop's own judge contract: every question's log-probability is the mean of the members' (the geometric mean
of their probabilities), so a picture scores well only if it fools every member at once. It writes a teach
run folder (the recipe as recipe.yaml, the LoRA) that `dualproc eval` measures like any other run; the
recipe's own held-out judge stays the evaluation judge, never a member.

    cd engine && python studies/judge_ensemble.py --recipe ../recipes/palette-colours.yaml \\
        --judge scenes-judge --judge ROUND10/judge --judge ROUND11/judge --out ../runs/panel
    node ../app/bin/dualproc.js eval ../runs/panel
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from palette_oracle import teach_with_judge  # noqa: E402  (a sibling study)


class JudgePanel:
    """The judge contract answered by several judges: the mean of their log-probabilities."""

    def __init__(self, judges: list[object]):
        self.judges = judges

    def logprob(self, images: Tensor, questions: list[str], answers: list[str]) -> Tensor:
        return torch.stack([j.logprob(images, questions, answers) for j in self.judges]).mean(0)


def main() -> None:
    from dualproc_engine.judges.embedded import load_judge

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the teach run folder to write")
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--judge", action="append", required=True, help="a member: shipped name or folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    panel = JudgePanel([load_judge(name) for name in args.judge])
    summary = teach_with_judge(args.recipe, args.out, panel)
    print({k: summary[k] for k in ("steps", "train_time_s") if k in summary})


if __name__ == "__main__":
    main()

"""Teaching a generator a control: the judge's wanted answers, backpropagated into generator LoRA weights.

- `config`: the resolved recipe as validated dataclasses.
- `objectives`: -log P(wanted answer), weighted over questions, and the per-question score.
- `questions`: visual prompts composited differentiably, questions grouped per picture for shared judge work.
- `path`: the reference's gradient path (rollout without gradient, a window with it, x0, decode) and the
  preservation regulariser.
- `step`: one optimiser step; `loop`: `teach(recipe, out_dir, ...)`; `evaluate`: grids; `checkpoint`,
  `outputs`: what a run writes; `adapters`: what the loop needs beyond today's model contracts.
- `bench`: steps/s of this loop against the reference's way.

Importing this package is cheap: torch and the models load when `teach` runs.
"""

from typing import Any


def teach(*args: Any, **kwargs: Any) -> dict[str, Any]:
    from .loop import teach as run

    return run(*args, **kwargs)


__all__ = ["teach"]

"""Noise that places the horizon: how reflow pairs teach the generator its captions' horizon bands.

The embedded generator ignores "with a high horizon": from the same noise, "high" and "low" give the same
picture, because in pixel space the noise's own row-to-row drift already decides where sky turns into ground
by the time the caption could (docs/generator.md, "Why the horizon band in particular is not learned"). So
the horizon can be steered through the noise: a step along the rows, light above and dark below in the
colours a sky of that kind has against its ground, puts the horizon where the step is, from the first Euler
step. The shipped student drawn at one step from noise with such a step (strength 0.6) at its scene's
horizon matches the caption's band in 80% of held-out landscapes (23% from plain noise), its sky kind in 70%
(65%; `studies/horizon_noise_probe.py`).

Used where reflow pairs are made (`train_generator`, `--band-noise`): the teacher draws a landscape whose
caption names a band from noise with the step at the scene's horizon (and, `--every-band`, in the other two
bands from the same noise), and the student learns that picture from the plain noise, where only the
caption's words can tell it where the horizon goes. Three rounds from the shipped weights reached 92-94% of
the bands, and pictures of one caption that hardly differ from noise to noise (docs/generator.md): not
shipped. With `--spread-weight` the student keeps its variety (one round: 48-58% of the bands; not shipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .attributes import HORIZON_RANGE, SceneAttributes

DIRECTION_SCENES = 800
"""Rendered landscapes the sky-minus-ground colours are averaged over (about 200 per sky kind)."""
DIRECTION_SEED = 4242
STEP_SOFTNESS = 0.03
"""Width of the step, in image heights (tanh): about one latent row either side at 64 px."""


def sky_ground_directions(n: int = DIRECTION_SCENES, seed: int = DIRECTION_SEED) -> dict[str, Tensor]:
    """Per sky kind, half the mean difference between the latent channels above and below the horizon of
    rendered landscapes ((C,) in the generator's [-1, 1] folded space)."""
    from ..generators.embedded import images_to_latents
    from .render import render
    from .scene import sample_scenes

    scenes = sample_scenes(seed, n, kind="landscape")
    latents = images_to_latents(render(scenes))
    halves: dict[str, list[Tensor]] = {}
    for scene, latent in zip(scenes, latents, strict=True):
        if scene.horizon is None or scene.sky is None:
            continue  # a landscape always has both; line art neither
        row = round(scene.horizon * latent.shape[-2])
        if 2 <= row <= latent.shape[-2] - 2:  # both sides seen
            sky, ground = latent[:, :row].mean((1, 2)), latent[:, row:].mean((1, 2))
            halves.setdefault(scene.sky, []).append((sky - ground) / 2)
    return {kind: torch.stack(d).mean(0) for kind, d in halves.items()}


BANDS = {"high": (HORIZON_RANGE[0], 1 / 3), "middle": (1 / 3, 2 / 3), "low": (2 / 3, HORIZON_RANGE[1])}
"""Where each band's horizons lie (captions.horizon_band's thirds, within the world's horizon range)."""


@dataclass(frozen=True)
class PairSpec:
    """One reflow pair: the scene whose noise it starts from, its caption, and the horizon and sky kind the
    noise's step is drawn for (None: the noise as it is)."""

    noise_of: int
    caption: str
    horizon: float | None = None
    sky: str | None = None


def named_band(scene: SceneAttributes) -> tuple[str, str] | None:
    """(band, phrase) where a landscape's caption names its horizon band; None otherwise."""
    from .captions import HORIZON_PHRASES

    caption = scene.caption.lower()
    if scene.kind != "landscape":
        return None
    return next(((b, p) for b, ps in HORIZON_PHRASES.items() for p in ps if p in caption), None)


def names_band(scene: SceneAttributes) -> bool:
    """Whether a scene's caption names its horizon band (landscapes' captions do some of the time)."""
    return named_band(scene) is not None


def swap_band_phrase(caption: str, phrase: str, new_phrase: str) -> str:
    """The caption with its band phrase (`phrase`, lower-case, as `named_band` found it) replaced."""
    at = caption.lower().index(phrase)
    return caption[:at] + new_phrase + caption[at + len(phrase) :]


def pair_specs(scenes: Sequence[SceneAttributes], every_band: bool) -> list[PairSpec]:
    """The pairs to draw: one per scene, the step at the horizon of those whose caption names a band; with
    `every_band`, such a scene also in the other two bands from the same noise (its band phrase swapped, its
    horizon moved to the same place within the other band), so that only the words tell the three apart."""
    from .captions import HORIZON_PHRASES

    specs = []
    for i, scene in enumerate(scenes):
        named = named_band(scene)
        if named is None or scene.horizon is None:
            specs.append(PairSpec(i, scene.caption))
            continue
        band, phrase = named
        specs.append(PairSpec(i, scene.caption, scene.horizon, scene.sky))
        if not every_band:
            continue
        lo, hi = BANDS[band]
        place = min(max((scene.horizon - lo) / (hi - lo), 0.0), 1.0)
        for other in BANDS:
            if other != band:
                other_lo, other_hi = BANDS[other]
                caption = swap_band_phrase(scene.caption, phrase, HORIZON_PHRASES[other][0])
                specs.append(PairSpec(i, caption, other_lo + place * (other_hi - other_lo), scene.sky))
    return specs


def horizon_shaped(
    noise: Tensor, specs: Sequence[PairSpec], strength: float, directions: dict[str, Tensor]
) -> Tensor:
    """`noise` (N, C, H, W), one per spec, with `strength` times the spec's sky kind's direction added above
    its horizon and taken off below it; a spec without a horizon keeps its noise as it is."""
    rows = (torch.arange(noise.shape[-2], dtype=noise.dtype) + 0.5) / noise.shape[-2]
    out = noise.clone()
    for i, spec in enumerate(specs):
        if not strength or spec.horizon is None or spec.sky not in directions:
            continue
        step = torch.tanh((spec.horizon - rows) / STEP_SOFTNESS)  # +1 above the horizon, -1 below
        out[i] += strength * directions[spec.sky][:, None, None] * step[None, :, None]
    return out

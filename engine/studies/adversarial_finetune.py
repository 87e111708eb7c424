"""Can a caption-reading critic teach the shipped generator what its x0 loss averaged away?

The generator draws day and overcast skies alike (docs/generator.md, "Day and overcast drawn alike"): under
an x0 (regression) loss a caption's picture at high noise is the mean of every picture the caption allows,
and the mean of many coloured day skies is about as grey as an overcast one. Adversarial distillation (ADD,
as SDXL-Turbo was made) answers regression to the mean with a critic that tells real pictures from drawn
ones. Here the shipped student is fine-tuned (UNet and text encoder) against a critic conditioned on the
caption, with the critic also shown renders under a wrong caption (their sky phrase swapped for another
kind's) as fakes, so that it must read those words; an anchor (mean squared distance to
the frozen shipped student's picture from the same noise and steps) keeps the layout. Every step draws a
fresh batch of renders (half landscapes, half line art) and a sampler of 1, 2 or 4 steps in turn; the
gradient goes through the last sampling step only, as in the teach loop; `--critic-warmup N` first trains the
critic alone for N steps, against the shipped generator's pictures; `--colour-moments` gives the critic each
band of rows' colour moments beside its conv features (a strided conv net alone hardly tells a pale sky from a
clear one); `--band-swaps` also swaps horizon band phrases in the wrong captions. At the end it prints how
often the critic prefers a held-out render's own sky phrase (`critic_reads_sky.json`). Checkpoints of the EMA
weights are pipeline folders that every generator command takes (results: docs/generator.md, "A
caption-reading critic" and "Colour moments in the critic"):

    cd engine && python studies/adversarial_finetune.py --out ../runs/adversarial --critic-warmup 1200 \
        --colour-moments
    python studies/sky_words.py --generator ../runs/adversarial/step300
    python -m dualproc_engine.generators.evaluate --generator ../runs/adversarial/step300 --out DIR --n 100
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from sky_words import KINDS, sky_swaps
from torch import Tensor, nn

SN = nn.utils.spectral_norm


ROW_BANDS = 8


def colour_moments(images: Tensor) -> Tensor:
    """Per band of rows (8 bands, top to bottom): the mean of each channel, its spread, and the mean chroma
    (a pixel's largest channel minus its smallest): [B, 8 * 7]. A pale sky and a clear one differ in these
    (renders' day skies have about four times the chroma of overcast ones) while a strided conv net's
    features, pooled with everything else, hardly part them (docs/generator.md)."""
    bands = images.unflatten(2, (ROW_BANDS, -1)).transpose(1, 2).flatten(3)  # [B, 8, 3, rows * width]
    chroma = bands.amax(2) - bands.amin(2)
    return torch.cat([bands.mean(3), bands.std(3), chroma.mean(2, keepdim=True)], 2).flatten(1)


class CaptionCritic(nn.Module):
    """A projection critic: a strided conv net's features, scored alone and against a bag of the caption's
    words (its own embedding of the generator's word-level tokens, so it keys on words such as "clear").
    With `colour_moments` the features also take the rows' colour moments (`colour_moments`)."""

    def __init__(
        self, vocab: int, pad_id: int, width: int = 32, features: int = 256, colour_moments: bool = False
    ):
        super().__init__()
        w = width
        layers: list[nn.Module] = [SN(nn.Conv2d(3, w, 3, 1, 1)), nn.LeakyReLU(0.2)]
        for c_in, c_out in ((w, w), (w, 2 * w), (2 * w, 4 * w), (4 * w, 4 * w)):  # 64 -> 4 px
            layers += [SN(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.features = SN(nn.Linear(4 * w * 16, features))
        self.moments = SN(nn.Linear(ROW_BANDS * 7, features)) if colour_moments else None
        self.score = SN(nn.Linear(features, 1))
        self.words = nn.EmbeddingBag(vocab, features, mode="mean", padding_idx=pad_id)

    def forward(self, images: Tensor, ids: Tensor) -> Tensor:
        h = self.features(self.body(images * 2 - 1).flatten(1))
        if self.moments is not None:
            h = h + self.moments(colour_moments(images) * 4)  # x4: the moments of [0, 1] pixels are small
        h = F.leaky_relu(h, 0.2)
        return self.score(h).squeeze(1) + (self.words(ids) * h).sum(1)


def wrong_caption(
    scene: Any, rng: random.Random, first_phrases: bool = False, band_swaps: bool = False
) -> str | None:
    """The scene's caption with its sky phrase swapped for another kind's (with `band_swaps`, or its horizon
    band phrase for another band's: one of the swaps drawn at random); None when it has none (line art,
    captions without such a phrase). `first_phrases` swaps in each sky kind's first phrase instead of one
    drawn at random (runs (a) and (b) of the docs)."""
    from dualproc_engine.world.captions import HORIZON_PHRASES
    from dualproc_engine.world.horizon_noise import named_band, swap_band_phrase

    if scene.kind != "landscape":
        return None
    # Each other kind's phrase drawn at random: always its first phrase would let the critic tell a wrong
    # caption by the phrase alone, without looking at the sky.
    swaps = sky_swaps(scene.caption, scene.sky, None if first_phrases else rng) if scene.sky else None
    options = [swaps[k] for k in KINDS if k != scene.sky] if swaps else []
    named = named_band(scene) if band_swaps else None
    if named is not None:
        band, phrase = named
        others = [b for b in HORIZON_PHRASES if b != band]
        options += [swap_band_phrase(scene.caption, phrase, rng.choice(HORIZON_PHRASES[b])) for b in others]
    return rng.choice(options) if options else None


def critic_reads_sky(critic: CaptionCritic, gen: Any, n: int = 200) -> dict[str, dict[str, float]]:
    """Does the critic read the sky? On held-out renders, each caption written with each kind's sky phrase:

    - "own phrase preferred": for each (own kind, other kind), the share of scenes of the own kind that the
      critic scores higher under their own phrase than under the other kind's. A per-phrase bias of the
      critic (one phrase scored higher whatever the picture) moves this, so it is not the whole story;
    - "picture-side AUC": for each two kinds k and o, how often a k scene's preference for k's phrase over
      o's (the score difference) is larger than an o scene's (0.5: the picture does not matter). This is
      what the generator's gradient feels: how the score for its caption changes with the picture.
    """
    from dualproc_engine.generators.evaluate import HELDOUT_SEED
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    scenes = [s for s in sample_scenes(HELDOUT_SEED, n, kind="landscape") if s.sky]
    swaps = [sky_swaps(s.caption, s.sky) for s in scenes]
    kept = [(s, sw) for s, sw in zip(scenes, swaps, strict=True) if sw]
    images = render([s for s, _ in kept])
    with torch.no_grad():
        scores = {k: critic(images, gen.tokenize([sw[k] for _, sw in kept])) for k in KINDS}
    rows = {k: [i for i, (s, _) in enumerate(kept) if s.sky == k] for k in KINDS}
    preferred, auc = {}, {}
    for own in KINDS:
        for other in KINDS:
            if other == own or not rows[own] or not rows[other]:
                continue
            diff = scores[own] - scores[other]
            preferred[f"{own} over {other}"] = float((diff[rows[own]] > 0).float().mean())
            if own < other:
                pairs = diff[rows[own]][:, None] > diff[rows[other]][None, :]
                auc[f"{own} / {other}"] = float(pairs.float().mean())
    return {"own phrase preferred": preferred, "picture-side AUC": auc}


def main() -> None:
    from dualproc_engine.generators.load import load_generator
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder for log.jsonl and stepN/ pipeline folders")
    p.add_argument("--generator", default="scenes-generator", help="preset name or pipeline folder")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--anchor", type=float, default=2.0, help="weight of the distance to the shipped picture")
    p.add_argument("--lr", type=float, default=1e-4, help="generator learning rate (Adam, betas 0, 0.99)")
    p.add_argument("--critic-lr", type=float, default=2e-4)
    p.add_argument("--mismatch", type=float, default=1.0, help="weight of renders under a wrong caption")
    p.add_argument(
        "--first-phrases",
        action="store_true",
        help="wrong captions take each sky kind's first phrase (a shortcut for the critic; docs' runs a, b)",
    )
    p.add_argument(
        "--band-swaps",
        action="store_true",
        help="wrong captions may also have their horizon band phrase swapped for another band's",
    )
    p.add_argument(
        "--critic-warmup", type=int, default=0, help="steps training the critic alone before the generator"
    )
    p.add_argument(
        "--colour-moments",
        action="store_true",
        help="the critic also sees each band of rows' colour moments (mean, spread, chroma)",
    )
    p.add_argument("--ema", type=float, default=0.99)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    gen, base = load_generator(a.generator), load_generator(a.generator)
    base.unet.requires_grad_(False)
    base.text_encoder.requires_grad_(False)
    trained = nn.ModuleDict({"unet": gen.unet, "text_encoder": gen.text_encoder})
    ema = copy.deepcopy(trained).requires_grad_(False)
    critic = CaptionCritic(len(gen.tokenizer), gen.tokenizer.pad_token_id, colour_moments=a.colour_moments)
    g_opt = torch.optim.Adam(trained.parameters(), lr=a.lr, betas=(0.0, 0.99))
    c_opt = torch.optim.Adam(critic.parameters(), lr=a.critic_lr, betas=(0.0, 0.99))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(out / "log.jsonl", "w") as log:
        for step in range(1 - a.critic_warmup, a.steps + 1):
            warm = step < 1  # the critic alone, against the shipped generator's pictures
            scenes = sample_scenes(10_000 + 100_000 * a.seed + step - 1, a.batch)
            real = render(scenes)
            ids = gen.tokenize([s.caption for s in scenes])
            wrong = [wrong_caption(s, rng, a.first_phrases, a.band_swaps) for s in scenes]
            has_wrong = torch.tensor([w is not None for w in wrong])
            wrong_ids = gen.tokenize([w or s.caption for w, s in zip(wrong, scenes, strict=True)])
            noise = torch.randn(len(scenes), *gen.make_noise(1, 0).shape[1:])
            n = (1, 2, 4)[(step - 1) % 3]
            with torch.no_grad():
                anchor_images = base.sample(base.embed_tokens(ids), noise, n)
            fake = anchor_images if warm else gen.sample(gen.embed_tokens(ids), noise, n, grad_steps=[n - 1])
            # The critic: hinge loss, renders under their caption real, drawn pictures and mis-captioned
            # renders fake.
            c_real, c_fake = critic(real, ids), critic(fake.detach(), ids)
            c_wrong = critic(real, wrong_ids)[has_wrong]
            c_loss = F.relu(1 - c_real).mean() + F.relu(1 + c_fake).mean()
            if len(c_wrong):
                c_loss = c_loss + a.mismatch * F.relu(1 + c_wrong).mean()
            c_opt.zero_grad(set_to_none=True)
            c_loss.backward()
            c_opt.step()
            if warm:
                if step % 300 == 0:  # how the critic's read of the sky grows
                    done = step + a.critic_warmup
                    reads = critic_reads_sky(critic, gen)["picture-side AUC"]
                    print(f"after {done} warm-up steps, picture-side AUC:", reads, flush=True)
                continue
            adversarial = -critic(fake, ids).mean()
            anchor = (fake - anchor_images).square().mean()
            g_opt.zero_grad(set_to_none=True)
            (adversarial + a.anchor * anchor).backward()
            torch.nn.utils.clip_grad_norm_(trained.parameters(), 1.0)
            g_opt.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), trained.parameters(), strict=True):
                    pe.lerp_(pm, 1 - a.ema)
            record = {
                "step": step,
                "sampling_steps": n,
                "critic_loss": round(float(c_loss.detach()), 4),
                "adversarial": round(float(adversarial.detach()), 4),
                "anchor": round(float(anchor.detach()), 5),
                "critic_real": round(float(c_real.detach().mean()), 3),
                "critic_drawn": round(float(c_fake.detach().mean()), 3),
                "critic_wrong_caption": round(float(c_wrong.detach().mean()), 3) if len(c_wrong) else None,
                "elapsed_s": round(time.perf_counter() - start, 1),
            }
            log.write(json.dumps(record) + "\n")
            log.flush()
            if step % 25 == 0:
                print(record, flush=True)
            if step % 100 == 0 or step == a.steps:
                pipe = copy.deepcopy(gen.pipeline)
                pipe.unet.load_state_dict(ema["unet"].state_dict())
                pipe.text_encoder.load_state_dict(ema["text_encoder"].state_dict())
                pipe.save_pretrained(out / f"step{step}")
    reads = critic_reads_sky(critic, gen)
    (out / "critic_reads_sky.json").write_text(json.dumps(reads, indent=2) + "\n")
    for measure, values in reads.items():
        print(f"the critic's read of the sky, {measure}:")
        for pair, value in values.items():
            print(f"  {pair}: {value:.2f}")


if __name__ == "__main__":
    main()

"""The recipe's questions put to a judge: visual prompts composited differentiably, work shared per image.

`QuestionSet.logprob(images)` returns (B, Q) like the judge contract, but does less work than Q judge calls:
questions that see the same picture (same visual prompt, or none) form one group; every group's view of the
batch goes through the vision tower in one call, and each group's questions run through the language model
as one batch, tokenized once at start-up (no recomputation of constant text). A judge that only offers the
one-line contract still works: one `logprob` call per group. `reference_logprob` is the reference's way
(one full judge pass per question), kept for the benchmark. A question may be asked only of some prompts'
images (the app's `when` and {slot}, `Question.prompts`); `asked(prompts)` says which. Given that mask,
`logprob` computes only the pairs asked (NaN elsewhere): a recipe with a question per slot value asks each
image one of them, so the language model runs one sequence per image instead of one per value; the loss, the
scores and the evaluation leave the NaNs out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import UserError
from ..judges.base import in_own_words, unlearned_answer
from .config import Question

Overlay = Callable[[Tensor], Tensor]
SHARED_API = ("encode_images", "encode_texts", "logprob_from_features")
"""What a judge offers beyond the contract for shared work (EmbeddedJudge does)."""


def load_reference_image(path: Path, where: str) -> Tensor:
    """(3, h, w) float in [0, 1] from a PNG/JPEG; an unreadable file is one `UserError` line after `where`."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError) as e:
        reason = "no such file" if not path.exists() else type(e).__name__
        raise UserError(f"{where}: path: cannot read {path} as an image ({reason})") from None
    return torch.from_numpy(rgb).permute(2, 0, 1).contiguous()


def build_overlay(spec: dict[str, Any] | None, recipe_dir: str | Path | None, where: str) -> Overlay | None:
    """The differentiable image -> image function of one question's visual prompt (None: no prompt); `where`
    names the question in errors."""
    if spec is None:
        return None
    if spec.get("kind") == "image":
        from ..prompts import composite_reference

        raw = spec.get("path")
        if not isinstance(raw, str) or not raw:
            raise UserError(f"{where}: path: expected the path of a PNG or JPEG, relative to the recipe")
        path = Path(raw)
        if not path.is_absolute():
            path = Path(recipe_dir or ".") / path
        reference = load_reference_image(path, where)
        mode = spec.get("mode", "paste")
        if mode not in ("paste", "blend"):
            raise UserError(f"{where}: mode: expected 'paste' or 'blend', got {mode!r}")
        opacity = float(spec.get("opacity", 0.5))
        return lambda images: composite_reference(images, reference.to(images.device), mode, opacity)

    from ..prompts import apply_overlay, parse_overlay

    try:
        parsed = parse_overlay(spec)
    except UserError as e:  # an OverlaySpecError names the field; say which question it belongs to
        raise UserError(f"{where}: {e}") from None
    return lambda images: apply_overlay(images, parsed)


@dataclass
class _Group:
    overlay: Overlay | None
    indices: list[int]
    questions: list[str]
    answers: list[str]
    tokens: tuple[Tensor, ...] | None = None


class QuestionSet:
    """A recipe's questions bound to one judge."""

    def __init__(
        self,
        judge: Any,
        questions: Sequence[Question],
        recipe_dir: str | Path | None = None,
        shared: bool | None = None,
    ):
        self.judge = judge
        self.questions = [q.question for q in questions]
        self.asked_as = [in_own_words(judge, q) for q in self.questions]
        """Each question as the judge reads it: a Scenes judge is asked a Scenes question in its own words."""
        self.answers = [q.answer for q in questions]
        self.weights = [float(q.weight) for q in questions]
        self.asked_of = [set(q.prompts) if q.prompts is not None else None for q in questions]
        self.shared = all(hasattr(judge, a) for a in SHARED_API) if shared is None else shared
        self.overlays: list[Overlay | None] = []
        groups: dict[str, _Group] = {}
        for i, q in enumerate(questions):
            # named by its text: the app expands {slot} questions, so an index would not be the recipe's
            overlay = build_overlay(q.visual_prompt, recipe_dir, f"the visual prompt of {q.question!r}")
            self.overlays.append(overlay)
            key = json.dumps(q.visual_prompt, sort_keys=True)
            group = groups.setdefault(key, _Group(overlay, [], [], []))
            group.indices.append(i)
            group.questions.append(self.asked_as[i])
            group.answers.append(q.answer)
        self.groups = list(groups.values())
        self._check_answers()
        order = [i for g in self.groups for i in g.indices]
        self._inverse = torch.tensor(order).argsort()  # grouped column -> question order
        self._judge_device: torch.device | None = getattr(judge, "device", None)
        if self.shared:
            device = getattr(judge, "device", None)
            for g in self.groups:
                g.tokens = tuple(t.to(device) for t in judge.encode_texts(g.questions, g.answers))

    def __len__(self) -> int:
        return len(self.questions)

    def _check_answers(self) -> None:
        """A wanted answer the judge's tokenizer cannot spell is a user mistake, found before training."""
        tokenizer = getattr(self.judge, "tokenizer", None)
        encode = getattr(self.judge, "encode_texts", None)
        if encode is None:
            return
        unk = getattr(tokenizer, "unk_token_id", None)
        # named by their text, not their index: the app expands a {slot} question into several, so an index
        # here is not the one in the user's recipe
        for question, answer in zip(self.questions, self.answers, strict=True):
            why = unlearned_answer(self.judge, answer)
            if why is not None:
                raise UserError(f"the answer to {question!r} is {answer!r}: {why}")
            try:
                ids, _, target = encode([question], [answer])
            except ValueError as e:
                raise UserError(f"the answer to {question!r}: {e}") from None
            answer_ids = ids[0, 1:][target[0, :-1]]
            if unk is not None and bool((answer_ids == unk).any()):
                raise UserError(
                    f"the answer to {question!r}: the judge's tokenizer cannot encode {answer!r} "
                    "(unknown words); use words it knows, e.g. Yes or No"
                )

    @property
    def conditional(self) -> bool:
        """True when some question is asked only of some prompts' images."""
        return any(a is not None for a in self.asked_of)

    def asked(self, prompts: Sequence[str]) -> Tensor:
        """(P, Q) bool: question q is asked of prompt p's images (one without a prompt list: of all)."""
        return torch.tensor(
            [[a is None or p in a for a in self.asked_of] for p in prompts], dtype=torch.bool
        ).reshape(len(prompts), len(self.asked_of))

    def views(self, images: Tensor) -> list[Tensor]:
        """Each group's view of the batch: the images with that group's visual prompt composited."""
        return [g.overlay(images) if g.overlay is not None else images for g in self.groups]

    def logprob(self, images: Tensor, asked: Tensor | None = None) -> Tensor:
        """(B, Q) log P(answer q | image b with q's visual prompt, question q), sharing work per image.

        `asked` (B, Q) bool: compute only the pairs asked (NaN elsewhere); None: every pair. The views go to
        the judge's device and the answers come back to the images' (one device copy each way,
        differentiable), so a judge may live on a device of its own (`training.judge_device`)."""
        if asked is not None and not bool(asked.all()):
            return self._asked_logprob(images, asked.to("cpu", torch.bool))
        b = images.shape[0]
        views = [v.to(self._judge_device or v.device) for v in self.views(images)]
        if self.shared:
            features = self.judge.encode_images(torch.cat(views))  # one vision pass for every view
            parts = [
                self.judge.logprob_from_features(f, *(g.tokens or ()))
                for f, g in zip(features.split(b), self.groups, strict=True)
            ]
        else:
            parts = [
                self.judge.logprob(v, g.questions, g.answers) for v, g in zip(views, self.groups, strict=True)
            ]
        return torch.cat(parts, dim=1)[:, self._inverse.to(parts[0].device)].to(images.device)

    def _asked_logprob(self, images: Tensor, asked: Tensor) -> Tensor:
        """`logprob` for the asked pairs only: each group's view is drawn for the images asked one of its
        questions (all views still in one vision pass), and images asked the same of a group share one
        language-model batch of just those questions."""
        if not bool(asked.any()):  # e.g. an evaluation chunk of a held-out prompt no question is asked of
            return torch.full((images.shape[0], len(self)), float("nan"), device=images.device)
        needed = [asked[:, g.indices].any(dim=1).nonzero().flatten() for g in self.groups]
        views = [
            (g.overlay(images[rows]) if g.overlay is not None else images[rows]).to(
                self._judge_device or images.device
            )
            for g, rows in zip(self.groups, needed, strict=True)
        ]
        features = (
            self.judge.encode_images(torch.cat(views)).split([len(r) for r in needed])
            if self.shared
            else None
        )
        rows_out: list[Tensor] = []
        cols_out: list[Tensor] = []
        values: list[Tensor] = []
        for k, (g, rows) in enumerate(zip(self.groups, needed, strict=True)):
            for pattern, members in _same_rows(asked[rows][:, g.indices]).items():
                local = [j for j, on in enumerate(pattern) if on]
                if self.shared:
                    assert features is not None and g.tokens is not None
                    tokens = (t[local] for t in g.tokens)
                    part = self.judge.logprob_from_features(features[k][members], *tokens)
                else:
                    qs, ans = [g.questions[j] for j in local], [g.answers[j] for j in local]
                    part = self.judge.logprob(views[k][members], qs, ans)
                rows_out.append(rows[members].repeat_interleave(len(local)))
                cols_out.append(torch.tensor([g.indices[j] for j in local]).repeat(len(members)))
                values.append(part.reshape(-1).to(images.device))
        flat = torch.cat(values)
        out = torch.full((images.shape[0], len(self)), float("nan"), dtype=flat.dtype, device=images.device)
        return out.index_put((torch.cat(rows_out).to(out.device), torch.cat(cols_out).to(out.device)), flat)

    def reference_logprob(self, images: Tensor) -> Tensor:
        """(B, Q) the reference's way: one full judge pass (image encoding included) per question."""
        cols = []
        for q, a, overlay in zip(self.asked_as, self.answers, self.overlays, strict=True):
            view = overlay(images) if overlay is not None else images
            cols.append(self.judge.logprob(view, [q], [a]))
        return torch.cat(cols, dim=1)


def _same_rows(mask: Tensor) -> dict[tuple[bool, ...], Tensor]:
    """The rows of a (R, C) bool mask grouped by their pattern (rows asked nothing left out): pattern ->
    the row indices that have it."""
    groups: dict[tuple[bool, ...], list[int]] = {}
    for i, row in enumerate(mask.tolist()):
        if any(row):
            groups.setdefault(tuple(row), []).append(i)
    return {pattern: torch.tensor(members) for pattern, members in groups.items()}


def averaged_logprob(teachers: Sequence[QuestionSet]) -> Callable[[Tensor, Tensor | None], Tensor]:
    """(images, asked) -> (B, Q): the mean over several judges of each wanted answer's log-probability (a
    recipe's `co_judges` beside its `judge`), each judge asked in its own words. A picture must then satisfy
    every judge, so a texture only one of them mistakes for the control pays less (docs/teach.md)."""

    def logprob(images: Tensor, asked: Tensor | None = None) -> Tensor:
        return torch.stack([t.logprob(images, asked) for t in teachers]).mean(dim=0)

    return logprob

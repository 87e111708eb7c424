"""The embedded judge adapter: a LLaVA-layout model (stock `transformers` classes) behind the judge contract.

`EmbeddedJudge.from_pretrained(path)` loads any folder `AutoModelForImageTextToText.from_pretrained` and
`AutoProcessor.from_pretrained` read, as long as the model has the LLaVA layout (`model.get_image_features`,
`model.language_model`, `lm_head`): the shipped FastVLM Scenes judges, a training run's output, or a LLaVA.
`load_judge(name)` finds a shipped judge by name. `logprob` is the contract (judges/base.py).

Preprocessing is differentiable and follows the saved processor: bilinear resize to the processor's side,
then (x - mean) / std. No per-image min-max stretch (the reference's quirk).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import answer_token_ids, check_inputs, logprob_sharing_images, pad_rows, with_instruction
from .scenes_vlm import IMAGE_TOKEN, PROMPT_TEMPLATE
from .shared_prefix import packable_prefix, packed_logprob


class EmbeddedJudge:
    """A LLaVA-layout VLM (FastVLM, LLaVA) and its processor, scoring wanted answers (judge contract)."""

    def __init__(self, model: Any, processor: Any):
        self.model = model
        self.processor = processor
        self.tokenizer = processor.tokenizer
        config = model.config
        size = processor.image_processor.size
        self.image_size_px = int(size.get("height") or size["shortest_edge"])
        self.image_tokens = int(config.image_seq_length)
        self.image_token_id = int(config.image_token_index)
        image_processor = processor.image_processor
        self._mean = torch.tensor(image_processor.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(image_processor.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self.phrasing_split: str | None = None
        """The Scenes phrasings it was trained on ("train", "heldout" or "all"; its training.json), so that
        it is asked a Scenes question in its own words (`base.in_own_words`); None: not a Scenes judge."""

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu") -> EmbeddedJudge:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        model: Any = AutoModelForImageTextToText.from_pretrained(str(path))
        model = model.to(device)
        model.eval()  # no dropout in these configs; eval() only makes the scores deterministic
        model.requires_grad_(False)  # the judge is frozen; gradients still flow to the images
        judge = cls(model, AutoProcessor.from_pretrained(str(path)))
        judge.phrasing_split = trained_phrasing_split(Path(path))
        return judge

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # -- preprocessing ----------------------------------------------------------------------------------
    def pixel_values(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> the vision tower's normalised input, differentiably."""
        side = self.image_size_px
        x = images.to(device=self.device, dtype=torch.float32)
        if x.shape[-2:] != (side, side):
            # antialias keeps a downscaled thin line (the horizon prompt) visible instead of aliased away
            x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        return (x - self._mean.to(x.device)) / self._std.to(x.device)

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, image_tokens, text_hidden) projected image features, one pass of the vision tower."""
        features = self.model.model.get_image_features(pixel_values=self.pixel_values(images)).pooler_output
        return torch.stack(list(features)) if isinstance(features, list | tuple) else features

    # -- text ---------------------------------------------------------------------------------------------
    def prompt(self, question: str, answer: str) -> str:
        image_tokens = IMAGE_TOKEN * self.image_tokens
        return PROMPT_TEMPLATE.format(image_tokens=image_tokens, question=with_instruction(question, answer))

    def _tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def encode_texts(self, questions: Sequence[str], answers: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Right-padded ids (Q, T), attention mask (Q, T), and a mask (Q, T) of positions predicting answers.

        target_mask[q, t] is True when the logits at t predict answer token t + 1.
        """
        rows: list[tuple[list[int], int]] = []
        for question, answer in zip(questions, answers, strict=True):
            rows.append(answer_token_ids(self._tokenize, self.prompt(question, answer), " " + answer.strip()))
        return pad_rows(rows, int(self.tokenizer.pad_token_id))

    # -- the contract ------------------------------------------------------------------------------------
    def logprob(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(B, Q) summed log-probabilities of each wanted answer's tokens, differentiable in `images`.

        Each image goes through the vision tower once; its Q questions then run through the language model
        as one batch of B * Q sequences.
        """
        return logprob_sharing_images(self, images, questions, answers)

    def logprob_from_features(
        self, features: Tensor, ids: Tensor, attention: Tensor, target: Tensor
    ) -> Tensor:
        """(B, Q) from image features (B, N, D) and tokenized questions (Q, T), all pairs."""
        b, q = features.shape[0], ids.shape[0]
        gather = self._image_positions(ids, features.shape[1])
        image_part = features[:, gather]  # (B, Q, T, D): image b's features at every question's image slots
        text = self.model.get_input_embeddings()(ids).unsqueeze(0).expand(b, q, -1, -1)
        embeds = torch.where((ids == self.image_token_id)[None, :, :, None], image_part, text)
        t = ids.shape[1]
        language_model = self.model.model.language_model
        prefix, fmt = packable_prefix(language_model, (ids, attention, target))
        if fmt is not None:  # the image once, then each question's tail (shared_prefix.py)
            positions = torch.arange(t, device=ids.device).expand(q, t)
            tokens = (ids, attention, target)
            return packed_logprob(language_model, self.model.lm_head, embeds, positions, tokens, prefix, fmt)
        return self._answer_logprob(
            embeds.reshape(b * q, t, -1), ids.repeat(b, 1), attention.repeat(b, 1), target.repeat(b, 1)
        ).view(b, q)

    def logprob_pairs(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(N,) log P(answer i | image i, question i): one question per image, as training batches come."""
        check_inputs(images, questions, answers)
        if images.shape[0] != len(questions):
            raise ValueError(f"images: {images.shape[0]} images for {len(questions)} questions")
        features = self.encode_images(images)
        ids, attention, target = (t.to(self.device) for t in self.encode_texts(questions, answers))
        gather = self._image_positions(ids, features.shape[1])
        image_part = features[torch.arange(len(questions), device=ids.device)[:, None], gather]  # (N, T, D)
        text = self.model.get_input_embeddings()(ids)
        embeds = torch.where((ids == self.image_token_id)[:, :, None], image_part, text)
        return self._answer_logprob(embeds, ids, attention, target)

    def _image_positions(self, ids: Tensor, n_features: int) -> Tensor:
        """(Q, T): for each image-token slot, the index of the image feature it takes (0 elsewhere)."""
        is_image = ids == self.image_token_id
        counts = is_image.sum(dim=1)
        if bool((counts != n_features).any()):
            raise ValueError(f"the prompts hold {counts.tolist()} image tokens; the images give {n_features}")
        return (torch.cumsum(is_image.long(), dim=1) - 1).clamp(min=0)

    def _answer_logprob(self, embeds: Tensor, ids: Tensor, attention: Tensor, target: Tensor) -> Tensor:
        """(N,) summed log-probabilities of the target tokens of N sequences of embeddings."""
        hidden = self.model.model.language_model(
            inputs_embeds=embeds, attention_mask=attention
        ).last_hidden_state
        # logits only where an answer token is predicted: the full-vocabulary softmax is still exact there
        rows, cols = target.nonzero(as_tuple=True)
        logits = self.model.lm_head(hidden[rows, cols]).float()
        token_logprob = torch.log_softmax(logits, dim=-1).gather(1, ids[rows, cols + 1][:, None]).squeeze(1)
        out = torch.zeros(ids.shape[0], dtype=token_logprob.dtype, device=token_logprob.device)
        return out.index_add(0, rows, token_logprob)


def trained_phrasing_split(folder: Path) -> str | None:
    """The phrasing split a judge folder's training.json records (`train_judge`), or None."""
    try:
        config = json.loads((folder / "training.json").read_text()).get("config", {})
    except (OSError, ValueError, AttributeError):
        return None
    split = config.get("phrasing_split") if isinstance(config, dict) else None
    return split if isinstance(split, str) else None


def load_judge(name: str = "scenes-judge", device: str | torch.device = "cpu") -> EmbeddedJudge:
    """A judge shipped with the engine (`weights/<name>/`), or a folder path; one-line error when absent."""
    from ..errors import ModelMissingError
    from ..local_models import embedded_weights_dir

    folder = Path(name) if ("/" in name or Path(name).is_dir()) else embedded_weights_dir(name)
    if not (folder / "config.json").is_file():
        raise ModelMissingError(
            f"judge {name!r}: no weights at {folder}; train them with "
            f"`dualproc world train-judge --out DIR` and pass DIR as the judge, or reinstall the engine"
        )
    return EmbeddedJudge.from_pretrained(folder, device=device)

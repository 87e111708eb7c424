"""Qwen2.5-VL (and Qwen2-VL) behind the judge contract.

These models differ from the LLaVA layout in three ways, each reproduced here as the stock code does it:
- the pixels: each image is resized to its "smart resize" size (both sides a multiple of patch_size *
  merge_size, the area within the processor's min/max pixels, the aspect ratio kept), bicubic as PIL does,
  normalised with the processor's mean/std, then cut into a flat sequence of patches: one row per
  patch_size^2 patch, rows ordered in merge_size x merge_size blocks, each row holding the patch repeated
  `temporal_patch_size` times (a still image is a one-frame video), together with `image_grid_thw`;
- the number of image tokens depends on the image size (one per merged block), so the prompt is tokenized
  with one `<|image_pad|>` that is widened to the image's token count when the image is known;
- the language model uses 3-D rotary positions (M-RoPE): text tokens count up on all three axes, image
  tokens take (start, start + row, start + column), and the text after an image resumes at start +
  max(rows, columns).

Image features keep their grid, (B, rows, columns, D), so that the text can be given positions without
knowing the image size at tokenization time (teach tokenizes its questions once, before any image).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import answer_token_ids, check_inputs, logprob_sharing_images, with_instruction
from .loading import load_frozen
from .shared_prefix import packable_prefix, packed_logprob

MODEL_TYPES = ("qwen2_5_vl", "qwen2_vl")
"""config.json model types this adapter loads."""
IMAGE_PAD = "<|image_pad|>"


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """The size Qwen's processor resizes an image to: sides multiples of `factor`, area in the bounds."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"images: aspect ratio {height}x{width} is beyond the 200:1 Qwen's processor takes")
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        shrink = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / shrink / factor) * factor)
        w = max(factor, math.floor(width / shrink / factor) * factor)
    elif h * w < min_pixels:
        grow = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * grow / factor) * factor, math.ceil(width * grow / factor) * factor
    return h, w


def _pixel_bounds(image_processor: Any) -> tuple[int, int]:
    """(min_pixels, max_pixels): `size` holds them in transformers 5 (shortest/longest edge); older saves
    name them min_pixels / max_pixels."""
    size = image_processor.size
    get = size.get if isinstance(size, dict) else lambda k: getattr(size, k, None)
    low = get("shortest_edge") or get("min_pixels") or getattr(image_processor, "min_pixels", None)
    high = get("longest_edge") or get("max_pixels") or getattr(image_processor, "max_pixels", None)
    if low is None or high is None:
        raise ValueError(f"the image processor's size {size} gives no min/max pixels")
    return int(low), int(high)


class Qwen2VLJudge:
    """A Qwen2.5-VL / Qwen2-VL model, its tokenizer, image processor and chat template (judge contract)."""

    def __init__(self, model: Any, tokenizer: Any, image_processor: Any, chat_template: str | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = chat_template or getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise ValueError(
                "no chat template in the folder (chat_template.jinja or .json, or the tokenizer's)"
            )
        self.patch_size = int(image_processor.patch_size)
        self.merge_size = int(image_processor.merge_size)
        self.temporal_patch_size = int(image_processor.temporal_patch_size)
        self.min_pixels, self.max_pixels = _pixel_bounds(image_processor)
        self._mean = torch.tensor(image_processor.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(image_processor.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self.image_token_id = int(model.config.image_token_id)
        if tokenizer.convert_tokens_to_ids(IMAGE_PAD) != self.image_token_id:
            raise ValueError(f"the tokenizer's {IMAGE_PAD} is not the model's image token")

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Qwen2VLJudge:
        from transformers import AutoImageProcessor, AutoTokenizer

        folder = Path(path)
        model = load_frozen(_model_class(folder), folder, device, quantization)
        # the parts, not AutoProcessor: the processor also builds a video processor, which needs torchvision
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        image_processor = AutoImageProcessor.from_pretrained(str(folder))
        return cls(model, tokenizer, image_processor, _read_chat_template(folder))

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def _vision_dtype(self) -> torch.dtype:
        return next(self.model.model.visual.parameters()).dtype

    # -- preprocessing ----------------------------------------------------------------------------------
    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        factor = self.patch_size * self.merge_size
        return smart_resize(height, width, factor, self.min_pixels, self.max_pixels)

    def normalised(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> resized to the smart-resize size and normalised, differentiably."""
        x = images.to(device=self.device, dtype=torch.float32)
        size = self.resized_size(*x.shape[-2:])
        if size != tuple(x.shape[-2:]):
            # antialias=True is torch's PIL-style bicubic (a = -0.5, widened support when shrinking); the
            # clamp matches the stock processors, which resize 8-bit images and so cannot overshoot
            x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        return (x - self._mean.to(x.device)) / self._std.to(x.device)

    def patchify(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Normalised (B, C, H, W) -> (patches (B * gh * gw, C * t * p * p), image_grid_thw (B, 3)).

        Rows run over merge-size blocks in raster order, then over the patches inside a block, as the
        vision tower's patch merger expects; each row is (channel, time, y, x)-major.
        """
        b, c, h, w = x.shape
        p, m, t = self.patch_size, self.merge_size, self.temporal_patch_size
        gh, gw = h // p, w // p
        x = x.reshape(b, c, gh // m, m, p, gw // m, m, p)
        # -> (b, block row, block col, row in block, column in block, c, y, x)
        x = x.permute(0, 2, 5, 3, 6, 1, 4, 7)
        x = x.unsqueeze(6).expand(*x.shape[:6], t, p, p)  # the still image repeated over the time axis
        grid = torch.tensor([[1, gh, gw]] * b, dtype=torch.long, device=x.device)
        return x.reshape(b * gh * gw, c * t * p * p), grid

    def pixel_values(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 3, H, W) in [0, 1] -> (pixel_values, image_grid_thw) as the stock processor gives them."""
        patches, grid = self.patchify(self.normalised(images))
        return patches.to(self._vision_dtype), grid

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, rows, columns, D) image features in the language model's space, one vision-tower pass."""
        pixels, grid = self.pixel_values(images)
        # one (tokens, D) tensor per image, the tokens in raster order over the merged grid
        features = self.model.model.get_image_features(pixel_values=pixels, image_grid_thw=grid).pooler_output
        rows, cols = int(grid[0, 1]) // self.merge_size, int(grid[0, 2]) // self.merge_size
        return torch.stack(list(features)).view(images.shape[0], rows, cols, -1)

    # -- text ---------------------------------------------------------------------------------------------
    def prompt(self, question: str, answer: str) -> str:
        """The chat template's text for one question, with one image pad (widened later to the image)."""
        chat = [
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": with_instruction(question, answer)}],
            }
        ]
        text = self.tokenizer.apply_chat_template(
            chat, chat_template=self.chat_template, add_generation_prompt=True, tokenize=False
        )
        return str(text)

    def _tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_texts(self, questions: Sequence[str], answers: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Right-padded ids (Q, T) with one image pad each, attention mask (Q, T), answer-predicting mask.

        target[q, t] is True when the logits at t predict answer token t + 1. The answer follows the
        assistant turn's newline directly ("...assistant\\nYes"), which is how these models write it.
        """
        rows = [
            answer_token_ids(self._tokenize, self.prompt(q, a), a.strip())
            for q, a in zip(questions, answers, strict=True)
        ]
        length = max(len(ids) for ids, _ in rows)
        pad = self.tokenizer.pad_token_id
        pad = self.tokenizer.eos_token_id if pad is None else pad  # any id: padding sits after the answer
        ids = torch.full((len(rows), length), int(pad), dtype=torch.long)
        attention = torch.zeros((len(rows), length), dtype=torch.long)
        target = torch.zeros((len(rows), length), dtype=torch.bool)
        for q, (row, start) in enumerate(rows):
            ids[q, : len(row)] = torch.tensor(row)
            attention[q, : len(row)] = 1
            target[q, start - 1 : len(row) - 1] = True
        return ids, attention, target

    def widen_image_pad(
        self, ids: Tensor, attention: Tensor, target: Tensor, n_tokens: int
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Each row's single image pad repeated `n_tokens` times, as the processor expands it.

        Returns the widened (ids, attention, target) and `slot` (Q, T'): the image token index at each
        image position (-1 elsewhere).
        """
        is_pad = ids == self.image_token_id
        if bool((is_pad.sum(dim=1) != 1).any()):
            raise ValueError("each prompt must hold exactly one image pad before widening")
        start = is_pad.long().argmax(dim=1, keepdim=True)  # (Q, 1)
        k = torch.arange(ids.shape[1] + n_tokens - 1, device=ids.device)[None]
        in_image = (k >= start) & (k < start + n_tokens)
        source = torch.where(k < start, k, torch.where(in_image, start, k - n_tokens + 1))
        slot = torch.where(in_image, k - start, torch.full_like(k, -1))
        return ids.gather(1, source), attention.gather(1, source), target.gather(1, source), slot

    def positions(self, slot: Tensor, rows: int, cols: int) -> Tensor:
        """(3, Q, T) M-RoPE positions (time, row, column) of prompts whose image tokens are `slot` >= 0."""
        in_image = slot >= 0
        k = torch.arange(slot.shape[1], device=slot.device)[None].expand_as(slot)
        start = torch.where(in_image, k, torch.full_like(k, slot.shape[1])).min(dim=1, keepdim=True).values
        n_tokens = rows * cols
        # after the image, text resumes at start + max(rows, cols), not at start + rows * cols
        text = torch.where(k < start, k, k - n_tokens + max(rows, cols))
        s = slot.clamp(min=0)
        time = torch.where(in_image, start.expand_as(k), text)
        row = torch.where(in_image, start + s // cols, text)
        col = torch.where(in_image, start + s % cols, text)
        return torch.stack([time, row, col])

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
        """(B, Q) from image features (B, rows, cols, D) and `encode_texts`'s tensors (Q, T), all pairs."""
        b, rows, cols, d = features.shape
        q = ids.shape[0]
        ids, attention, target, slot = self.widen_image_pad(ids, attention, target, rows * cols)
        t = ids.shape[1]
        image_part = features.reshape(b, rows * cols, d)[:, slot.clamp(min=0)]  # (B, Q, T, D)
        text = self.model.get_input_embeddings()(ids).unsqueeze(0).expand(b, q, t, -1)
        embeds = torch.where((slot >= 0)[None, :, :, None], image_part.to(text.dtype), text)
        positions = self.positions(slot, rows, cols)  # (3, Q, T)
        language_model = self.model.model.language_model
        prefix, fmt = packable_prefix(language_model, (ids, attention, target))
        if fmt is not None:  # the system turn and the image once, then each question's tail
            tokens = (ids, attention, target)
            return packed_logprob(language_model, self.model.lm_head, embeds, positions, tokens, prefix, fmt)
        return self._answer_logprob(
            embeds.reshape(b * q, t, d),
            positions.repeat(1, b, 1),  # (3, B * Q, T), image-major
            ids.repeat(b, 1),
            attention.repeat(b, 1),
            target.repeat(b, 1),
        ).view(b, q)

    def logprob_pairs(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(N,) log P(answer i | image i, question i): one question per image."""
        check_inputs(images, questions, answers)
        if images.shape[0] != len(questions):
            raise ValueError(f"images: {images.shape[0]} images for {len(questions)} questions")
        features = self.encode_images(images)
        scores = []
        for f, q, a in zip(features, questions, answers, strict=True):
            tokens = (t.to(self.device) for t in self.encode_texts([q], [a]))
            scores.append(self.logprob_from_features(f[None], *tokens)[0, 0])
        return torch.stack(scores)

    def _answer_logprob(
        self, embeds: Tensor, positions: Tensor, ids: Tensor, attention: Tensor, target: Tensor
    ) -> Tensor:
        """(N,) summed log-probabilities of the target tokens of N sequences of embeddings."""
        hidden = self.model.model.language_model(
            inputs_embeds=embeds, attention_mask=attention, position_ids=positions
        ).last_hidden_state
        # logits only where an answer token is predicted: the full-vocabulary softmax is still exact there
        rows, cols = target.nonzero(as_tuple=True)
        logits = self.model.lm_head(hidden[rows, cols]).float()
        token_logprob = torch.log_softmax(logits, dim=-1).gather(1, ids[rows, cols + 1][:, None]).squeeze(1)
        out = torch.zeros(ids.shape[0], dtype=token_logprob.dtype, device=token_logprob.device)
        return out.index_add(0, rows, token_logprob)


def _model_class(folder: Path) -> Any:
    model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    if model_type == "qwen2_5_vl":
        from transformers import Qwen2_5_VLForConditionalGeneration

        return Qwen2_5_VLForConditionalGeneration
    if model_type == "qwen2_vl":
        from transformers import Qwen2VLForConditionalGeneration

        return Qwen2VLForConditionalGeneration
    raise ValueError(f"config.json: model_type {model_type!r} is not one of {', '.join(MODEL_TYPES)}")


def _read_chat_template(folder: Path) -> str | None:
    """The processor's chat template as the Hugging Face repos ship it (.jinja, or .json with one key);
    None leaves the tokenizer's own."""
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    as_json = folder / "chat_template.json"
    if as_json.is_file():
        template = json.loads(as_json.read_text()).get("chat_template")
        return str(template) if template else None
    return None

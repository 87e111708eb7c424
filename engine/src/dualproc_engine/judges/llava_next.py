"""LLaVA-NeXT (the llava-hf/llava-v1.6-* checkpoints) behind the judge contract.

A CLIP tower, a projector and a Mistral / Vicuna language model, as LLaVA-1.5, but with "anyres" images: the
number of image tokens depends on the image's size. What the stock `LlavaNextProcessor` does, reproduced here
differentiably for any image size (all images of one batch share a size, as a generator's do):
- the grid: the processor's `image_grid_pinpoints` resolution that keeps the most of the image and wastes the
  least (transformers' `select_best_resolution`, e.g. 672 x 672 for a square image);
- the tiles: the image resized into that resolution with its aspect ratio kept (the long side fills it, the
  other side rounded up), zero-padded (black, before normalising) equally on both sides of the short one,
  and cut into `crop_size` tiles in raster order; before them the whole image squashed to the tower's
  square size, the "base" tile. Each tile then goes through the processor's own resize (shortest edge) and
  centre crop, which leave tiles of the tower's size unchanged, and (x - mean) / std. Resizes use PIL's
  filter (bicubic in the released repos), reproduced exactly as weights (`judges/idefics3.py`);
- the features: the stock model's own `get_image_features` (differentiable once given tensors): the base
  tile's tokens, then the grid's tokens with the padding's rows or columns cut away again, each row ended
  by the `image_newline` embedding;
- the prompt: the processor's chat template (for v1.6-mistral "[INST] <image>\\n{question} [/INST]", the
  answer after a space), with <bos> from the tokenizer, and the one `<image>` widened to the image's token
  count once the image is known (teach tokenizes its questions once, before any image), as the processor
  expands it. Attention is causal throughout.

A 512 x 512 generator image on the released 336 px tower becomes 5 tiles (a 2 x 2 grid at 672 px and the
base): 576 + 48 x 48 + 48 = 2928 image tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import check_inputs
from .gemma3 import Gemma3Judge
from .idefics3 import PIL_FILTERS, pil_resize
from .loading import load_frozen

MODEL_TYPES = ("llava_next",)
"""config.json model types this adapter loads."""


def fitted_size(height: int, width: int, target: tuple[int, int]) -> tuple[int, int]:
    """The processor's size of an image resized into `target` (height, width) with its aspect kept: the
    side that limits the scale fills the target, the other is scaled and rounded up."""
    target_h, target_w = target
    scale_w, scale_h = target_w / width, target_h / height
    if scale_w < scale_h:
        return min(math.ceil(height * scale_w), target_h), target_w
    return target_h, min(math.ceil(width * scale_h), target_w)


def split_padding(have: int, want: int) -> tuple[int, int]:
    """(before, after) zero padding from `have` to `want` pixels, the odd one after, as the processor pads."""
    before, odd = divmod(want - have, 2)
    return before, before + odd


def tiles(x: Tensor, tile: tuple[int, int]) -> Tensor:
    """(B, C, H, W) -> (B, rows * columns, C, tile_h, tile_w), tiles in raster order."""
    b, c, h, w = x.shape
    th, tw = tile
    if h % th or w % tw:
        raise ValueError(f"the grid resolution {h}x{w} is not a whole number of {th}x{tw} tiles")
    x = x.reshape(b, c, h // th, th, w // tw, tw).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // th) * (w // tw), c, th, tw)


def widen_image_token(
    ids: Tensor, attention: Tensor, target: Tensor, image_token_id: int, n_tokens: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Each row's single image token repeated `n_tokens` times (the rest shifted right), as the processor
    expands `<image>` once it knows the image's size."""
    is_image = ids == image_token_id
    if bool((is_image.sum(dim=1) != 1).any()):
        raise ValueError("each prompt must hold exactly one image token before widening")
    start = is_image.long().argmax(dim=1, keepdim=True)  # (Q, 1)
    k = torch.arange(ids.shape[1] + n_tokens - 1, device=ids.device)[None]
    # position k of the widened row reads position `source` of the row: before, inside, after the image
    source = torch.where(k < start, k, torch.where(k < start + n_tokens, start, k - n_tokens + 1))
    return ids.gather(1, source), attention.gather(1, source), target.gather(1, source)


class LlavaNextJudge(Gemma3Judge):
    """A LLaVA-NeXT model, its tokenizer, image processor and chat template (judge contract); the one image
    token of each prompt is widened to the image's token count when the image is known."""

    def _read_resizing(self, image_processor: Any) -> None:
        """The base tile's size, the tiles' processing (shortest edge, centre crop), the grid resolutions."""
        size, crop = image_processor.size, image_processor.crop_size
        edge = size.get("shortest_edge")
        self.size = (int(edge), int(edge)) if edge else (int(size["height"]), int(size["width"]))
        self.shortest_edge = int(edge) if edge else None
        self.crop = (int(crop["height"]), int(crop["width"]))
        self.do_center_crop = bool(getattr(image_processor, "do_center_crop", True))
        self.pinpoints = [(int(h), int(w)) for h, w in image_processor.image_grid_pinpoints]
        resample = getattr(image_processor, "resample", None)
        self.resample = 3 if resample is None else int(resample)  # unset: the processor's bicubic default
        if self.resample not in PIL_FILTERS:
            raise ValueError(f"the image processor resamples with PIL filter {self.resample}; not reproduced")

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Any:
        from transformers import AutoProcessor, LlavaNextForConditionalGeneration

        processor = AutoProcessor.from_pretrained(str(path))
        model = load_frozen(LlavaNextForConditionalGeneration, Path(path), device, quantization)
        parts = (processor.tokenizer, processor.image_processor, processor.chat_template)
        image_token = str(processor.image_token)
        # the template's <image> stays one token until the image's size is known
        return cls(model, *parts, image_placeholder=image_token, image_sequence=image_token)

    # -- preprocessing ----------------------------------------------------------------------------------
    def grid_resolution(self, height: int, width: int) -> tuple[int, int]:
        """The pinpoint resolution the processor picks for an image of this size."""
        from transformers.image_processing_utils import select_best_resolution

        return tuple(select_best_resolution((height, width), self.pinpoints))  # type: ignore[return-value]

    def _tile_processing(self, x: Tensor) -> Tensor:
        """The processor's per-tile resize (shortest edge) and centre crop; (N, C, h, w) -> (N, C, crop)."""
        h, w = x.shape[-2:]
        if self.shortest_edge is not None and min(h, w) != self.shortest_edge:
            short, long = self.shortest_edge, int(self.shortest_edge * max(h, w) / min(h, w))
            x = pil_resize(x, (short, long) if h <= w else (long, short), self.resample)
        elif self.shortest_edge is None:
            x = pil_resize(x, self.size, self.resample)
        if self.do_center_crop:
            h, w = x.shape[-2:]
            top, left = (h - self.crop[0]) // 2, (w - self.crop[1]) // 2
            x = x[..., top : top + self.crop[0], left : left + self.crop[1]]
        return x

    # the tiles come with their image sizes, as the stock processor returns them (Gemma 3's is one tensor)
    def pixel_values(self, images: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """(B, 3, H, W) in [0, 1] -> (pixel_values (B, 1 + tiles, 3, crop_h, crop_w), image_sizes (B, 2)) as
        the stock processor gives them, differentiably."""
        x = images.to(device=self.device, dtype=torch.float32)
        b, _, height, width = x.shape
        grid = self.grid_resolution(int(height), int(width))
        fitted = fitted_size(int(height), int(width), grid)
        top, bottom = split_padding(fitted[0], grid[0])
        left, right = split_padding(fitted[1], grid[1])
        padded = torch.nn.functional.pad(pil_resize(x, fitted, self.resample), (left, right, top, bottom))
        base = pil_resize(x, self.size, self.resample)[:, None]
        parts = torch.cat([base, tiles(padded, self.crop)], dim=1)  # (B, 1 + tiles, 3, crop_h, crop_w)
        n = parts.shape[1]
        parts = self._tile_processing(parts.flatten(0, 1)).unflatten(0, (b, n))
        parts = (parts - self._mean[:, None].to(x.device)) / self._std[:, None].to(x.device)
        sizes = torch.tensor([[int(height), int(width)]] * b, dtype=torch.long, device=x.device)
        return parts.to(self._vision_dtype), sizes

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, image tokens, D) image features in the language model's space (base tile, then the unpadded
        grid with a newline per row), one vision-tower pass; the stock model's own packing."""
        pixels, sizes = self.pixel_values(images)
        features = self.model.model.get_image_features(pixel_values=pixels, image_sizes=sizes).pooler_output
        return torch.stack(list(features))

    # -- the contract ------------------------------------------------------------------------------------
    def logprob_from_features(
        self, features: Tensor, ids: Tensor, attention: Tensor, target: Tensor
    ) -> Tensor:
        """(B, Q) from image features (B, N, D) and `encode_texts`'s tensors (Q, T), all pairs."""
        widened = widen_image_token(ids, attention, target, self.image_token_id, features.shape[1])
        return super().logprob_from_features(features, *widened)

    def logprob_pairs(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(N,) log P(answer i | image i, question i): one question per image."""
        check_inputs(images, questions, answers)
        if images.shape[0] != len(questions):
            raise ValueError(f"images: {images.shape[0]} images for {len(questions)} questions")
        features = self.encode_images(images)
        ids, attention, target = (t.to(self.device) for t in self.encode_texts(questions, answers))
        widened = widen_image_token(ids, attention, target, self.image_token_id, features.shape[1])
        return self._answer_logprob(self._embed(features, widened[0]), *widened)

    image_attends_both_ways = False

    def _packing_decoder(self) -> Any:
        return self.model.model.language_model

    def _hidden(self, embeds: Tensor, ids: Tensor, attention: Tensor) -> Tensor:
        out = self.model.model.language_model(inputs_embeds=embeds, attention_mask=attention, use_cache=False)
        return out.last_hidden_state

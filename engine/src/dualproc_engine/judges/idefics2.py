"""Idefics2 (the HuggingFaceM4/idefics2-8b checkpoints) behind the judge contract.

Idefics2 is a SigLIP tower that takes images at their own aspect ratio (NaViT-style position buckets and a
patch mask), a perceiver resampler that turns any number of patches into a fixed number of latents (64 in the
released model), and a Mistral language model. What the stock processor does, reproduced here
differentiably:
- the pixels (`Idefics2ImageProcessor`, its PIL backend): the image shrunk only when its longest side is
  above `size["longest_edge"]` (980 px; the aspect ratio kept, the short side truncated), then each side
  raised to at least `size["shortest_edge"]` (378 px; this one does not keep the aspect ratio), with PIL's
  filter (bilinear as released, reproduced exactly as weights, clipped to [0, 1] as PIL's 8-bit images
  are); then (x - mean) / std; then every image of the batch padded with zeros at the bottom and right to
  the largest one, with a `pixel_attention_mask` saying which pixels are real. A generator's batch has one
  size, so only the processor's `do_image_splitting=True` pads here: each image is then cut into its four
  quarters (the lower and right ones a pixel larger for odd sides) followed by the whole image, five
  sub-images resized and padded to a common size. Both settings are supported and the folder's decides:
  the released idefics2-8b turns splitting on (5 x 64 = 320 image tokens; a 512 px image becomes four
  quarters grown to 378 px, padded to 512 px, and itself), idefics2-8b-base leaves it off (64 tokens);
- the prompt: the processor's chat template ("User:<image>{question}<end_of_utterance>\\nAssistant:"),
  whose `<image>` the processor replaces with `<fake_token_around_image>`, `image_seq_len` image tokens and
  `<fake_token_around_image>` (five times over with splitting, adjacent fake tokens merged into one), then
  puts a space after a closing fake token that touches a word; the tokenizer adds `<s>`. The answer follows
  "Assistant:" after a space, as the template writes the model's turn.

The tower, connector and resampler are called directly (not `get_image_features`, which drops any image
whose normalised pixels are all exactly 0, a flat mid-grey image included, taking it for batch padding).
The text side (image tokens expanded in the prompt, features scattered into their slots, teacher-forced
answer scores) is Gemma 3's (`judges/gemma3.py`); attention is causal throughout, as in the stock model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .gemma3 import Gemma3Judge
from .idefics3 import PIL_FILTERS, pil_resize
from .loading import load_frozen

MODEL_TYPES = ("idefics2",)
"""config.json model types this adapter loads."""
SPLIT_IMAGES = 5
"""Sub-images per image with `do_image_splitting`: four quarters, then the whole image."""


def resize_size(height: int, width: int, size: dict[str, int]) -> tuple[int, int]:
    """The (height, width) the processor resizes an image to: with `shortest_edge` and `longest_edge`, the
    longest side shrunk to `longest_edge` when above it (aspect kept, truncated), then each side raised to
    `shortest_edge`; with `height` and `width`, those."""
    if size.get("shortest_edge") and size.get("longest_edge"):
        shortest, longest = int(size["shortest_edge"]), int(size["longest_edge"])
        aspect = width / height
        if width >= height and width > longest:
            width, height = longest, int(longest / aspect)
        elif height > width and height > longest:
            height, width = longest, int(longest * aspect)
        return max(height, shortest), max(width, shortest)
    if size.get("height") and size.get("width"):
        return int(size["height"]), int(size["width"])
    raise ValueError(
        f"image processor size {size}: expected shortest_edge and longest_edge, or height, width"
    )


def split_image(x: Tensor) -> list[Tensor]:
    """The processor's split of (B, 3, H, W): the four quarters (top-left, top-right, bottom-left,
    bottom-right; the halves cut at H // 2 and W // 2), then the whole image."""
    mid_h, mid_w = x.shape[-2] // 2, x.shape[-1] // 2
    quarters = [
        x[..., :mid_h, :mid_w],
        x[..., :mid_h, mid_w:],
        x[..., mid_h:, :mid_w],
        x[..., mid_h:, mid_w:],
    ]
    return [*quarters, x]


def pad_to(parts: list[Tensor], size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Sub-images (each (B, 3, h, w)) zero-padded at the bottom and right to `size`, stacked as
    (B, N, 3, H, W), with the (B, N, H, W) mask of their real pixels (1) and padding (0)."""
    padded, masks = [], []
    for part in parts:
        h, w = part.shape[-2:]
        padded.append(F.pad(part, (0, size[1] - w, 0, size[0] - h)))
        mask = torch.zeros((part.shape[0], *size), dtype=torch.long, device=part.device)
        mask[:, :h, :w] = 1
        masks.append(mask)
    return torch.stack(padded, dim=1), torch.stack(masks, dim=1)


def patch_mask(pixel_mask: Tensor, patch_size: int) -> Tensor:
    """(N, H // p, W // p): True where a patch's pixels are all real, as the stock model derives it (the
    pixels past the last whole patch are ignored, as the tower's strided convolution ignores them)."""
    n, height, width = pixel_mask.shape
    rows, cols = height // patch_size, width // patch_size
    blocks = pixel_mask[:, : rows * patch_size, : cols * patch_size]
    blocks = blocks.reshape(n, rows, patch_size, cols, patch_size)
    return blocks.sum(dim=(2, 4)) == patch_size * patch_size


def image_sequence(fake_token: str, image_token: str, image_seq_len: int, splitting: bool) -> str:
    """What the processor puts in place of `<image>` (before merging adjacent fake tokens)."""
    one = fake_token + image_token * image_seq_len + fake_token
    return one * SPLIT_IMAGES if splitting else one


def processor_spacing(text: str, fake_token: str) -> str:
    """The processor's two touches after expanding the image: adjacent fake tokens merged into one, and a
    space after a fake token that touches a word (not whitespace, not another special token's `<`)."""
    text = text.replace(fake_token + fake_token, fake_token)
    return re.sub(rf"{re.escape(fake_token)}(?=[^\s<])", fake_token + " ", text)


class Idefics2Judge(Gemma3Judge):
    """An Idefics2 model, its tokenizer, image processor and chat template (judge contract)."""

    def __init__(self, *args: Any, fake_token: str = "<fake_token_around_image>", **kwargs: Any):
        self.fake_token = fake_token
        super().__init__(*args, **kwargs)

    def _read_resizing(self, image_processor: Any) -> None:
        """The processor's size rule, PIL filter and splitting setting."""
        self.resize_rule = {k: int(v) for k, v in dict(image_processor.size).items() if v is not None}
        resample = getattr(image_processor, "resample", None)
        self.resample = 2 if resample is None else int(resample)  # unset: the processor's bilinear default
        if self.resample not in PIL_FILTERS:
            raise ValueError(f"the image processor resamples with PIL filter {self.resample}; not reproduced")
        self.splitting = bool(getattr(image_processor, "do_image_splitting", False))

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Any:
        from transformers import AutoProcessor, Idefics2ForConditionalGeneration

        processor = AutoProcessor.from_pretrained(str(path))
        model = load_frozen(Idefics2ForConditionalGeneration, Path(path), device, quantization)
        image_processor = processor.image_processor
        fake, image = str(processor.fake_image_token), str(processor.image_token)
        splitting = bool(getattr(image_processor, "do_image_splitting", False))
        sequence = image_sequence(fake, image, int(processor.image_seq_len), splitting)
        parts = (processor.tokenizer, image_processor, processor.chat_template)
        return cls(model, *parts, image, sequence, fake_token=fake)

    @property
    def _vision_dtype(self) -> torch.dtype:
        return next(self.model.model.vision_model.parameters()).dtype

    # -- preprocessing ----------------------------------------------------------------------------------
    def preprocess(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 3, H, W) in [0, 1] -> the processor's (B, N, 3, H', W') normalised, padded pixel_values and
        (B, N, H', W') pixel_attention_mask, differentiably (N = 1, or 5 with splitting)."""
        x = images.to(device=self.device, dtype=torch.float32)
        parts = split_image(x) if self.splitting else [x]
        resized = []
        for part in parts:
            size = resize_size(int(part.shape[-2]), int(part.shape[-1]), self.resize_rule)
            part = pil_resize(part, size, self.resample)
            resized.append((part - self._mean.to(x.device)) / self._std.to(x.device))
        largest = (max(p.shape[-2] for p in resized), max(p.shape[-1] for p in resized))
        pixels, mask = pad_to(resized, largest)
        return pixels.to(self._vision_dtype), mask

    def pixel_values(self, images: Tensor) -> Tensor:
        """The processor's pixel_values alone (`preprocess` gives the mask too)."""
        return self.preprocess(images)[0]

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, N * image_seq_len, D) image features in the language model's space: every sub-image through
        the tower (patches masked where padded) and the resampler, in the processor's order."""
        inner = self.model.model
        pixels, mask = self.preprocess(images)
        b, n = pixels.shape[:2]
        pixels, mask = pixels.flatten(0, 1), mask.flatten(0, 1)
        patches = patch_mask(mask, int(inner.config.vision_config.patch_size))
        hidden = inner.vision_model(pixel_values=pixels, patch_attention_mask=patches).last_hidden_state
        features = inner.connector(hidden, attention_mask=patches.view(b * n, -1))
        return features.reshape(b, n * features.shape[1], features.shape[2])

    # -- text ---------------------------------------------------------------------------------------------
    def prompt(self, question: str, answer: str) -> str:
        """The chat template's text with the image expanded and spaced as the processor does."""
        return processor_spacing(super().prompt(question, answer), self.fake_token)

    image_attends_both_ways = False

    def _packing_decoder(self) -> Any:
        return self.model.model.text_model

    def _hidden(self, embeds: Tensor, ids: Tensor, attention: Tensor) -> Tensor:
        out = self.model.model.text_model(inputs_embeds=embeds, attention_mask=attention, use_cache=False)
        return out.last_hidden_state

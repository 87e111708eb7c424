"""Idefics3 and SmolVLM (the HuggingFaceM4/Idefics3-8B-Llama3 and HuggingFaceTB/SmolVLM checkpoints) behind
the judge contract.

Both models are a SigLIP tower, a pixel-shuffle connector and a Llama-style language model, with the same
processor; SmolVLM reuses Idefics3's classes and only its forward's image merging differs, which this adapter
does itself. What the stock processor does, reproduced here differentiably, for one setting:
- the pixels, with the processor's `do_image_splitting=False` (the image is not cut into tiles, only the
  global image is shown): the longest side resized to `size["longest_edge"]` (the aspect ratio kept, the
  short side truncated, then made even), then the whole image resized to `max_image_size` square; both with
  PIL's Lanczos filter (reproduced exactly as weights, clipped to [0, 1] after each pass as PIL's 8-bit
  images are); then (x - mean) / std. One image needs no padding, so every patch is attended. The released
  processors split large images into up to 4 x 4 tiles plus the global image by default; this judge always
  asks with the global image only (`image_seq_len` image tokens: 169 for Idefics3, 81 for SmolVLM-Instruct);
- the prompt: the processor's chat template ("<|begin_of_text|>User:<image>{question}<end_of_utterance>\\n
  Assistant:"), whose `<image>` the processor replaces with `<fake_token_around_image><global-img>`, the
  image tokens and `<fake_token_around_image>`; the answer follows "Assistant:" after a space, as the
  template writes the model's turn.

The text side (image tokens expanded in the prompt, features scattered into their slots, teacher-forced
answer scores) is Gemma 3's (`judges/gemma3.py`); attention is causal throughout.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .gemma3 import Gemma3Judge
from .loading import load_frozen

MODEL_TYPES = ("idefics3", "smolvlm")
"""config.json model types this adapter loads."""
MAX_IMAGE_SIZE_PX = 4096
"""The processors' absolute bound on the resized image's longest side."""


# -- PIL's resampling, as differentiable weights ------------------------------------------------------------
def _sinc(x: Tensor) -> Tensor:
    return torch.where(x == 0, torch.ones_like(x), torch.sin(math.pi * x) / (math.pi * x))


def _lanczos(x: Tensor) -> Tensor:
    return torch.where((x >= -3) & (x < 3), _sinc(x) * _sinc(x / 3), torch.zeros_like(x))


def _bilinear(x: Tensor) -> Tensor:
    return (1 - x.abs()).clamp(min=0)


def _bicubic(x: Tensor) -> Tensor:
    a, x = -0.5, x.abs()
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return torch.where(x < 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


PIL_FILTERS: dict[int, tuple[Callable[[Tensor], Tensor], float]] = {
    1: (_lanczos, 3.0),
    2: (_bilinear, 1.0),
    3: (_bicubic, 2.0),
}
"""PIL's filter number (as processors save `resample`) -> (filter, support): Lanczos, bilinear, bicubic."""


@functools.lru_cache(maxsize=16)
def pil_weights(in_size: int, out_size: int, resample: int) -> Tensor:
    """(out_size, in_size) resampling weights of PIL's `resize` along one axis (Resample.c's coefficients):
    each output pixel averages the inputs under the filter, widened by the scale when shrinking. Cached: a
    judge resizes every image between the same sizes; never modified in place."""
    kernel, support = PIL_FILTERS[resample]
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    center = (torch.arange(out_size, dtype=torch.float64) + 0.5) * scale
    first = (center - support + 0.5).floor().clamp(min=0)
    last = (center + support + 0.5).floor().clamp(max=in_size)  # exclusive
    j = torch.arange(in_size, dtype=torch.float64)
    inside = (j[None] >= first[:, None]) & (j[None] < last[:, None])
    weights = kernel((j[None] - center[:, None] + 0.5) / filter_scale) * inside
    return (weights / weights.sum(dim=1, keepdim=True)).float()


def pil_resize(x: Tensor, size: tuple[int, int], resample: int) -> Tensor:
    """(B, C, H, W) in [0, 1] resized as PIL does: the horizontal pass, then the vertical one, each clipped to
    [0, 1] (PIL keeps 8-bit images between passes; Lanczos and bicubic overshoot otherwise).

    Pillow 13 runs the vertical pass first for some shapes (measured: when the height shrinks and the width
    shrinks less or grows); the orders differ only where the intermediate is clipped and rounded (a few
    levels of 255 on pixel noise). The judge's resizes (a square grown, then shrunk to a square) are
    horizontal-first in Pillow too.
    """
    h, w = x.shape[-2:]
    if w != size[1]:
        x = (x @ pil_weights(w, size[1], resample).to(x.device).T).clamp(0, 1)
    if h != size[0]:
        x = (pil_weights(h, size[0], resample).to(x.device) @ x).clamp(0, 1)
    return x


def longest_edge_size(height: int, width: int, longest_edge: int) -> tuple[int, int]:
    """The processor's first resize: the longest side to `longest_edge`, the other side scaled (truncated)
    and made even, then both kept within 4096 px."""
    aspect = width / height
    if width >= height:
        width, height = longest_edge, int(longest_edge / aspect)
        height += height % 2
    else:
        height, width = longest_edge, int(longest_edge * aspect)
        width += width % 2
    height, width = max(height, 1), max(width, 1)
    if max(height, width) > MAX_IMAGE_SIZE_PX:  # only with a longest_edge above it
        aspect = width / height
        if width >= height:
            width, height = MAX_IMAGE_SIZE_PX, int(MAX_IMAGE_SIZE_PX / aspect)
        else:
            height, width = MAX_IMAGE_SIZE_PX, int(MAX_IMAGE_SIZE_PX * aspect)
    return max(height, 1), max(width, 1)


class Idefics3Judge(Gemma3Judge):
    """An Idefics3 / SmolVLM model, its tokenizer, image processor and chat template (judge contract)."""

    def _read_resizing(self, image_processor: Any) -> None:
        """The two sizes of the processor's resizes and its PIL filter."""
        side = int(image_processor.max_image_size["longest_edge"])
        self.size = (side, side)
        self.longest_edge = int(image_processor.size["longest_edge"])
        resample = getattr(image_processor, "resample", None)
        self.resample = 1 if resample is None else int(resample)  # unset: the processors' Lanczos default
        if self.resample not in PIL_FILTERS:
            raise ValueError(f"the image processor resamples with PIL filter {self.resample}; not reproduced")

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Any:
        from transformers import AutoImageProcessor, AutoTokenizer

        from .qwen2_vl import _read_chat_template

        folder = Path(path)
        model = load_frozen(_model_class(folder), folder, device, quantization)
        # the parts, not AutoProcessor: SmolVLM's processor also builds a video processor (torchvision) and
        # needs num2words, neither of which an image judge uses
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        image_processor = AutoImageProcessor.from_pretrained(str(folder))
        image_token = str(getattr(tokenizer, "image_token", None) or "<image>")
        sequence = image_sequence(tokenizer, image_token, _image_seq_len(folder, model))
        return cls(model, tokenizer, image_processor, _read_chat_template(folder), image_token, sequence)

    @property
    def _vision_dtype(self) -> torch.dtype:
        return next(self.model.model.vision_model.parameters()).dtype

    # -- preprocessing ----------------------------------------------------------------------------------
    def pixel_values(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> the global image (B, 3, side, side), normalised, differentiably."""
        x = images.to(device=self.device, dtype=torch.float32)
        height, width = x.shape[-2:]
        first = longest_edge_size(int(height), int(width), self.longest_edge)
        x = pil_resize(pil_resize(x, first, self.resample), self.size, self.resample)
        x = (x - self._mean.to(x.device)) / self._std.to(x.device)
        return x.to(self._vision_dtype)

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, image tokens, D) image features in the language model's space, one vision-tower pass.

        The tower and connector are called directly: the stock `get_image_features` drops any image whose
        normalised pixels are all exactly 0 (it takes them for batch padding), a flat mid-grey image included.
        """
        inner = self.model.model
        hidden = inner.vision_model(pixel_values=self.pixel_values(images)).last_hidden_state
        return inner.connector(hidden)

    # -- the language model --------------------------------------------------------------------------------
    image_attends_both_ways = False

    def _packing_decoder(self) -> Any:
        return self.model.model.text_model

    def _hidden(self, embeds: Tensor, ids: Tensor, attention: Tensor) -> Tensor:
        out = self.model.model.text_model(inputs_embeds=embeds, attention_mask=attention, use_cache=False)
        return out.last_hidden_state


def image_sequence(tokenizer: Any, image_token: str, image_seq_len: int) -> str:
    """What the processor puts in place of `<image>` for one image that is not split into tiles."""
    around = str(getattr(tokenizer, "fake_image_token", None) or "<fake_token_around_image>")
    global_image = str(getattr(tokenizer, "global_image_token", None) or "<global-img>")
    return around + global_image + image_token * image_seq_len + around


def _image_seq_len(folder: Path, model: Any) -> int:
    """The processor's image_seq_len (processor_config.json), else what the model's config implies."""
    saved = folder / "processor_config.json"
    if saved.is_file():
        value = json.loads(saved.read_text()).get("image_seq_len")
        if value is not None:
            return int(value)
    return int(model.model.image_seq_len)


def _model_class(folder: Path) -> Any:
    model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    if model_type == "idefics3":
        from transformers import Idefics3ForConditionalGeneration

        return Idefics3ForConditionalGeneration
    if model_type == "smolvlm":
        from transformers import SmolVLMForConditionalGeneration

        return SmolVLMForConditionalGeneration
    raise ValueError(f"config.json: model_type {model_type!r} is not one of {', '.join(MODEL_TYPES)}")

"""LLaVA-1.5 (the llava-hf checkpoints) behind the judge contract.

The model is the same LLaVA layout as the embedded judge (vision tower -> projector -> language model), so
the scoring is `EmbeddedJudge`'s; what differs is what the stock processor does, reproduced here
differentiably:
- the prompt: the processor's own chat template ("USER: <image>\\n{question} ASSISTANT:" for llava-1.5),
  with the image token repeated `image_seq_length` times, as the processor expands it;
- the pixels: the shorter side resized to `size["shortest_edge"]` (bicubic, antialiased, as PIL does), a
  centre crop to `crop_size`, then (x - mean) / std with CLIP's statistics.

LLaVA-NeXT (anyres tiling) is not this: its images become a variable number of tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import with_instruction
from .embedded import EmbeddedJudge
from .loading import load_frozen


class LlavaJudge(EmbeddedJudge):
    def __init__(self, model: Any, processor: Any):
        super().__init__(model, processor)
        image_processor = processor.image_processor
        self.shortest_edge = int(image_processor.size["shortest_edge"])
        crop = image_processor.crop_size
        self.crop = (int(crop["height"]), int(crop["width"]))
        self.image_token = processor.image_token

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> LlavaJudge:
        from transformers import AutoProcessor, LlavaForConditionalGeneration

        model = load_frozen(LlavaForConditionalGeneration, path, device, quantization)
        return cls(model, AutoProcessor.from_pretrained(str(path)))

    def prompt(self, question: str, answer: str) -> str:
        chat = [
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": with_instruction(question, answer)}],
            }
        ]
        text = self.processor.apply_chat_template(chat, add_generation_prompt=True)
        return text.replace(self.image_token, self.image_token * self.image_tokens, 1)

    def pixel_values(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> CLIP-normalised (B, 3, crop_h, crop_w), differentiably."""
        x = images.to(device=self.device, dtype=torch.float32)
        h, w = x.shape[-2:]
        scale = self.shortest_edge / min(h, w)
        size = (max(self.crop[0], round(h * scale)), max(self.crop[1], round(w * scale)))
        if size != (h, w):
            x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
        top, left = (size[0] - self.crop[0]) // 2, (size[1] - self.crop[1]) // 2
        x = x[..., top : top + self.crop[0], left : left + self.crop[1]]
        x = (x - self._mean.to(x.device)) / self._std.to(x.device)
        return x.to(next(self.model.model.vision_tower.parameters()).dtype)

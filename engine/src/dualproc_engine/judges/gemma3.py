"""Gemma 3 (the google/gemma-3-*-it checkpoints) behind the judge contract.

What the stock `Gemma3Processor` and `Gemma3ForConditionalGeneration` do, reproduced here differentiably:
- the pixels: the whole image resized to the tower's square size (896 px for the released models) with the
  processor's filter (bilinear), then (x - mean) / std (0.5 and 0.5). Pan-and-scan (extra crops of very wide
  or tall images) is the processor's option and is off by default; this judge always asks without it;
- the prompt: the processor's chat template ("<bos><start_of_turn>user\\n<start_of_image>{question}
  <end_of_turn>\\n<start_of_turn>model\\n"), whose image mark the processor replaces with its full image
  sequence ("\\n\\n<start_of_image>" + mm_tokens_per_image image tokens + "<end_of_image>\\n\\n"); the
  template already starts with <bos>, so the tokenizer adds no second one (as the processor's
  `apply_chat_template` does);
- attention: the image tokens see each other both ways (the model's `token_type_ids` mask), the rest is
  causal (sliding-window in the local layers).

The image always becomes the same number of tokens, so the text side is tokenized with the image tokens in
place and the image features are scattered into their slots, as in the LLaVA layout. Idefics3 and SmolVLM
share this text side (`judges/idefics3.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import answer_token_ids, check_inputs, logprob_sharing_images, pad_rows, with_instruction
from .loading import load_frozen
from .shared_prefix import packable_prefix, packed_logprob

MODEL_TYPES = ("gemma3",)
"""config.json model types this adapter loads."""
RESAMPLE_MODES = {2: "bilinear", 3: "bicubic"}
"""PIL's resampling filter numbers (as processors save them) -> torch's interpolation mode."""


def interpolation_mode(image_processor: Any) -> str:
    """The torch mode of the processor's PIL filter; only the two these processors use are reproduced."""
    resample = getattr(image_processor, "resample", None)
    resample = 2 if resample is None else int(resample)  # unset: the processors' bilinear default
    if resample not in RESAMPLE_MODES:
        raise ValueError(
            f"the image processor resamples with PIL filter {resample}; expected bilinear or bicubic"
        )
    return RESAMPLE_MODES[resample]


def resize(x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    """PIL-style resize of float images in [0, 1]: antialiased (PIL widens the filter when shrinking), and
    clamped after bicubic, since the stock processors resize 8-bit images, which cannot overshoot."""
    if tuple(x.shape[-2:]) == size:
        return x
    x = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=True)
    return x.clamp(0, 1) if mode == "bicubic" else x


class Gemma3Judge:
    """A Gemma 3 model, its tokenizer, image processor and chat template (judge contract); the image tokens
    are expanded in the prompt text."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        image_processor: Any,
        chat_template: str | None,
        image_placeholder: str,
        image_sequence: str,
    ):
        """`image_placeholder`: the chat template's image mark; `image_sequence`: the text the stock processor
        puts in its place for one image."""
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = chat_template or getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise ValueError(
                "no chat template in the folder (chat_template.jinja or .json, or the tokenizer's)"
            )
        self.image_placeholder, self.image_sequence = image_placeholder, image_sequence
        self._read_resizing(image_processor)
        self._mean = torch.tensor(image_processor.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(image_processor.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self.image_token_id = int(model.config.image_token_id)
        self.answer_separator = self._answer_separator()

    def _read_resizing(self, image_processor: Any) -> None:
        """The tower's input size and the torch mode of the processor's filter."""
        size = image_processor.size
        self.size = (int(size["height"]), int(size["width"]))
        self.mode = interpolation_mode(image_processor)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Any:
        from transformers import AutoProcessor, Gemma3ForConditionalGeneration

        processor = AutoProcessor.from_pretrained(str(path))
        model = load_frozen(Gemma3ForConditionalGeneration, Path(path), device, quantization)
        parts = (processor.tokenizer, processor.image_processor, processor.chat_template)
        return cls(model, *parts, str(processor.boi_token), str(processor.full_image_sequence))

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def _vision_dtype(self) -> torch.dtype:
        return next(self.model.model.vision_tower.parameters()).dtype

    # -- preprocessing ----------------------------------------------------------------------------------
    def pixel_values(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> the tower's (B, 3, size, size) normalised input, differentiably."""
        x = resize(images.to(device=self.device, dtype=torch.float32), self.size, self.mode)
        x = (x - self._mean.to(x.device)) / self._std.to(x.device)
        return x.to(self._vision_dtype)

    def encode_images(self, images: Tensor) -> Tensor:
        """(B, image tokens, D) image features in the language model's space, one vision-tower pass."""
        return self.model.model.get_image_features(pixel_values=self.pixel_values(images)).pooler_output

    # -- text ---------------------------------------------------------------------------------------------
    def prompt(self, question: str, answer: str) -> str:
        """The chat template's text for one question, the image mark expanded as the processor does."""
        chat = [
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": with_instruction(question, answer)}],
            }
        ]
        text = self._render(chat, add_generation_prompt=True)
        if self.image_placeholder not in text:
            raise ValueError(f"the chat template puts no {self.image_placeholder} where the image goes")
        return text.replace(self.image_placeholder, self.image_sequence, 1)

    def _render(self, chat: list[dict[str, Any]], **kwargs: Any) -> str:
        template = self.chat_template
        return str(self.tokenizer.apply_chat_template(chat, chat_template=template, tokenize=False, **kwargs))

    def _answer_separator(self) -> str:
        """What the chat template writes between its generation prompt and the model's answer: nothing after
        Gemma's "model\\n", a space after Idefics3's "Assistant:"."""
        user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "?"}]}
        prompt = self._render([user], add_generation_prompt=True)
        probe = "Yes"
        reply = {"role": "assistant", "content": [{"type": "text", "text": probe}]}
        full = self._render([user, reply], continue_final_message=True)
        if full.startswith(prompt) and full.endswith(probe):
            return full[len(prompt) : -len(probe)]
        return ""

    def _tokenize(self, text: str) -> list[int]:
        # the processor's rule: no special tokens added when the template already starts with <bos>
        bos = self.tokenizer.bos_token
        add_special = not (bos is not None and text.startswith(bos))
        return list(self.tokenizer(text, add_special_tokens=add_special)["input_ids"])

    def encode_texts(self, questions: Sequence[str], answers: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Right-padded ids (Q, T) with the image tokens in place, attention mask, answer-predicting mask.

        The answer follows the generation prompt as the template writes a model turn ("...model\\nYes").
        """
        rows = [
            answer_token_ids(self._tokenize, self.prompt(q, a), self.answer_separator + a.strip())
            for q, a in zip(questions, answers, strict=True)
        ]
        pad = self.tokenizer.pad_token_id
        pad = self.tokenizer.eos_token_id if pad is None else pad  # any id: padding sits after the answer
        return pad_rows(rows, int(pad))

    # -- the contract ------------------------------------------------------------------------------------
    def logprob(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(B, Q) summed log-probabilities of each wanted answer's tokens, differentiable in `images`.

        Each image goes through the vision tower once; its Q questions then run through the language model
        together: packed behind the image (`shared_prefix.py`) where the family allows, else as one batch of
        B * Q sequences.
        """
        return logprob_sharing_images(self, images, questions, answers)

    def logprob_from_features(
        self, features: Tensor, ids: Tensor, attention: Tensor, target: Tensor
    ) -> Tensor:
        """(B, Q) from image features (B, N, D) and `encode_texts`'s tensors (Q, T), all pairs."""
        b, q = features.shape[0], ids.shape[0]
        tokens = (ids, attention, target)
        decoder = self._packing_decoder()
        prefix, fmt = packable_prefix(decoder, tokens) if decoder is not None else (0, None)
        if self.image_attends_both_ways and bool((ids[:, prefix:] == self.image_token_id).any()):
            fmt = None  # image tokens past the shared opening would lose their both-ways block: unpacked
        ids, attention, target = ids.repeat(b, 1), attention.repeat(b, 1), target.repeat(b, 1)  # image-major
        embeds = self._embed(features.repeat_interleave(q, dim=0), ids)
        if fmt is None:
            return self._answer_logprob(embeds, ids, attention, target).view(b, q)
        # the image once, then each question's tail (shared_prefix.py)
        t = ids.shape[1]
        positions = torch.arange(t, device=ids.device).expand(q, t)
        both_ways = (ids[0, :prefix] == self.image_token_id) if self.image_attends_both_ways else None
        embeds = embeds.view(b, q, t, -1)
        return packed_logprob(decoder, self.model.lm_head, embeds, positions, tokens, prefix, fmt, both_ways)

    image_attends_both_ways = True
    """Gemma 3's image tokens see each other both ways (its `token_type_ids`); other families': causally."""

    def _packing_decoder(self) -> Any:
        """The decoder that takes a prepared 4-D mask for packed questions (None: ask one sequence each)."""
        return self.model.model.language_model

    def logprob_pairs(self, images: Tensor, questions: Sequence[str], answers: Sequence[str]) -> Tensor:
        """(N,) log P(answer i | image i, question i): one question per image."""
        check_inputs(images, questions, answers)
        if images.shape[0] != len(questions):
            raise ValueError(f"images: {images.shape[0]} images for {len(questions)} questions")
        features = self.encode_images(images)
        ids, attention, target = (t.to(self.device) for t in self.encode_texts(questions, answers))
        return self._answer_logprob(self._embed(features, ids), ids, attention, target)

    def _embed(self, features: Tensor, ids: Tensor) -> Tensor:
        """(N, T, D) input embeddings: row n's image tokens take features[n] in order, the rest the text's."""
        is_image = ids == self.image_token_id
        counts = is_image.sum(dim=1)
        if bool((counts != features.shape[1]).any()):
            raise ValueError(
                f"the prompts hold {counts.tolist()} image tokens; the images give {features.shape[1]}"
            )
        slot = (is_image.long().cumsum(dim=1) - 1).clamp(min=0)
        image_part = features.gather(1, slot[..., None].expand(-1, -1, features.shape[-1]))
        # the image token may lie outside the embedding table (the stock model swaps it for id 0 too)
        text = self.model.get_input_embeddings()(ids.masked_fill(is_image, 0))
        return torch.where(is_image[..., None], image_part.to(text.dtype), text)

    def _hidden(self, embeds: Tensor, ids: Tensor, attention: Tensor) -> Tensor:
        """The language model's last hidden states; image tokens marked so they attend both ways."""
        token_type_ids = (ids == self.image_token_id).long()
        out = self.model.model(
            inputs_embeds=embeds, attention_mask=attention, token_type_ids=token_type_ids, use_cache=False
        )
        return out.last_hidden_state

    def _answer_logprob(self, embeds: Tensor, ids: Tensor, attention: Tensor, target: Tensor) -> Tensor:
        """(N,) summed log-probabilities of the target tokens of N sequences of embeddings."""
        hidden = self._hidden(embeds, ids, attention)
        # logits only where an answer token is predicted: the full-vocabulary softmax is still exact there
        rows, cols = target.nonzero(as_tuple=True)
        logits = self.model.lm_head(hidden[rows, cols]).float()
        token_logprob = torch.log_softmax(logits, dim=-1).gather(1, ids[rows, cols + 1][:, None]).squeeze(1)
        out = torch.zeros(ids.shape[0], dtype=token_logprob.dtype, device=token_logprob.device)
        return out.index_add(0, rows, token_logprob)

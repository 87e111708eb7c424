"""PaliGemma and PaliGemma 2 (the google/paligemma-* and google/paligemma2-* checkpoints) behind the judge
contract.

Both are a SigLIP tower, one linear projection and a Gemma (PaliGemma) or Gemma 2 (PaliGemma 2) language
model, with the same processor. What the stock `PaliGemmaProcessor` and `PaliGemmaForConditionalGeneration`
do, reproduced here differentiably:
- the pixels, as `SiglipImageProcessor` gives them: the whole image resized to the tower's square size (224,
  448 or 896 px) with the processor's PIL filter (bicubic in the released repos; PIL's weights reproduced
  exactly, `judges/idefics3.py`), then (x - mean) / std (0.5 and 0.5);
- the prompt: there is no chat template. The processor writes `image_seq_length` image tokens, then <bos>,
  the question, and "\\n" (the "prefix"); the wanted answer is the "suffix", tokenized on its own (the
  processor encodes prefix and suffix as a text pair, so the answer never merges with the "\\n"). The
  processor adds <eos> after a training suffix; the judge scores the answer's own tokens, as every judge
  does, and not the end of the reply;
- attention: the prefix (image tokens, <bos>, question, "\\n") attends both ways, the suffix causally
  (`token_type_ids` 0 and 1, which the stock forward turns into its block mask); positions count from 1;
- the logits: Gemma 2's final soft-capping (tanh at 30) where the config sets it, as the stock head does.

Every image becomes the same number of tokens, so the text side is Gemma 3's (`judges/gemma3.py`): image
tokens expanded in the prompt, image features scattered into their slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .base import pad_rows, with_instruction
from .gemma3 import Gemma3Judge
from .idefics3 import PIL_FILTERS, pil_resize
from .loading import load_frozen

MODEL_TYPES = ("paligemma",)
"""config.json model types this adapter loads (PaliGemma 2 is model type paligemma too)."""


class PaliGemmaJudge(Gemma3Judge):
    """A PaliGemma / PaliGemma 2 model, its tokenizer and image processor (judge contract)."""

    def __init__(
        self, model: Any, tokenizer: Any, image_processor: Any, image_seq_length: int, image_token: str
    ):
        # no chat template to read: Gemma3Judge's __init__ is not called, only the parts that apply here
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = None
        self._read_resizing(image_processor)
        self._mean = torch.tensor(image_processor.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(image_processor.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self.image_token_id = int(model.config.image_token_id)
        if tokenizer.convert_tokens_to_ids(image_token) != self.image_token_id:
            raise ValueError(f"the tokenizer's {image_token} is not the model's image token")
        self.image_placeholder = image_token
        self.image_sequence = image_token * image_seq_length
        self.answer_separator = ""  # the answer is the suffix, a sequence of its own

    def _read_resizing(self, image_processor: Any) -> None:
        """The tower's square input size and the processor's PIL filter."""
        size = image_processor.size
        self.size = (int(size["height"]), int(size["width"]))
        resample = getattr(image_processor, "resample", None)
        self.resample = 3 if resample is None else int(resample)  # unset: SigLIP's bicubic default
        if self.resample not in PIL_FILTERS:
            raise ValueError(f"the image processor resamples with PIL filter {self.resample}; not reproduced")

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | torch.device = "cpu", quantization: str = "none"
    ) -> Any:
        from transformers import AutoProcessor, PaliGemmaForConditionalGeneration

        # the stock processor, so the tokenizer is configured as it configures it (no <bos> of its own)
        processor = AutoProcessor.from_pretrained(str(path))
        model = load_frozen(PaliGemmaForConditionalGeneration, Path(path), device, quantization)
        parts = (processor.tokenizer, processor.image_processor)
        return cls(model, *parts, int(processor.image_seq_length), str(processor.image_token))

    # -- preprocessing ----------------------------------------------------------------------------------
    def pixel_values(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> the tower's (B, 3, size, size) normalised input, differentiably."""
        x = pil_resize(images.to(device=self.device, dtype=torch.float32), self.size, self.resample)
        x = (x - self._mean.to(x.device)) / self._std.to(x.device)
        return x.to(self._vision_dtype)

    # -- text ---------------------------------------------------------------------------------------------
    def prompt(self, question: str, answer: str) -> str:
        """The prefix as the processor writes it: image tokens, <bos>, the question, "\\n"."""
        bos = str(self.tokenizer.bos_token)
        return self.image_sequence + bos + with_instruction(question, answer) + "\n"

    def _tokenize(self, text: str) -> list[int]:
        # the processor turns the tokenizer's own <bos> off; the prompt writes it out
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_texts(self, questions: Sequence[str], answers: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Right-padded ids (Q, T) with the image tokens in place, attention mask, answer-predicting mask.

        The answer is tokenized apart from the prefix and appended, as the processor encodes the pair.
        """
        rows = []
        for question, answer in zip(questions, answers, strict=True):
            prefix = self._tokenize(self.prompt(question, answer))
            suffix = self._tokenize(answer.strip())
            if not suffix:
                raise ValueError(f"answers: {answer!r} adds no token after the question")
            rows.append((prefix + suffix, len(prefix)))
        pad = self.tokenizer.pad_token_id
        pad = self.tokenizer.eos_token_id if pad is None else pad  # any id: padding sits after the answer
        return pad_rows(rows, int(pad))

    # -- the language model --------------------------------------------------------------------------------
    def _packing_decoder(self) -> Any:
        """None: the prefix (image and question) attends both ways and the logits are soft-capped, so the
        questions run one sequence each."""
        return None

    def _answer_logprob(self, embeds: Tensor, ids: Tensor, attention: Tensor, target: Tensor) -> Tensor:
        """(N,) summed log-probabilities of the target tokens of N sequences of embeddings.

        The suffix (token type 1) starts where the first answer token is: one after the first position that
        predicts an answer token. Padding is marked suffix too; the attention mask hides it either way.
        """
        token_type_ids = torch.zeros_like(ids)
        token_type_ids[:, 1:] = target[:, :-1].long().cumsum(dim=1).clamp(max=1)
        out = self.model.model(
            inputs_embeds=embeds, attention_mask=attention, token_type_ids=token_type_ids, use_cache=False
        )
        rows, cols = target.nonzero(as_tuple=True)
        # logits only where an answer token is predicted: the full-vocabulary softmax is still exact there
        logits = soft_cap(self.model.lm_head(out.last_hidden_state[rows, cols]).float(), self._soft_cap)
        token_logprob = torch.log_softmax(logits, dim=-1).gather(1, ids[rows, cols + 1][:, None]).squeeze(1)
        result = torch.zeros(ids.shape[0], dtype=token_logprob.dtype, device=token_logprob.device)
        return result.index_add(0, rows, token_logprob)

    @property
    def _soft_cap(self) -> float | None:
        cap = getattr(self.model.config.get_text_config(), "final_logit_softcapping", None)
        return None if cap is None else float(cap)


def soft_cap(logits: Tensor, cap: float | None) -> Tensor:
    """Gemma 2's final logit soft-capping, cap * tanh(logits / cap); unchanged without a cap."""
    return logits if cap is None else torch.tanh(logits / cap) * cap

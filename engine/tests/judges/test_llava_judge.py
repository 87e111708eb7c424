"""The LLaVA-1.5 judge adapter on a tiny LLaVA built from configs (a local tokenizer, nothing downloaded):
its differentiable preprocessing and prompt match the stock processor, and the family contract
(judge_family_contract.py): its scores match the stock model's forward, a teach step through it changes a
LoRA, it loads by folder and by preset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from judge_family_contract import JudgeFamilyContract
from judge_tiny import ANSWERS, CLIP_MEAN, CLIP_STD, QUESTIONS, as_tensor, next_token_logprob, noise
from PIL import Image

from dualproc_engine.judges.llava import LlavaJudge
from dualproc_engine.judges.scenes_vlm import build_tokenizer, words

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'].upper() + ': ' }}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}{{ '<image>\n' }}{% endif %}{% endfor %}"
    "{% for c in message['content'] %}{% if c['type'] == 'text' %}{{ c['text'] + ' ' }}{% endif %}"
    "{% endfor %}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)
"""The shape of llava-1.5-hf's template: "USER: <image>\\n{question} ASSISTANT:"."""


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("llava")
    sentences = [*QUESTIONS, *ANSWERS, "USER ASSISTANT: Answer with Yes or No."]
    tokenizer = build_tokenizer(sorted({w for s in sentences for w in words(s)}))
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, resample=3,
        image_mean=CLIP_MEAN, image_std=CLIP_STD,
    )  # fmt: skip
    processor = LlavaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
        vision_feature_select_strategy="default", num_additional_image_tokens=1, image_token="<image>",
        chat_template=CHAT_TEMPLATE,
    )  # fmt: skip
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=1, num_attention_heads=2),
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), image_seq_length=16,
        vision_feature_select_strategy="default", vision_feature_layer=-1,
    )  # fmt: skip
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def judge(judge_dir: Path) -> LlavaJudge:
    from dualproc_engine.teach.adapters import load_judge

    return load_judge(str(judge_dir), torch.device("cpu"))  # by folder, as teach names its judge


@pytest.fixture(scope="module")
def processor(judge: LlavaJudge) -> Any:
    return judge.processor


def test_preprocessing_matches_the_stock_processor(judge: LlavaJudge) -> None:
    for h, w in ((40, 48), (32, 32), (96, 64)):
        pixels = noise(h, w)
        stock = judge.processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")[
            "pixel_values"
        ]
        ours = judge.pixel_values(as_tensor(pixels))
        assert ours.shape == stock.shape
        # PIL's bicubic and torch's antialiased bicubic differ slightly; measured: mean <= 0.005, max <= 0.17
        # on pixel noise (the worst case), in normalised units (the range is about 7.5)
        assert (ours - stock).abs().mean() < 0.01 and (ours - stock).abs().max() < 0.2


def test_prompt_is_what_the_stock_processor_feeds_the_model(judge: LlavaJudge) -> None:
    text = judge.processor.apply_chat_template(
        [
            {
                "role": "user",
                "content": [
                    {"type": "image"},
                    {"type": "text", "text": "Is it night? Answer with Yes or No."},
                ],
            }
        ],
        add_generation_prompt=True,
    )
    stock_ids = judge.processor(images=Image.fromarray(noise(32, 32)), text=text, return_tensors="pt")[
        "input_ids"
    ][0]
    ours, _, _ = judge.encode_texts(["Is it night?"], ["Yes"])
    assert text == "USER: <image>\nIs it night? Answer with Yes or No. ASSISTANT:"
    assert ours[0, : len(stock_ids)].tolist() == stock_ids.tolist()


class TestLlavaFamily(JudgeFamilyContract):
    judge_class = LlavaJudge
    missing_preset = ("llava-1.5-7b", r"llava-hf/llava-1.5-7b-hf is not in the local Hugging Face cache")
    cached_preset = ("llava-1.5-7b", "llava-hf/llava-1.5-7b-hf")
    score_size = (48, 40)

    def stock_logprob(
        self, judge: LlavaJudge, processor: Any, image: torch.Tensor, question: str, answer: str
    ) -> torch.Tensor:
        """The stock model's own forward on the judge's ids (the prompt test checks them against the
        processor's) and pixels: the answer's tokens are the target's."""
        ids, attention, target = judge.encode_texts([question], [answer])
        logits = judge.model(
            input_ids=ids, attention_mask=attention, pixel_values=judge.pixel_values(image[None])
        ).logits
        return next_token_logprob(logits[0], ids[0], target[0].nonzero().squeeze(1))

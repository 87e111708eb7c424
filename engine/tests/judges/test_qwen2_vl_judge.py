"""The Qwen2.5-VL judge adapter on a tiny Qwen2.5-VL built from configs (a byte-level BPE tokenizer trained
here, nothing downloaded): its differentiable patches and prompt ids match the stock processor's (M-RoPE's
image grid included), Qwen2-VL scores like its stock forward too, and Qwen2.5-VL keeps the family contract
(judge_family_contract.py): stock-forward scores, checkpointing, a teach step, folder and preset loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from judge_family_contract import JudgeFamilyContract, assert_scores_like_the_stock_forward
from judge_tiny import QUESTIONS, as_pil, as_tensor, byte_level_bpe, load_tiny, next_token_logprob, noise
from PIL import Image

from dualproc_engine.judges.qwen2_vl import Qwen2VLJudge
from dualproc_engine.judges.shared_prefix import MIN_SHARED_TOKENS, shared_prefix_length

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>"]  # fmt: skip
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""The shape of Qwen2.5-VL-Instruct's template: a default system turn, the image between vision marks."""
CORPUS = [*QUESTIONS, "You are a helpful assistant.", "system user assistant", "Answer with Yes or No.",
          "a red line at the top"]  # fmt: skip


def _tokenizer() -> Any:
    """A byte-level BPE like Qwen's (no unknown tokens; the answer may merge with what precedes it)."""
    from transformers import Qwen2TokenizerFast

    tok = byte_level_bpe(CORPUS, SPECIAL_TOKENS)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=tok, unk_token=None, bos_token=None,
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>")  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _image_processor() -> Any:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    # factor 8 (patch 4, merge 2); between 16x16 and 48x48 pixels, so small images grow and big ones shrink
    return Qwen2VLImageProcessorPil(patch_size=4, merge_size=2, temporal_patch_size=2, min_pixels=16 * 16,
                                    max_pixels=48 * 48)  # fmt: skip


def _save_tiny(folder: Path, model_type: str) -> Path:
    """A tiny Qwen2.5-VL (`qwen2_5_vl`) or Qwen2-VL (`qwen2_vl`) with its tokenizer, image processor and chat
    template, laid out as the Hugging Face repos are."""
    import transformers

    torch.set_num_threads(1)
    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    # head dim 16: 8 rotary frequencies split over (time, row, column)
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 512,
            "pad_token_id": ids["<|endoftext|>"], "bos_token_id": None, "eos_token_id": ids["<|im_end|>"],
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                "mrope_section": [2, 3, 3]}}  # fmt: skip
    vision: dict[str, Any] = {"depth": 2, "num_heads": 2, "patch_size": 4, "spatial_merge_size": 2,
                              "temporal_patch_size": 2}  # fmt: skip
    if model_type == "qwen2_5_vl":
        # window 16 px = 2x2 merged blocks per window, one full-attention block: both attention kinds run
        vision |= {"hidden_size": 32, "intermediate_size": 64, "out_hidden_size": 32, "window_size": 16,
                   "fullatt_block_indexes": [1]}  # fmt: skip
        config_class, model_class = (
            transformers.Qwen2_5_VLConfig,
            transformers.Qwen2_5_VLForConditionalGeneration,
        )
    else:
        vision |= {"embed_dim": 32, "hidden_size": 32, "mlp_ratio": 2}
        config_class, model_class = transformers.Qwen2VLConfig, transformers.Qwen2VLForConditionalGeneration
    config = config_class(
        vision_config=vision, text_config=text,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model_class(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    _image_processor().save_pretrained(str(folder))
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE)  # where the processor saves it
    return folder


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("qwen2.5-vl"), "qwen2_5_vl")


def _stock_processor(judge: Qwen2VLJudge, processor_class: Any) -> Any:
    """The stock processor over the judge's parts. It insists on a video processor, which needs torchvision
    (not installed here), so its class check is relaxed for that one absent part."""
    from transformers.processing_utils import ProcessorMixin

    check = ProcessorMixin.check_argument_for_proper_class
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ProcessorMixin, "check_argument_for_proper_class",
                   lambda self, name, arg: None if arg is None else check(self, name, arg))  # fmt: skip
        return processor_class(image_processor=judge.image_processor, tokenizer=judge.tokenizer,
                               video_processor=None, chat_template=judge.chat_template)  # fmt: skip


@pytest.fixture(scope="module")
def processor(judge: Qwen2VLJudge) -> Any:
    from transformers import Qwen2_5_VLProcessor

    return _stock_processor(judge, Qwen2_5_VLProcessor)


def test_patches_match_the_stock_processor(judge: Qwen2VLJudge) -> None:
    # (40, 56): already a multiple of 8, no resize; then shrink, grow, odd sizes, a portrait
    for h, w in ((40, 56), (37, 61), (10, 12), (96, 64), (200, 150)):
        pixels = noise(h, w)
        stock = judge.image_processor(images=Image.fromarray(pixels), return_tensors="pt")
        ours, grid = judge.pixel_values(as_tensor(pixels))
        assert grid.tolist() == stock["image_grid_thw"].tolist()
        assert ours.shape == stock["pixel_values"].shape
        # PIL's bicubic on 8-bit pixels vs torch's antialiased bicubic on floats; measured on pixel noise
        # (the worst case), in normalised units (range about 7.5): mean <= 0.0056, max <= 0.22; exact (1e-6)
        # when no resize is needed
        diff = (ours - stock["pixel_values"]).abs()
        assert diff.mean() < 0.01 and diff.max() < 0.3
        if (h, w) == (40, 56):
            assert diff.max() < 1e-5


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(judge: Qwen2VLJudge, processor: Any) -> None:
    question = {"type": "text", "text": "Is it night? Answer with Yes or No."}
    chat = [{"role": "user", "content": [{"type": "image"}, question]}]
    text = processor.apply_chat_template(chat, add_generation_prompt=True)
    assert text == judge.prompt("Is it night?", "Yes")
    assert text.endswith("<|vision_start|><|image_pad|><|vision_end|>Is it night? Answer with Yes or No."
                         "<|im_end|>\n<|im_start|>assistant\n")  # fmt: skip
    pixels = noise(37, 61)
    stock = processor(images=Image.fromarray(pixels), text=text, return_tensors="pt")["input_ids"][0]
    features = judge.encode_images(as_tensor(pixels))
    ids, attention, target = judge.encode_texts(["Is it night?"], ["Yes"])
    wide, _, _, slot = judge.widen_image_pad(ids, attention, target, features.shape[1] * features.shape[2])
    assert wide[0, : len(stock)].tolist() == stock.tolist()
    assert int((slot >= 0).sum()) == int((stock == judge.image_token_id).sum()) == 8 * 14 // 4


def _stock_logprob(
    judge: Qwen2VLJudge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> Any:
    """The answer's log-probability from the stock forward: the processor's ids, the model's own M-RoPE."""
    text = judge.prompt(question, answer) + answer
    inputs = processor(images=as_pil(image), text=text, return_tensors="pt")
    pixels, grid = judge.pixel_values(image[None])  # ours, so that only the model's side is compared
    assert grid.tolist() == inputs["image_grid_thw"].tolist()
    inputs["pixel_values"] = pixels
    logits = judge.model(**inputs).logits[0]
    ids = inputs["input_ids"][0]
    n_answer = len(judge.tokenizer(answer)["input_ids"])  # the BPE merges no answer token with the "\n"
    rows = torch.arange(len(ids) - n_answer - 1, len(ids) - 1)
    return next_token_logprob(logits, ids, rows)


def test_qwen2_vl_loads_and_scores_like_its_stock_forward(tmp_path: Path) -> None:
    from transformers import Qwen2VLProcessor

    judge = load_tiny(_save_tiny(tmp_path, "qwen2_vl"), Qwen2VLJudge)
    processor = _stock_processor(judge, Qwen2VLProcessor)
    assert_scores_like_the_stock_forward(judge, processor, _stock_logprob)


class TestQwen25VLFamily(JudgeFamilyContract):
    judge_class = Qwen2VLJudge
    missing_preset = ("qwen2.5-vl-3b", r"Qwen/Qwen2.5-VL-3B-Instruct is not in the local Hugging Face")
    cached_preset = ("qwen2.5-vl-7b", "Qwen/Qwen2.5-VL-7B-Instruct")
    score_size = (37, 61)
    stock_logprob = staticmethod(_stock_logprob)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_questions_packed_behind_one_shared_prefix_score_as_asked_one_by_one(
    judge_dir: Path, attention: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dualproc_engine.judges import shared_prefix

    judge = load_tiny(judge_dir, Qwen2VLJudge)
    judge.model.set_attn_implementation(attention)
    # different lengths (right padding), a multi-token answer, two pictures
    images = torch.rand(2, 3, 37, 61, generator=torch.Generator().manual_seed(3))
    questions, answers = [*QUESTIONS, "Is it night?"], ["Yes", "a red line", "No", "No"]
    ids, attention_mask, target = judge.encode_texts(questions, answers)
    features = judge.encode_images(images)
    n_image = features.shape[1] * features.shape[2]
    wide = judge.widen_image_pad(ids, attention_mask, target, n_image)
    assert shared_prefix_length(*wide[:3]) >= MIN_SHARED_TOKENS + n_image  # system turn + image: packed

    def scores_and_grads() -> tuple[torch.Tensor, torch.Tensor]:
        x = images.clone().requires_grad_(True)
        scores = judge.logprob(x, questions, answers)
        (scores * torch.arange(1.0, 5.0)).sum().backward()
        assert x.grad is not None
        return scores.detach(), x.grad

    packed, packed_grad = scores_and_grads()
    monkeypatch.setattr(shared_prefix, "MIN_SHARED_TOKENS", 10**9)  # every question its own sequence
    plain, plain_grad = scores_and_grads()
    torch.testing.assert_close(packed, plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(packed_grad, plain_grad, atol=1e-6, rtol=1e-4)

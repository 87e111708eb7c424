"""The Gemma 3 judge adapter on a tiny Gemma 3 built from configs (a Gemma-style BPE tokenizer trained here,
nothing downloaded): its differentiable pixels and prompt ids match the stock `Gemma3Processor`'s, its image
tokens attend both ways, and the family contract (judge_family_contract.py) holds: its scores match the stock
model's forward (bidirectional attention over the image included), checkpointing, a teach step, presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from judge_family_contract import JudgeFamilyContract
from judge_tiny import (
    QUESTIONS,
    answer_logprob_after,
    as_pil,
    as_tensor,
    chat,
    metaspace_bpe,
    noise,
    two_way_minus_causal,
    yes_no,
)
from PIL import Image

from dualproc_engine.judges.gemma3 import Gemma3Judge

SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
                  "<start_of_image>", "<end_of_image>", "<image_soft_token>"]  # fmt: skip
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- else -%}{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'assistant') -%}{%- set role = 'model' -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)
"""The shape of gemma-3-4b-it's template: <bos>, then <start_of_turn>{role}\\n ... <end_of_turn>\\n turns."""
CORPUS = [*QUESTIONS, "user\nmodel\n", "Answer with Yes or No.", "a red line at the top", "\n\n"]
TOWER_PX = 32  # 4 x 4 patches of 8 px, pooled 2 x 2 into 4 image tokens


def _tokenizer() -> Any:
    """A BPE like Gemma's (spaces as "▁", byte fallback) that adds <bos> by itself, as Gemma's does."""
    from transformers import GemmaTokenizer

    tok = metaspace_bpe(CORPUS, SPECIAL_TOKENS, vocab_size=200, prepend=False)
    named = {
        "boi_token": "<start_of_image>",
        "eoi_token": "<end_of_image>",
        "image_token": "<image_soft_token>",
    }
    return GemmaTokenizer(tokenizer_object=tok, add_bos_token=True, extra_special_tokens=named)


def _save_tiny(folder: Path) -> Path:
    """A tiny Gemma 3 and its processor (tokenizer, image processor, chat template), laid out as the repos."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3Processor
    from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil

    torch.set_num_threads(1)
    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    # a sliding-window layer (window 8, shorter than the prompts) and a global one, as Gemma 3 mixes them
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"], "max_position_embeddings": 256,
            "pad_token_id": ids["<pad>"], "eos_token_id": ids["<eos>"],
            "bos_token_id": ids["<bos>"]}  # fmt: skip
    vision = {"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": TOWER_PX, "patch_size": 8,
              "vision_use_head": False}  # fmt: skip
    config = Gemma3Config(
        text_config=text, vision_config=vision, mm_tokens_per_image=4,
        boi_token_index=ids["<start_of_image>"], eoi_token_index=ids["<end_of_image>"],
        image_token_index=ids["<image_soft_token>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = Gemma3ForConditionalGeneration(config)
    # the projection into the text space starts at zero (transformers' init): without this the image would
    # reach the text as zeros, and neither the stock comparison nor the gradients would see it
    torch.nn.init.normal_(model.model.multi_modal_projector.mm_input_projection_weight, std=0.5)
    model.save_pretrained(str(folder))
    # the stock defaults: bilinear, mean and std 0.5
    image_processor = Gemma3ImageProcessorPil(size={"height": TOWER_PX, "width": TOWER_PX})
    processor = Gemma3Processor(image_processor=image_processor, tokenizer=tokenizer,
                                chat_template=CHAT_TEMPLATE, image_seq_length=4)  # fmt: skip
    processor.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("gemma3"))


def test_pixels_match_the_stock_processor(judge: Gemma3Judge, processor: Any) -> None:
    # the tower's own size (no resize), shrink, grow, a portrait
    for h, w in ((32, 32), (40, 50), (20, 24), (100, 75)):
        pixels = noise(h, w)
        stock = processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")
        ours = judge.pixel_values(as_tensor(pixels))
        assert ours.shape == stock["pixel_values"].shape == (1, 3, TOWER_PX, TOWER_PX)
        # PIL's bilinear on 8-bit pixels (rounded to 8 bits again) vs torch's antialiased bilinear on floats;
        # measured on pixel noise (the worst case) at 8 sizes from 17x90 to 512x512, in normalised units
        # (range 2): mean <= 0.0024, max <= 0.0079 (one 8-bit level, 2/255: the stock side's rounding);
        # exact when no resize is needed
        diff = (ours - stock["pixel_values"]).abs()
        assert diff.mean() < 0.004 and diff.max() < 0.01
        if (h, w) == (TOWER_PX, TOWER_PX):
            assert diff.max() < 1e-5


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(judge: Gemma3Judge, processor: Any) -> None:
    question = "Is it night? Answer with Yes or No."
    text = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    turn = "<bos><start_of_turn>user\n<start_of_image>" + question + "<end_of_turn>\n"
    assert text == turn + "<start_of_turn>model\n"
    assert judge.prompt("Is it night?", "Yes") == text.replace("<start_of_image>", judge.image_sequence)
    stock = processor.apply_chat_template(
        chat(question, Image.fromarray(noise(40, 50))), add_generation_prompt=True, tokenize=True,
        return_dict=True, return_tensors="pt",
    )  # fmt: skip
    ids, attention, target = judge.encode_texts(["Is it night?"], ["Yes"])
    stock_ids = stock["input_ids"][0]
    assert ids[0, : len(stock_ids)].tolist() == stock_ids.tolist()
    assert int((stock_ids == judge.tokenizer.bos_token_id).sum()) == 1  # the template's <bos>, no second one
    assert stock["token_type_ids"][0].tolist() == (stock_ids == judge.image_token_id).long().tolist()
    assert int((ids == judge.image_token_id).sum()) == 4
    assert int(target.sum()) == len(ids[0]) - len(stock_ids)  # everything after the prompt is the answer


def _stock_logprob(
    judge: Gemma3Judge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> Any:
    """The answer's log-probability from the stock path: the processor's chat template with the answer as
    the model's turn, its ids and token types, the stock forward; answer tokens where the ids depart from
    the generation prompt's."""
    question = yes_no(question, answer)
    kwargs: dict[str, Any] = {"tokenize": True, "return_dict": True, "return_tensors": "pt"}
    pil = as_pil(image)
    prompt = processor.apply_chat_template(chat(question, pil), add_generation_prompt=True, **kwargs)
    answered = chat(question, pil, answer)
    inputs = processor.apply_chat_template(answered, continue_final_message=True, **kwargs)
    stock_pixels = inputs["pixel_values"]
    # ours, so that only the model's side is compared
    inputs["pixel_values"] = judge.pixel_values(image[None])
    assert (inputs["pixel_values"] - stock_pixels).abs().max() < 0.01
    logits = judge.model(**inputs).logits[0]
    return answer_logprob_after(logits, inputs["input_ids"][0], prompt["input_ids"][0])


def test_image_tokens_attend_both_ways(judge: Gemma3Judge) -> None:
    """Without the token types the image block would be causal: the scores would differ (so the stock
    comparison above does test the bidirectional mask)."""
    assert two_way_minus_causal(judge, judge.model.model.language_model).abs() > 1e-4


class TestGemma3Family(JudgeFamilyContract):
    judge_class = Gemma3Judge
    missing_preset = ("gemma3-4b", r"google/gemma-3-4b-it is not in the local Hugging Face")
    cached_preset = ("gemma3-4b", "google/gemma-3-4b-it")
    stock_logprob = staticmethod(_stock_logprob)

"""The Idefics3 / SmolVLM judge adapter on tiny models built from configs (a byte-level BPE tokenizer trained
here, nothing downloaded): PIL's resampling is reproduced, its differentiable pixels (the global image,
`do_image_splitting=False`) and prompt ids match the stock `Idefics3Processor`'s, a flat grey image is still
an image, SmolVLM scores like its stock forward, and Idefics3 keeps the family contract
(judge_family_contract.py): stock-forward scores, checkpointing, a teach step, folder and preset loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from judge_family_contract import JudgeFamilyContract, assert_scores_like_the_stock_forward
from judge_tiny import (
    QUESTIONS,
    answer_logprob_after,
    as_pil,
    as_tensor,
    byte_level_bpe,
    chat,
    load_tiny,
    noise,
    yes_no,
)
from PIL import Image

from dualproc_engine.judges.idefics3 import Idefics3Judge, pil_resize

SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<fake_token_around_image>", "<image>",
                  "<end_of_utterance>", "<global-img>"]  # fmt: skip
CHAT_TEMPLATE = (
    "<|begin_of_text|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
"""Idefics3-8B-Llama3's template: "User:<image>{question}<end_of_utterance>\\nAssistant:" (SmolVLM's too)."""
CORPUS = [*QUESTIONS, "User: Assistant: Answer with Yes or No.", "a red line at the top"]
TOWER_PX = 32  # 4 x 4 patches of 8 px, pixel-shuffled 2 x 2 into 4 image tokens


def _tokenizer() -> Any:
    """A byte-level BPE like Llama 3's that adds <|begin_of_text|> by itself, as Llama 3's does."""
    from transformers import PreTrainedTokenizerFast

    tok = byte_level_bpe(CORPUS, SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                   eos_token="<end_of_utterance>", pad_token="<|end_of_text|>",
                                   add_bos_token=True)  # fmt: skip


def _save_tiny(folder: Path, model_type: str) -> Path:
    """A tiny Idefics3 (`idefics3`) or SmolVLM (`smolvlm`) with its tokenizer, image processor (splitting on,
    as the released ones) and chat template, laid out as the Hugging Face repos are."""
    import transformers
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    torch.set_num_threads(1)
    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = {"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
            "max_position_embeddings": 256, "pad_token_id": ids["<|end_of_text|>"],
            "bos_token_id": ids["<|begin_of_text|>"], "eos_token_id": ids["<end_of_utterance>"]}  # fmt: skip
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": TOWER_PX, "patch_size": 8}  # fmt: skip
    if model_type == "idefics3":
        config_class, model_class = transformers.Idefics3Config, transformers.Idefics3ForConditionalGeneration
    else:
        config_class, model_class = transformers.SmolVLMConfig, transformers.SmolVLMForConditionalGeneration
    config = config_class(vision_config=vision, text_config=text, scale_factor=2,
                          image_token_id=ids["<image>"], pad_token_id=ids["<|end_of_text|>"])  # fmt: skip
    torch.manual_seed(0)
    model_class(config).save_pretrained(str(folder))
    # the released processors' defaults (Lanczos, mean and std 0.5, splitting on), at this tower's size
    image_processor = Idefics3ImageProcessorPil(size={"longest_edge": 4 * TOWER_PX},
                                                max_image_size={"longest_edge": TOWER_PX})  # fmt: skip
    processor = transformers.Idefics3Processor(image_processor=image_processor, tokenizer=tokenizer,
                                               image_seq_len=4, chat_template=CHAT_TEMPLATE)  # fmt: skip
    processor.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("idefics3"), "idefics3")


def test_pil_resampling_is_reproduced() -> None:
    # one axis (shrink, grow), both axes (shrink, grow): the shapes the judge meets, and others
    shapes = (((90, 17), (30, 17)), ((17, 90), (17, 130)), ((60, 60), (30, 30)), ((40, 50), (32, 32)),
              ((20, 24), (64, 70)), ((32, 32), (128, 128)))  # fmt: skip
    for resample in (1, 2, 3):  # Lanczos, bilinear, bicubic
        for (h, w), size in shapes:
            pixels = noise(h, w)
            stock = Image.fromarray(pixels).resize(size[::-1], resample=resample)
            ours = pil_resize(as_tensor(pixels), size, resample)
            # PIL rounds to 8 bits after each pass: measured on pixel noise, mean <= 0.32, max <= 1.17
            # levels (of 255), and <= 0.5 (the last rounding only) when one axis changes
            diff = (ours - as_tensor(np.asarray(stock))).abs() * 255
            assert diff.mean() < 0.4 and diff.max() < 1.5
            if h == size[0] or w == size[1]:
                assert diff.max() <= 0.5 + 1e-3


def test_pixels_match_the_stock_processor_without_splitting(judge: Idefics3Judge, processor: Any) -> None:
    from transformers.models.idefics3.image_processing_pil_idefics3 import get_resize_output_image_size

    from dualproc_engine.judges.idefics3 import longest_edge_size

    assert processor.image_processor.do_image_splitting  # as released; the judge shows the global image only
    for h, w in ((40, 50), (50, 40), (17, 90), (90, 17), (33, 31), (512, 512)):
        stock_size = get_resize_output_image_size(np.zeros((3, h, w)), resolution_max_side=4 * TOWER_PX)
        assert longest_edge_size(h, w, 4 * TOWER_PX) == stock_size
    # a square, shrink, grow, a portrait, a very wide one
    for h, w in ((32, 32), (40, 50), (20, 24), (100, 75), (17, 90)):
        pixels = noise(h, w)
        stock = processor.image_processor(
            images=Image.fromarray(pixels), do_image_splitting=False, return_tensors="pt"
        )
        assert stock["pixel_values"].shape == (1, 1, 3, TOWER_PX, TOWER_PX)
        assert bool(stock["pixel_attention_mask"].all())  # one image: nothing padded
        ours = judge.pixel_values(as_tensor(pixels))
        # two Lanczos resizes (longest side to 128, then 32 x 32), each PIL pass rounded to 8 bits; measured
        # on pixel noise (the worst case) at 9 sizes from 17x90 to 512x512, in normalised units (range 2):
        # mean <= 0.0028, max <= 0.0104 (1.3 levels of 255); at the released sizes (1456 then 364 px) and
        # 512 px: mean 0.0022, max 0.0098
        diff = (ours - stock["pixel_values"][:, 0]).abs()
        assert diff.mean() < 0.004 and diff.max() < 0.015


def _stock_inputs(processor: Any, text: str, image: Image.Image) -> Any:
    """The processor's model inputs for a rendered chat, as its `apply_chat_template(tokenize=True)` makes
    them (no second <|begin_of_text|>), the image not split."""
    return processor(text=text, images=[image], do_image_splitting=False, add_special_tokens=False,
                     return_tensors="pt")  # fmt: skip


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(
    judge: Idefics3Judge, processor: Any
) -> None:
    question = "Is it night? Answer with Yes or No."
    text = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    assert text == f"<|begin_of_text|>User:<image>{question}<end_of_utterance>\nAssistant:"
    assert judge.answer_separator == " "  # the template writes "Assistant: Yes"
    assert judge.prompt("Is it night?", "Yes") == text.replace("<image>", judge.image_sequence)
    stock = _stock_inputs(processor, text, Image.fromarray(noise(40, 50)))["input_ids"][0]
    ids, _, target = judge.encode_texts(["Is it night?"], ["Yes"])
    assert ids[0, : len(stock)].tolist() == stock.tolist()
    assert int((stock == judge.tokenizer.bos_token_id).sum()) == 1
    assert int((ids == judge.image_token_id).sum()) == 4
    assert int(target.sum()) == len(ids[0]) - len(stock)  # everything after the prompt is the answer


def _stock_logprob(
    judge: Idefics3Judge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> Any:
    """The answer's log-probability from the stock path: the chat template with the answer as the
    assistant's turn, the processor's ids, the stock forward; answer tokens where the ids depart from the
    generation prompt's."""
    question = yes_no(question, answer)
    pil = as_pil(image)
    prompt = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    full = processor.apply_chat_template(chat(question, answer=answer), continue_final_message=True)
    prompt_ids = _stock_inputs(processor, prompt, pil)["input_ids"][0]
    inputs = _stock_inputs(processor, full, pil)
    # ours, so that only the model's side is compared
    inputs["pixel_values"] = judge.pixel_values(image[None])[:, None]
    logits = judge.model(**inputs).logits[0]
    return answer_logprob_after(logits, inputs["input_ids"][0], prompt_ids)


def test_a_flat_grey_image_is_still_an_image(judge: Idefics3Judge) -> None:
    """Normalised to all zeros, it would be dropped as batch padding by the stock get_image_features."""
    assert judge.logprob(torch.full((1, 3, 32, 32), 0.5), QUESTIONS[:1], ["Yes"]).isfinite().all()


def test_smolvlm_loads_and_scores_like_its_stock_forward(
    tmp_path: Path, judge: Idefics3Judge, processor: Any
) -> None:
    smol = load_tiny(_save_tiny(tmp_path, "smolvlm"), Idefics3Judge)
    assert type(smol.model).__name__ == "SmolVLMForConditionalGeneration"
    # same tokenizer and template: the Idefics3 processor's ids are SmolVLM's
    assert_scores_like_the_stock_forward(smol, processor, _stock_logprob)


class TestIdefics3Family(JudgeFamilyContract):
    judge_class = Idefics3Judge
    missing_preset = ("smolvlm-2b", r"HuggingFaceTB/SmolVLM-Instruct is not in the local Hugging")
    cached_preset = ("idefics3-8b", "HuggingFaceM4/Idefics3-8B-Llama3")
    stock_logprob = staticmethod(_stock_logprob)

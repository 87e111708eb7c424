"""The Idefics2 judge adapter on tiny models built from configs (a Mistral-style BPE tokenizer trained here,
nothing downloaded): its size rule is the stock processor's, its differentiable pixels and
pixel_attention_mask match the stock `Idefics2ImageProcessor`'s (PIL backend) with and without
`do_image_splitting` (padded sub-images), its prompt ids match `Idefics2Processor`'s, a flat grey image is
still an image, a model without splitting scores like its stock forward, and the family contract
(judge_family_contract.py) holds for a model that splits, as idefics2-8b does: stock-forward scores with
gradients and multi-token answers, checkpointing, a teach step, folder and preset loading."""

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
    chat,
    load_tiny,
    metaspace_bpe,
    noise,
    yes_no,
)
from PIL import Image

from dualproc_engine.judges.idefics2 import Idefics2Judge, resize_size

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<fake_token_around_image>", "<image>", "<end_of_utterance>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{message['role'].capitalize()}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
"""idefics2-8b's template: "User:<image>{question}<end_of_utterance>\\nAssistant:" (no <s>: the tokenizer
adds it)."""
CORPUS = [*QUESTIONS, "User:\nAssistant:", "Answer with Yes or No.", "a red line at the top"]
PATCH_PX = 8
SIZE = {"shortest_edge": 24, "longest_edge": 48}
"""The released 378 and 980 px (patches of 14 px), scaled to 8 px patches."""
LATENTS = 4
"""The perceiver's latents, the image tokens per (sub-)image (64 in the released model)."""


def _tokenizer() -> Any:
    """A BPE like Mistral's ("▁" for spaces and before the text, byte fallback, <s> first)."""
    from transformers import LlamaTokenizer

    tok = metaspace_bpe(CORPUS, SPECIAL_TOKENS, vocab_size=250, prepend=True)
    return LlamaTokenizer(tokenizer_object=tok, add_bos_token=True, add_eos_token=False, pad_token="<unk>")


def _save_tiny(folder: Path, splitting: bool = True) -> Path:
    """A tiny Idefics2 with its tokenizer, image processor (idefics2-8b's settings, at this tower's scale;
    `splitting` on as there, off as in idefics2-8b-base) and chat template, laid out as the Hugging Face repo
    is."""
    import transformers
    from transformers.models.idefics2.image_processing_pil_idefics2 import Idefics2ImageProcessorPil

    torch.set_num_threads(1)
    tokenizer = _tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = {"model_type": "mistral", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
            "max_position_embeddings": 512, "pad_token_id": ids["<unk>"], "bos_token_id": ids["<s>"],
            "eos_token_id": ids["</s>"]}  # fmt: skip
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": SIZE["longest_edge"], "patch_size": PATCH_PX}  # fmt: skip
    perceiver = {"hidden_size": 32, "resampler_n_latents": LATENTS, "resampler_depth": 2,
                 "resampler_n_heads": 2, "resampler_head_dim": 8, "num_key_value_heads": 1,
                 "initializer_range": 0.2}  # fmt: skip
    config = transformers.Idefics2Config(vision_config=vision, text_config=text, perceiver_config=perceiver,
                                         image_token_id=ids["<image>"])  # fmt: skip
    torch.manual_seed(0)
    model = transformers.Idefics2ForConditionalGeneration(config)
    # the latents start as ones (every image token alike, the image a small change to them); trained ones
    # differ, so that the image matters here as in the released model
    torch.nn.init.normal_(model.model.connector.perceiver_resampler.latents)
    model.save_pretrained(str(folder))
    # bilinear, mean and std 0.5, padding on, as released
    image_processor = Idefics2ImageProcessorPil(size=SIZE, image_mean=[0.5] * 3, image_std=[0.5] * 3,
                                                do_image_splitting=splitting)  # fmt: skip
    processor = transformers.Idefics2Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=LATENTS,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As idefics2-8b: the image split into four quarters and itself."""
    return _save_tiny(tmp_path_factory.mktemp("idefics2"))


@pytest.fixture(scope="module")
def whole_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As idefics2-8b-base and the processor class's default: the whole image only."""
    return _save_tiny(tmp_path_factory.mktemp("idefics2-whole"), splitting=False)


def test_the_size_rule_is_the_processors() -> None:
    from transformers.image_utils import SizeDict
    from transformers.models.idefics2.image_processing_pil_idefics2 import get_resize_output_image_size

    released = {"shortest_edge": 378, "longest_edge": 980}
    for size in (SIZE, released):
        for h, w in ((40, 50), (50, 40), (17, 90), (90, 17), (33, 31), (10, 10), (512, 512), (512, 768),
                     (1024, 1024), (2000, 300), (979, 981)):  # fmt: skip
            stock = get_resize_output_image_size(np.zeros((3, h, w)), SizeDict(**size))
            assert resize_size(h, w, size) == stock
    assert resize_size(512, 512, released) == (512, 512)  # a 512 px generator image is shown as it is


def _assert_pixels_match(judge: Idefics2Judge, processor: Any, h: int, w: int) -> None:
    pixels = noise(h, w)
    stock = processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")
    ours, mask = judge.preprocess(as_tensor(pixels))
    assert ours.shape == stock["pixel_values"].shape
    assert torch.equal(mask, stock["pixel_attention_mask"])
    # PIL's bilinear, each pass rounded to 8 bits: measured on pixel noise (the worst case) at these sizes,
    # with and without splitting, in normalised units (range 2): mean <= 0.0027, max <= 0.0079 (one level of
    # 255); at the released 378 / 980 px from 256 to 1024 x 1536 px: mean <= 0.0024, max <= 0.0079, and 0
    # for 512 and 512 x 768 px without splitting (nothing is resized)
    diff = (ours - stock["pixel_values"]).abs()
    assert diff.mean() < 0.004 and diff.max() < 0.01, (h, w, diff.mean(), diff.max())


SHAPES = ((40, 50), (50, 40), (17, 90), (90, 17), (33, 31), (10, 10), (24, 24), (100, 75), (64, 64))
"""Shrunk by the longest side (wide, tall, very wide, very tall), grown to the shortest side, as it is,
both."""


def test_pixels_and_mask_match_the_stock_processor_with_splitting(
    judge: Idefics2Judge, processor: Any
) -> None:
    """Four quarters and the whole image, of different sizes: padded, the mask marks the padding."""
    assert processor.image_processor.do_image_splitting  # as idefics2-8b
    for h, w in SHAPES:
        _assert_pixels_match(judge, processor, h, w)
    _, mask = judge.preprocess(torch.rand(1, 3, 30, 50))
    assert mask.shape == (1, 5, 28, 48) and not bool(mask.all())  # quarters (24, 25) padded to (28, 48)


def test_pixels_and_mask_match_the_stock_processor_without_splitting(whole_dir: Path) -> None:
    from transformers import AutoProcessor

    judge = load_tiny(whole_dir, Idefics2Judge)
    processor = AutoProcessor.from_pretrained(str(whole_dir))
    assert not processor.image_processor.do_image_splitting
    for h, w in SHAPES:
        _assert_pixels_match(judge, processor, h, w)


def _stock_inputs(processor: Any, text: str, image: Image.Image) -> Any:
    return processor(text=text, images=[image], return_tensors="pt")


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(
    judge: Idefics2Judge, processor: Any, whole_dir: Path
) -> None:
    from transformers import AutoProcessor

    question = "Is it night? Answer with Yes or No."
    text = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    assert text == f"User:<image>{question}<end_of_utterance>\nAssistant:"
    assert judge.answer_separator == " "  # the template writes "Assistant: Yes"
    # the processor's spacing: a space after the closing fake token, before the question
    assert "<image><fake_token_around_image> Is it night?" in judge.prompt("Is it night?", "Yes")
    image = Image.fromarray(noise(40, 50))
    for folder, tokens in ((None, 5 * LATENTS), (whole_dir, LATENTS)):
        ours = judge if folder is None else load_tiny(folder, Idefics2Judge)
        stock_processor = processor if folder is None else AutoProcessor.from_pretrained(str(folder))
        stock = _stock_inputs(stock_processor, text, image)["input_ids"][0]
        ids, _, target = ours.encode_texts(["Is it night?"], ["Yes"])
        assert ids[0, : len(stock)].tolist() == stock.tolist()
        assert int((stock == ours.tokenizer.bos_token_id).sum()) == 1
        assert int((ids == ours.image_token_id).sum()) == tokens
        assert int(target.sum()) == len(ids[0]) - len(stock)  # everything after the prompt is the answer


def _stock_logprob(
    judge: Idefics2Judge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> Any:
    """The answer's log-probability from the stock path: the chat template with the answer as the
    assistant's turn, the processor's ids and pixel_attention_mask, the stock forward; answer tokens where
    the ids depart from the generation prompt's."""
    question = yes_no(question, answer)
    pil = as_pil(image)
    prompt = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    full = processor.apply_chat_template(chat(question, answer=answer), continue_final_message=True)
    prompt_ids = _stock_inputs(processor, prompt, pil)["input_ids"][0]
    inputs = _stock_inputs(processor, full, pil)
    # our pixels, so that only the model's side is compared (the pixels are compared above)
    pixels, mask = judge.preprocess(image[None])
    assert torch.equal(mask, inputs["pixel_attention_mask"])
    inputs["pixel_values"] = pixels
    logits = judge.model(**inputs).logits[0]
    return answer_logprob_after(logits, inputs["input_ids"][0], prompt_ids)


def test_a_flat_grey_image_is_still_an_image(judge: Idefics2Judge) -> None:
    """Normalised to all zeros, it would be dropped as batch padding by the stock get_image_features."""
    assert judge.logprob(torch.full((1, 3, 32, 32), 0.5), QUESTIONS[:1], ["Yes"]).isfinite().all()


def test_without_splitting_it_scores_like_the_stock_forward(whole_dir: Path) -> None:
    from transformers import AutoProcessor

    judge = load_tiny(whole_dir, Idefics2Judge)
    assert_scores_like_the_stock_forward(judge, AutoProcessor.from_pretrained(str(whole_dir)), _stock_logprob)


class TestIdefics2Family(JudgeFamilyContract):
    judge_class = Idefics2Judge
    missing_preset = ("idefics2-8b", r"HuggingFaceM4/idefics2-8b is not in the local Hugging")
    cached_preset = ("idefics2-8b", "HuggingFaceM4/idefics2-8b")
    stock_logprob = staticmethod(_stock_logprob)

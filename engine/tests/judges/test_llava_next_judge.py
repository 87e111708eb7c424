"""The LLaVA-NeXT judge adapter on a tiny LLaVA-NeXT built from configs (a Llama-style BPE tokenizer trained
here, nothing downloaded): its differentiable anyres tiles, image sizes and prompt ids match the stock
`LlavaNextProcessor`'s for square, wide, tall, small and exactly-fitting images, questions tokenized once are
widened per image size, and the family contract (judge_family_contract.py) holds: its scores match the stock
model's forward, checkpointing, a teach step, folder and preset loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from judge_family_contract import JudgeFamilyContract
from judge_tiny import (
    CLIP_MEAN,
    CLIP_STD,
    QUESTIONS,
    answer_logprob_after,
    as_pil,
    as_tensor,
    chat,
    metaspace_bpe,
    noise,
    yes_no,
)
from PIL import Image

from dualproc_engine.judges.llava_next import LlavaNextJudge, widen_image_token

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<image>", "<pad>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' }}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}{{ '<image>\n' }}{% endif %}{% endfor %}"
    "{% for c in message['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{{ ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'][0]['text'] + '</s>' }}{% endif %}"
    "{% endfor %}"
)
"""The shape of llava-v1.6-mistral-7b-hf's template: "[INST] <image>\\n{question} [/INST]", the answer after
a space."""
CORPUS = [*QUESTIONS, "[INST] [/INST]", "Answer with Yes or No.", "a red line at the top"]
TILE_PX = 32  # 4 x 4 patches of 8 px per tile
PINPOINTS = [[32, 64], [64, 32], [64, 64], [96, 32], [32, 96]]  # the released ones, with 32 px tiles
SIZES = ((48, 48), (40, 50), (30, 90), (17, 90), (20, 24), (64, 64), (32, 32))
"""Square (a 2 x 2 grid), padded rows, wide ones (a 1 x 3 grid), grown, an exact pinpoint (64 x 64), the
tile's own size (a 1 x 2 grid, half of it padding)."""
TALL = ((100, 30), (90, 17))
"""Tall images (a 3 x 1 grid), where Pillow runs its vertical pass first (see the tiles test)."""


def _tokenizer() -> Any:
    """A BPE like Llama's and Mistral's ("▁" for spaces and before the text, byte fallback, <s> first)."""
    from transformers import LlamaTokenizer

    tok = metaspace_bpe(CORPUS, SPECIAL_TOKENS, vocab_size=250, prepend=True)
    return LlamaTokenizer(tokenizer_object=tok, add_bos_token=True, add_eos_token=False, pad_token="<pad>")


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextProcessor,
    )
    from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("llava-next")
    tokenizer = _tokenizer()
    # the released processor's settings, at 32 px: shortest edge and centre crop to the tile, bicubic
    image_processor = LlavaNextImageProcessorPil(
        size={"shortest_edge": TILE_PX}, crop_size={"height": TILE_PX, "width": TILE_PX}, resample=3,
        image_mean=CLIP_MEAN, image_std=CLIP_STD, image_grid_pinpoints=PINPOINTS,
    )  # fmt: skip
    processor = LlavaNextProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
        vision_feature_select_strategy="default", num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE,
    )  # fmt: skip
    config = LlavaNextConfig(
        vision_config=CLIPVisionConfig(image_size=TILE_PX, patch_size=8, hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=2),
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                                max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), image_grid_pinpoints=PINPOINTS,
        vision_feature_select_strategy="default", vision_feature_layer=-2,
    )  # fmt: skip
    torch.manual_seed(0)
    LlavaNextForConditionalGeneration(config).save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


def test_tiles_match_the_stock_processor(judge: LlavaNextJudge, processor: Any) -> None:
    for h, w in SIZES + TALL:
        pixels = noise(h, w)
        stock = processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")
        ours, sizes = judge.pixel_values(as_tensor(pixels))
        assert ours.shape == stock["pixel_values"].shape
        assert sizes.tolist() == stock["image_sizes"].tolist() == [[h, w]]
        # PIL's bicubic weights are reproduced exactly, the padding is exact; what is left is the stock
        # side's rounding to 8 bits after each of PIL's passes (one level is 0.0146 in these normalised
        # units, range about 7.5). Measured on pixel noise (the worst case) at these sizes, and at 512 x 512,
        # 512 x 768 and 1024 x 1024 on the released 336 px processor: mean <= 0.0046, max <= 0.0163
        # (about one level); exact where no resize is needed
        diff = (ours - stock["pixel_values"]).abs()
        if (h, w) in TALL:
            # Pillow 13 runs the vertical pass first for some shapes (here: the height shrinks into a tall
            # grid); the passes' 8-bit clipping then differs on noise. Measured: mean <= 0.0057, max <= 0.23
            assert diff.mean() < 0.008 and diff.max() < 0.3, (h, w)
            continue
        assert diff.mean() < 0.006 and diff.max() < 0.02, (h, w)
        if (h, w) == (64, 64):  # the grid needs no resize: only the base tile is resized
            assert diff[:, 1:].max() < 1e-5
        if (h, w) == (TILE_PX, TILE_PX):  # nothing is resized, only padded
            assert diff.max() < 1e-5


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(
    judge: LlavaNextJudge, processor: Any
) -> None:
    question = "Is it night? Answer with Yes or No."
    text = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    assert text == "[INST] <image>\n" + question + " [/INST]"
    assert judge.prompt("Is it night?", "Yes") == text
    ids, attention, target = judge.encode_texts(["Is it night?"], ["Yes"])
    for h, w in SIZES + TALL:
        stock = processor(images=Image.fromarray(noise(h, w)), text=text, return_tensors="pt")
        features = judge.encode_images(as_tensor(noise(h, w)))
        # the image token count follows the image's size, as the processor counts it
        n_tokens = int((stock["input_ids"] == judge.image_token_id).sum())
        assert features.shape[1] == n_tokens
        widened, _, wide_target = widen_image_token(ids, attention, target, judge.image_token_id, n_tokens)
        stock_ids = stock["input_ids"][0]
        assert widened[0, : len(stock_ids)].tolist() == stock_ids.tolist()
        assert int(wide_target.sum()) == widened.shape[1] - len(stock_ids)  # after the prompt: the answer
    assert int((stock_ids == judge.tokenizer.bos_token_id).sum()) == 1


def _stock_logprob(
    judge: LlavaNextJudge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> torch.Tensor:
    """The answer's log-probability from the stock path: the processor's chat template with the answer as
    the model's turn, its ids, tiles and image sizes, the stock forward; answer tokens where the ids depart
    from the generation prompt's."""
    question = yes_no(question, answer)
    pil = as_pil(image)
    generation_prompt = processor.apply_chat_template(chat(question), add_generation_prompt=True)
    prompt = processor(images=pil, text=generation_prompt, return_tensors="pt")
    answered = processor.apply_chat_template(chat(question, answer=answer), continue_final_message=True)
    inputs = processor(images=pil, text=answered, return_tensors="pt")
    stock_pixels = inputs["pixel_values"]
    inputs["pixel_values"] = judge.pixel_values(image[None])[0]  # ours, so that only the model is compared
    assert (inputs["pixel_values"] - stock_pixels).abs().max() < 0.04  # PIL's input is rounded to 8 bits
    logits = judge.model(**inputs).logits[0]
    return answer_logprob_after(logits, inputs["input_ids"][0], prompt["input_ids"][0])


def test_a_batch_of_questions_shares_one_vision_pass(judge: LlavaNextJudge) -> None:
    """teach tokenizes its questions once, before any image, then widens them to each batch's image size."""
    ids, attention, target = judge.encode_texts(QUESTIONS, ["Yes", "No", "a red line"])
    assert int((ids == judge.image_token_id).sum()) == len(QUESTIONS)  # one <image> each, until widened
    for size in ((24, 40), (48, 48)):
        images = torch.rand(2, 3, *size)
        features = judge.encode_images(images)
        shared = judge.logprob_from_features(features, ids, attention, target)
        torch.testing.assert_close(shared, judge.logprob(images, QUESTIONS, ["Yes", "No", "a red line"]))


class TestLlavaNextFamily(JudgeFamilyContract):
    judge_class = LlavaNextJudge
    missing_preset = ("llava-next-7b", r"llava-hf/llava-v1.6-mistral-7b-hf is not in the local")
    cached_preset = ("llava-next-7b", "llava-hf/llava-v1.6-mistral-7b-hf")
    stock_logprob = staticmethod(_stock_logprob)

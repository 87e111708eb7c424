"""The PaliGemma judge adapter on a tiny PaliGemma and a tiny PaliGemma 2 built from configs (a Gemma-style
BPE tokenizer trained here, nothing downloaded): its differentiable pixels and prompt ids match the stock
`PaliGemmaProcessor`'s, its prefix attends both ways, and the family contract (judge_family_contract.py)
holds for both: its scores match the stock model's forward (the block mask, Gemma 2's soft-capping),
checkpointing, a teach step, folder and preset loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from judge_family_contract import JudgeFamilyContract
from judge_tiny import (
    QUESTIONS,
    as_pil,
    as_tensor,
    metaspace_bpe,
    next_token_logprob,
    noise,
    two_way_minus_causal,
    yes_no,
)
from PIL import Image

from dualproc_engine.judges.paligemma import PaliGemmaJudge

SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
CORPUS = [*QUESTIONS, "Answer with Yes or No.", "a red line at the top", "\n"]
TOWER_PX = 32  # 4 x 4 patches of 8 px: 16 image tokens
IMAGE_TOKENS = 16


def _tokenizer() -> Any:
    """A BPE like Gemma's (spaces as "▁", byte fallback); the processor adds its <image>, <loc>, <seg>."""
    from transformers import GemmaTokenizer

    tok = metaspace_bpe(CORPUS, SPECIAL_TOKENS, vocab_size=200, prepend=False)
    return GemmaTokenizer(
        tokenizer_object=tok, add_bos_token=True, extra_special_tokens={"image_token": "<image>"}
    )


def _save_tiny(folder: Path, text_type: str) -> Path:
    """A tiny PaliGemma (`gemma` text) or PaliGemma 2 (`gemma2` text) and its processor, laid out as the
    repos are."""
    from transformers import PaliGemmaConfig, PaliGemmaForConditionalGeneration, PaliGemmaProcessor
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    torch.set_num_threads(1)
    # the released preprocessor: bicubic, mean and std 0.5, image_seq_length read by the processor
    image_processor = SiglipImageProcessorPil(size={"height": TOWER_PX, "width": TOWER_PX}, resample=3,
                                              image_mean=[0.5] * 3, image_std=[0.5] * 3,
                                              image_seq_length=IMAGE_TOKENS)  # fmt: skip
    processor = PaliGemmaProcessor(image_processor=image_processor, tokenizer=_tokenizer())
    tokenizer = processor.tokenizer
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text: dict[str, Any] = {"model_type": text_type, "vocab_size": len(tokenizer), "hidden_size": 32,
                            "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                            "num_key_value_heads": 1, "head_dim": 16, "max_position_embeddings": 256,
                            "pad_token_id": ids["<pad>"], "eos_token_id": ids["<eos>"],
                            "bos_token_id": ids["<bos>"]}  # fmt: skip
    if text_type == "gemma2":
        # a sliding-window layer (window 8, shorter than the prompts) and a global one, and a soft cap low
        # enough to change these tiny logits, so the stock comparison checks both
        text.update(sliding_window=8, layer_types=["sliding_attention", "full_attention"],
                    final_logit_softcapping=0.5, query_pre_attn_scalar=16)  # fmt: skip
    vision = {"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": TOWER_PX, "patch_size": 8,
              "vision_use_head": False}  # fmt: skip
    config = PaliGemmaConfig(text_config=text, vision_config=vision, image_token_index=ids["<image>"],
                             projection_dim=32, hidden_size=32, vocab_size=len(tokenizer))  # fmt: skip
    torch.manual_seed(0)
    model = PaliGemmaForConditionalGeneration(config)
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module", params=["gemma", "gemma2"])
def judge_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp(f"paligemma-{request.param}"), request.param)


def test_pixels_match_the_stock_processor(judge: PaliGemmaJudge, processor: Any) -> None:
    # the tower's own size (no resize), shrink, grow, a portrait, the generator's 512 px
    for h, w in ((32, 32), (40, 50), (20, 24), (100, 75), (512, 512)):
        pixels = noise(h, w)
        stock = processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")["pixel_values"]
        ours = judge.pixel_values(as_tensor(pixels))
        assert ours.shape == stock.shape == (1, 3, TOWER_PX, TOWER_PX)
        # PIL's bicubic weights are reproduced exactly; what is left is the stock side's rounding to 8 bits
        # after each of PIL's two passes (one level is 2/255 = 0.0078 in these normalised units, range 2).
        # Measured on pixel noise (the worst case) at 8 sizes from 17x90 to 512x512: mean <= 0.0025, max <=
        # 0.0082; exact when no resize is needed
        diff = (ours - stock).abs()
        assert diff.mean() < 0.003 and diff.max() < 0.01
        if (h, w) == (TOWER_PX, TOWER_PX):
            assert diff.max() < 1e-5
    # a tall strip: Pillow 13 runs its vertical pass first for such shapes, so the two passes' 8-bit clipping
    # differs on noise. Measured at 90x17 and 100x30: mean <= 0.0032, max <= 0.066
    pixels = noise(90, 17)
    stock = processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")["pixel_values"]
    diff = (judge.pixel_values(as_tensor(pixels)) - stock).abs()
    assert diff.mean() < 0.005 and diff.max() < 0.1


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(
    judge: PaliGemmaJudge, processor: Any
) -> None:
    image = Image.fromarray(noise(40, 50))
    question = "Is it night? Answer with Yes or No."
    # "<image>" first, as the processor asks; it adds <bos> after the image tokens and "\n" after the text
    stock = processor(images=image, text="<image>" + question, suffix="Yes", return_tensors="pt")
    ids, attention, target = judge.encode_texts(["Is it night?"], ["Yes"])
    stock_ids, types = stock["input_ids"][0], stock["token_type_ids"][0]
    # the processor ends a training suffix with <eos>; the judge scores the answer's own tokens
    assert stock_ids[-1] == judge.tokenizer.eos_token_id
    assert ids[0].tolist() == stock_ids[:-1].tolist()
    assert judge.prompt("Is it night?", "Yes") == "<image>" * IMAGE_TOKENS + "<bos>" + question + "\n"
    assert int((ids == judge.image_token_id).sum()) == IMAGE_TOKENS
    # the answer's tokens are exactly the suffix's (token type 1), the prefix is everything before
    answer_positions = torch.nonzero(target[0]).squeeze(1) + 1
    assert answer_positions.tolist() == torch.nonzero(types[:-1]).squeeze(1).tolist()
    assert attention.sum() == len(stock_ids) - 1


def _stock_logprob(
    judge: PaliGemmaJudge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> torch.Tensor:
    """The answer's log-probability from the stock path: the processor's prefix and suffix, its token types,
    the stock forward; the answer's tokens are the suffix's, less the <eos> the processor appends."""
    question = yes_no(question, answer)
    inputs = processor(images=as_pil(image), text="<image>" + question, suffix=answer, return_tensors="pt")
    inputs.pop("labels")
    stock_pixels = inputs["pixel_values"]
    inputs["pixel_values"] = judge.pixel_values(image[None])  # ours, so that only the model is compared
    assert (inputs["pixel_values"] - stock_pixels).abs().max() < 0.012  # PIL's input is rounded to 8 bits
    ids, types = inputs["input_ids"][0], inputs["token_type_ids"][0]
    logits = judge.model(**inputs).logits[0]
    rows = torch.nonzero(types[:-1]).squeeze(1) - 1  # positions predicting the suffix, <eos> left out
    return next_token_logprob(logits, ids, rows)


def test_the_prefix_attends_both_ways(judge: PaliGemmaJudge) -> None:
    """Without the token types the prefix would be causal: the scores would differ (so the stock comparison
    above does test the block mask)."""
    assert two_way_minus_causal(judge, judge.model.model, judge._soft_cap).abs() > 1e-4


class TestPaliGemmaFamily(JudgeFamilyContract):
    judge_class = PaliGemmaJudge
    missing_preset = ("paligemma2-3b", r"google/paligemma2-3b-pt-224 is not in the local Hugging")
    cached_preset = ("paligemma2-3b", "google/paligemma2-3b-pt-224")
    stock_logprob = staticmethod(_stock_logprob)
    packs_questions = False  # its prefix (image and question) attends both ways: one sequence per question

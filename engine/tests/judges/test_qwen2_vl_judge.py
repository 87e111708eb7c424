"""The Qwen2.5-VL judge adapter on a tiny Qwen2.5-VL built from configs (a byte-level BPE tokenizer trained
here, nothing downloaded): its differentiable patches and prompt ids match the stock processor's, its scores
match the stock model's forward, and a teach step through it changes a LoRA."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from dualproc_engine.judges.qwen2_vl import Qwen2VLJudge

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
QUESTIONS = ["Is it night?", "Is the red line on the horizon?", "Is there a house?"]
CORPUS = [*QUESTIONS, "You are a helpful assistant.", "system user assistant", "Answer with Yes or No.",
          "a red line at the top"]  # fmt: skip


def _tokenizer() -> Any:
    """A byte-level BPE like Qwen's (no unknown tokens; the answer may merge with what precedes it)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(CORPUS, trainer)
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
def qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("qwen2.5-vl"), "qwen2_5_vl")


def _load(folder: Path) -> Qwen2VLJudge:
    from dualproc_engine.judges.load import load_judge

    loaded = load_judge(str(folder))  # by folder, through the one loader ask, teach and eval use
    assert isinstance(loaded, Qwen2VLJudge)
    return loaded


@pytest.fixture(scope="module")
def judge(qwen_dir: Path) -> Qwen2VLJudge:
    return _load(qwen_dir)


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


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _as_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255


def test_patches_match_the_stock_processor(judge: Qwen2VLJudge) -> None:
    # (40, 56): already a multiple of 8, no resize; then shrink, grow, odd sizes, a portrait
    for h, w in ((40, 56), (37, 61), (10, 12), (96, 64), (200, 150)):
        pixels = _image(h, w)
        stock = judge.image_processor(images=Image.fromarray(pixels), return_tensors="pt")
        ours, grid = judge.pixel_values(_as_tensor(pixels))
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
    pixels = _image(37, 61)
    stock = processor(images=Image.fromarray(pixels), text=text, return_tensors="pt")["input_ids"][0]
    features = judge.encode_images(_as_tensor(pixels))
    ids, attention, target = judge.encode_texts(["Is it night?"], ["Yes"])
    wide, _, _, slot = judge.widen_image_pad(ids, attention, target, features.shape[1] * features.shape[2])
    assert wide[0, : len(stock)].tolist() == stock.tolist()
    assert int((slot >= 0).sum()) == int((stock == judge.image_token_id).sum()) == 8 * 14 // 4


def _stock_logprob(
    judge: Qwen2VLJudge, processor: Any, image: torch.Tensor, question: str, answer: str
) -> Any:
    """The answer's log-probability from the stock forward: the processor's ids, the model's own M-RoPE."""
    text = judge.prompt(question, answer) + answer
    pil = Image.fromarray((image.detach().permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    inputs = processor(images=pil, text=text, return_tensors="pt")
    pixels, grid = judge.pixel_values(image[None])  # ours, so that only the model's side is compared
    assert grid.tolist() == inputs["image_grid_thw"].tolist()
    inputs["pixel_values"] = pixels
    logits = judge.model(**inputs).logits[0]
    ids = inputs["input_ids"][0]
    n_answer = len(judge.tokenizer(answer)["input_ids"])  # the BPE merges no answer token with the "\n"
    rows = torch.arange(len(ids) - n_answer - 1, len(ids) - 1)
    return torch.log_softmax(logits[rows].float(), -1).gather(1, ids[rows + 1][:, None]).sum()


def test_scores_equal_the_stock_forward_and_give_gradients(judge: Qwen2VLJudge, processor: Any) -> None:
    images = torch.rand(2, 3, 37, 61, requires_grad=True)
    answers = ["Yes", "a red line", "No"]  # multi-token answers are scored over all their tokens
    scores = judge.logprob(images, QUESTIONS, answers)
    assert scores.shape == (2, 3)
    _, _, target = judge.encode_texts(QUESTIONS, answers)
    assert target.sum(1).tolist()[1] > 1
    for b in range(2):
        for q in range(3):
            stock = _stock_logprob(judge, processor, images[b], QUESTIONS[q], answers[q])
            torch.testing.assert_close(scores[b, q], stock, atol=1e-4, rtol=1e-4)
    pairs = judge.logprob_pairs(images, QUESTIONS[:2], answers[:2])
    torch.testing.assert_close(pairs, torch.stack([scores[0, 0], scores[1, 1]]))
    scores[0].sum().backward()
    assert images.grad is not None and images.grad[0].abs().sum() > 0 and images.grad[1].abs().sum() == 0


def test_a_teach_step_through_it_changes_the_lora(judge: Qwen2VLJudge, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from dualproc_engine.generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
    from dualproc_engine.generators.scenes_text import caption_vocabulary
    from dualproc_engine.teach.loop import teach

    pipe = build_pipeline(EmbeddedConfig(image_size_px=16, block_out_channels=(16, 32), attention_heads=2,
                                         text_hidden_size=16, text_layers=1), seed=0,
                          vocabulary=caption_vocabulary(n_samples=50))  # fmt: skip
    generator = EmbeddedGenerator(copy.deepcopy(pipe))
    recipe = {
        "name": "qwen", "generator": "tiny", "judge": "tiny", "prompts": ["a lake at night"],
        "questions": [{"question": "Is it night?", "answer": "Yes"},
                      {"question": "Is the red line on the horizon?", "answer": "Yes",
                       "visual_prompt": {"kind": "horizon", "y": 0.3}}],
        "eval": {"seeds": [0], "lora_scales": [0, 1.0]},
        "training": {"max_train_steps": 2, "learning_rate": 1e-2, "lora_rank": 4, "lora_alpha": 4,
                     "lora_scale": 1.0, "noise_pool_size": 2, "resolution_px": 16,
                     "checkpointing_steps": 100, "gradient_checkpointing": True},
    }  # fmt: skip
    teach(recipe, tmp_path, generator=generator, judge=judge)
    lora = load_file(str(tmp_path / "pytorch_lora_weights.safetensors"))
    assert any(v.abs().sum() > 0 for k, v in lora.items() if "lora_B" in k)  # B starts at zero; it moved


def test_presets_route_here_and_say_how_to_get_missing_weights(
    qwen_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from dualproc_engine.errors import ModelMissingError
    from dualproc_engine.judges.load import load_judge

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing is downloaded, ever
    with pytest.raises(
        ModelMissingError, match=r"Qwen/Qwen2.5-VL-3B-Instruct is not in the local Hugging Face"
    ):
        load_judge("qwen2.5-vl-3b")
    snapshot = tmp_path / "models--Qwen--Qwen2.5-VL-7B-Instruct" / "snapshots" / "0123abc"
    shutil.copytree(qwen_dir, snapshot)  # the tiny model standing in for the real one in the cache
    assert isinstance(load_judge("qwen2.5-vl-7b"), Qwen2VLJudge)


def test_qwen2_vl_loads_and_scores_like_its_stock_forward(tmp_path: Path) -> None:
    from transformers import Qwen2VLProcessor

    judge = _load(_save_tiny(tmp_path, "qwen2_vl"))
    processor = _stock_processor(judge, Qwen2VLProcessor)
    images = torch.rand(1, 3, 30, 50, requires_grad=True)
    scores = judge.logprob(images, QUESTIONS[:2], ["Yes", "a red line"])
    for q, answer in enumerate(["Yes", "a red line"]):
        stock = _stock_logprob(judge, processor, images[0], QUESTIONS[q], answer)
        torch.testing.assert_close(scores[0, q], stock, atol=1e-4, rtol=1e-4)
    scores.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_gradient_checkpointing_gives_the_same_gradients(judge: Qwen2VLJudge) -> None:
    from dualproc_engine.teach.adapters import judge_checkpointing

    images = torch.rand(1, 3, 24, 40)
    grads = []
    for enabled in (False, True):
        x = images.clone().requires_grad_(True)
        with judge_checkpointing(judge, enabled):
            score = judge.logprob(x, QUESTIONS[:1], ["Yes"]).sum()
        score.backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1])
    assert not judge.model.is_activation_checkpointing  # switched off again

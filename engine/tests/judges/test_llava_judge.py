"""The LLaVA-1.5 judge adapter on a tiny LLaVA built from configs (a local tokenizer, nothing downloaded):
its differentiable preprocessing and prompt match the stock processor, its scores match the stock model's
forward, and a teach step through it changes a LoRA."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
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
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
QUESTIONS = ["Is it night?", "Is the red line on the horizon?", "Is there a house?"]


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    vocabulary = sorted(
        {w for q in QUESTIONS for w in words(q)} | set(words("USER ASSISTANT: Answer with Yes or No."))
    )
    tokenizer = build_tokenizer(vocabulary)
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
def judge(llava_dir: Path) -> LlavaJudge:
    return LlavaJudge.from_pretrained(llava_dir)


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_preprocessing_matches_the_stock_processor(judge: LlavaJudge) -> None:
    for h, w in ((40, 48), (32, 32), (96, 64)):
        pixels = _image(h, w)
        stock = judge.processor.image_processor(images=Image.fromarray(pixels), return_tensors="pt")[
            "pixel_values"
        ]
        ours = judge.pixel_values(torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255)
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
    stock_ids = judge.processor(images=Image.fromarray(_image(32, 32)), text=text, return_tensors="pt")[
        "input_ids"
    ][0]
    ours, _, _ = judge.encode_texts(["Is it night?"], ["Yes"])
    assert text == "USER: <image>\nIs it night? Answer with Yes or No. ASSISTANT:"
    assert ours[0, : len(stock_ids)].tolist() == stock_ids.tolist()


def test_scores_equal_the_stock_forward_and_give_gradients(judge: LlavaJudge) -> None:
    images = torch.rand(2, 3, 48, 40, requires_grad=True)
    scores = judge.logprob(images, QUESTIONS, ["Yes", "No", "Yes"])
    assert scores.shape == (2, 3)
    ids, attention, target = judge.encode_texts(QUESTIONS[:1], ["Yes"])
    logits = judge.model(
        input_ids=ids, attention_mask=attention, pixel_values=judge.pixel_values(images[1:])
    ).logits
    rows = target[0].nonzero().squeeze(1)
    stock = torch.log_softmax(logits[0, rows].float(), -1).gather(1, ids[0, rows + 1][:, None]).sum()
    torch.testing.assert_close(scores[1, 0], stock, atol=1e-4, rtol=1e-4)
    scores[0].sum().backward()
    assert images.grad is not None and images.grad[0].abs().sum() > 0 and images.grad[1].abs().sum() == 0


def test_a_teach_step_through_it_changes_the_lora(judge: LlavaJudge, tmp_path: Path) -> None:
    from dualproc_engine.generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
    from dualproc_engine.generators.scenes_text import caption_vocabulary
    from dualproc_engine.teach.loop import teach

    pipe = build_pipeline(EmbeddedConfig(image_size_px=16, block_out_channels=(16, 32), attention_heads=2,
                                         text_hidden_size=16, text_layers=1), seed=0,
                          vocabulary=caption_vocabulary(n_samples=50))  # fmt: skip
    generator = EmbeddedGenerator(copy.deepcopy(pipe))
    recipe = {
        "name": "llava", "generator": "tiny", "judge": "tiny", "prompts": ["a lake at night"],
        "questions": [{"question": "Is it night?", "answer": "Yes"}],
        "eval": {"seeds": [0], "lora_scales": [0, 1.0]},
        "training": {"max_train_steps": 2, "learning_rate": 1e-2, "lora_rank": 4, "lora_alpha": 4,
                     "lora_scale": 1.0, "noise_pool_size": 2, "resolution_px": 16,
                     "checkpointing_steps": 100},
    }  # fmt: skip
    teach(recipe, tmp_path, generator=generator, judge=judge)
    from safetensors.torch import load_file

    lora = load_file(str(tmp_path / "pytorch_lora_weights.safetensors"))
    assert any(v.abs().sum() > 0 for k, v in lora.items() if "lora_B" in k)  # B starts at zero; it moved


def test_loads_by_folder_and_says_how_to_get_a_missing_preset(
    llava_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dualproc_engine.errors import ModelMissingError, UserError
    from dualproc_engine.teach.adapters import load_judge

    assert isinstance(load_judge(str(llava_dir), torch.device("cpu")), LlavaJudge)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing is downloaded, ever
    with pytest.raises(
        ModelMissingError, match=r"llava-hf/llava-1.5-7b-hf is not in the local Hugging Face cache"
    ):
        load_judge("llava-1.5-7b", torch.device("cpu"))
    with pytest.raises(UserError, match="has no adapter yet"):
        load_judge("idefics2-8b", torch.device("cpu"))

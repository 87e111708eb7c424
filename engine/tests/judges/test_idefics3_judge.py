"""The Idefics3 / SmolVLM judge adapter on tiny models built from configs (a byte-level BPE tokenizer trained
here, nothing downloaded): its differentiable pixels (the global image, `do_image_splitting=False`) and prompt
ids match the stock `Idefics3Processor`'s, its scores match the stock model's forward, and a teach step
through it changes a LoRA."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
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
QUESTIONS = ["Is it night?", "Is the red line on the horizon?", "Is there a house?"]
CORPUS = [*QUESTIONS, "User: Assistant: Answer with Yes or No.", "a red line at the top"]
TOWER_PX = 32  # 4 x 4 patches of 8 px, pixel-shuffled 2 x 2 into 4 image tokens


def _tokenizer() -> Any:
    """A byte-level BPE like Llama 3's that adds <|begin_of_text|> by itself, as Llama 3's does."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(CORPUS, trainer)
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
def idefics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("idefics3"), "idefics3")


def _load(folder: Path) -> Idefics3Judge:
    from dualproc_engine.judges.load import load_judge

    loaded = load_judge(str(folder))  # by folder, through the one loader ask, teach and eval use
    assert isinstance(loaded, Idefics3Judge)
    return loaded


@pytest.fixture(scope="module")
def judge(idefics_dir: Path) -> Idefics3Judge:
    return _load(idefics_dir)


@pytest.fixture(scope="module")
def processor(idefics_dir: Path) -> Any:
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(idefics_dir))  # the stock Idefics3Processor, to compare against


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _as_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255


def _as_pil(image: torch.Tensor) -> Image.Image:
    return Image.fromarray((image.detach().permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def test_pil_resampling_is_reproduced() -> None:
    # one axis (shrink, grow), both axes (shrink, grow): the shapes the judge meets, and others
    shapes = (((90, 17), (30, 17)), ((17, 90), (17, 130)), ((60, 60), (30, 30)), ((40, 50), (32, 32)),
              ((20, 24), (64, 70)), ((32, 32), (128, 128)))  # fmt: skip
    for resample in (1, 2, 3):  # Lanczos, bilinear, bicubic
        for (h, w), size in shapes:
            pixels = _image(h, w)
            stock = Image.fromarray(pixels).resize(size[::-1], resample=resample)
            ours = pil_resize(_as_tensor(pixels), size, resample)
            # PIL rounds to 8 bits after each pass: measured on pixel noise, mean <= 0.32, max <= 1.17
            # levels (of 255), and <= 0.5 (the last rounding only) when one axis changes
            diff = (ours - _as_tensor(np.asarray(stock))).abs() * 255
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
        pixels = _image(h, w)
        stock = processor.image_processor(
            images=Image.fromarray(pixels), do_image_splitting=False, return_tensors="pt"
        )
        assert stock["pixel_values"].shape == (1, 1, 3, TOWER_PX, TOWER_PX)
        assert bool(stock["pixel_attention_mask"].all())  # one image: nothing padded
        ours = judge.pixel_values(_as_tensor(pixels))
        # two Lanczos resizes (longest side to 128, then 32 x 32), each PIL pass rounded to 8 bits; measured
        # on pixel noise (the worst case) at 9 sizes from 17x90 to 512x512, in normalised units (range 2):
        # mean <= 0.0028, max <= 0.0104 (1.3 levels of 255); at the released sizes (1456 then 364 px) and
        # 512 px: mean 0.0022, max 0.0098
        diff = (ours - stock["pixel_values"][:, 0]).abs()
        assert diff.mean() < 0.004 and diff.max() < 0.015


def _chat(question: str, answer: str | None = None) -> list[dict[str, Any]]:
    chat = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    if answer is not None:
        chat.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return chat


def _stock_inputs(processor: Any, text: str, image: Image.Image) -> Any:
    """The processor's model inputs for a rendered chat, as its `apply_chat_template(tokenize=True)` makes
    them (no second <|begin_of_text|>), the image not split."""
    return processor(text=text, images=[image], do_image_splitting=False, add_special_tokens=False,
                     return_tensors="pt")  # fmt: skip


def test_prompt_ids_are_what_the_stock_processor_feeds_the_model(
    judge: Idefics3Judge, processor: Any
) -> None:
    question = "Is it night? Answer with Yes or No."
    text = processor.apply_chat_template(_chat(question), add_generation_prompt=True)
    assert text == f"<|begin_of_text|>User:<image>{question}<end_of_utterance>\nAssistant:"
    assert judge.answer_separator == " "  # the template writes "Assistant: Yes"
    assert judge.prompt("Is it night?", "Yes") == text.replace("<image>", judge.image_sequence)
    stock = _stock_inputs(processor, text, Image.fromarray(_image(40, 50)))["input_ids"][0]
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
    question = question + " Answer with Yes or No." if answer in ("Yes", "No") else question
    pil = _as_pil(image)
    prompt = processor.apply_chat_template(_chat(question), add_generation_prompt=True)
    full = processor.apply_chat_template(_chat(question, answer), continue_final_message=True)
    prompt_ids = _stock_inputs(processor, prompt, pil)["input_ids"][0]
    inputs = _stock_inputs(processor, full, pil)
    # ours, so that only the model's side is compared
    inputs["pixel_values"] = judge.pixel_values(image[None])[:, None]
    ids = inputs["input_ids"][0]
    start = 0
    while start < len(prompt_ids) and ids[start] == prompt_ids[start]:
        start += 1
    logits = judge.model(**inputs).logits[0]
    rows = torch.arange(start - 1, len(ids) - 1)
    return torch.log_softmax(logits[rows].float(), -1).gather(1, ids[rows + 1][:, None]).sum()


def test_scores_equal_the_stock_forward_and_give_gradients(judge: Idefics3Judge, processor: Any) -> None:
    images = torch.rand(2, 3, 40, 50, requires_grad=True)
    answers = ["Yes", "a red line", "No"]  # multi-token answers are scored over all their tokens
    scores = judge.logprob(images, QUESTIONS, answers)
    assert scores.shape == (2, 3)
    assert (scores[0] - scores[1]).abs().min() > 1e-4  # the image matters
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


def test_a_flat_grey_image_is_still_an_image(judge: Idefics3Judge) -> None:
    """Normalised to all zeros, it would be dropped as batch padding by the stock get_image_features."""
    assert judge.logprob(torch.full((1, 3, 32, 32), 0.5), QUESTIONS[:1], ["Yes"]).isfinite().all()


def test_a_teach_step_through_it_changes_the_lora(judge: Idefics3Judge, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from dualproc_engine.generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
    from dualproc_engine.generators.scenes_text import caption_vocabulary
    from dualproc_engine.teach.loop import teach

    pipe = build_pipeline(EmbeddedConfig(image_size_px=16, block_out_channels=(16, 32), attention_heads=2,
                                         text_hidden_size=16, text_layers=1), seed=0,
                          vocabulary=caption_vocabulary(n_samples=50))  # fmt: skip
    generator = EmbeddedGenerator(copy.deepcopy(pipe))
    recipe = {
        "name": "idefics3", "generator": "tiny", "judge": "tiny", "prompts": ["a lake at night"],
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


def test_smolvlm_loads_and_scores_like_its_stock_forward(
    tmp_path: Path, judge: Idefics3Judge, processor: Any
) -> None:
    smol = _load(_save_tiny(tmp_path, "smolvlm"))
    assert type(smol.model).__name__ == "SmolVLMForConditionalGeneration"
    images = torch.rand(1, 3, 30, 50, requires_grad=True)
    scores = smol.logprob(images, QUESTIONS[:2], ["Yes", "a red line"])
    for q, answer in enumerate(["Yes", "a red line"]):
        # same tokenizer and template: the Idefics3 processor's ids are SmolVLM's
        stock = _stock_logprob(smol, processor, images[0], QUESTIONS[q], answer)
        torch.testing.assert_close(scores[0, q], stock, atol=1e-4, rtol=1e-4)
    scores.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_presets_route_here_and_say_how_to_get_missing_weights(
    idefics_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from dualproc_engine.errors import ModelMissingError, UserError
    from dualproc_engine.judges.load import load_judge

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing is downloaded, ever
    with pytest.raises(
        ModelMissingError, match=r"HuggingFaceTB/SmolVLM-Instruct is not in the local Hugging"
    ):
        load_judge("smolvlm-2b")
    with pytest.raises(UserError, match="has no adapter yet"):
        load_judge("idefics2-8b")  # Idefics2 (perceiver resampler, aspect-kept images) is another adapter
    snapshot = tmp_path / "models--HuggingFaceM4--Idefics3-8B-Llama3" / "snapshots" / "0123abc"
    shutil.copytree(idefics_dir, snapshot)  # the tiny model standing in for the real one in the cache
    assert isinstance(load_judge("idefics3-8b"), Idefics3Judge)

"""The judge contract on tiny random judges: offline loading, gradients, multi-token answers, sharing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dualproc_engine.judges.base import YES_NO_INSTRUCTION, Judge, answer_token_ids, with_instruction


def test_loads_offline_with_stock_from_pretrained(
    tiny_judge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    model = AutoModelForImageTextToText.from_pretrained(str(tiny_judge_dir))
    assert type(model).__name__ == "FastVlmForConditionalGeneration"
    processor = AutoProcessor.from_pretrained(str(tiny_judge_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_judge_dir))
    assert (tiny_judge_dir / "model.safetensors").is_file()
    assert type(processor).__name__ == "LlavaProcessor"
    # the stock processor expands <image> to as many tokens as the model has image features
    from PIL import Image

    inputs = processor(
        images=Image.new("RGB", (64, 64)), text="<image>\nIs it night?\nAnswer:", return_tensors="pt"
    )
    assert int((inputs["input_ids"] == model.config.image_token_index).sum()) == model.config.image_seq_length
    assert model(**inputs).logits.shape[-1] == len(tokenizer)
    assert tokenizer.convert_ids_to_tokens(tokenizer("Is the red line on the horizon?")["input_ids"])[1:] == [
        "Is", "the", "red", "line", "on", "the", "horizon", "?"
    ]  # fmt: skip


def test_is_a_judge_and_gives_gradients_to_images(tiny_judge) -> None:  # noqa: ANN001
    assert isinstance(tiny_judge, Judge)
    images = torch.rand(2, 3, 64, 64, requires_grad=True)
    logprob = tiny_judge.logprob(
        images, ["Is it night?", "Is the sky overcast?", "Is it day?"], ["Yes", "No", "Yes"]
    )
    assert logprob.shape == (2, 3)
    assert logprob.requires_grad and bool((logprob < 0).all())
    logprob[1, 2].backward()
    assert images.grad is not None
    assert images.grad[1].abs().sum() > 0 and images.grad[0].abs().sum() == 0  # only image 1 feeds [1, 2]


def test_other_image_sizes_are_resized_differentiably(tiny_judge) -> None:  # noqa: ANN001
    images = torch.rand(1, 3, 128, 128, requires_grad=True)
    tiny_judge.logprob(images, ["Is it night?"], ["Yes"]).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def _reference_logprob(judge, image: torch.Tensor, question: str, answer: str) -> torch.Tensor:  # noqa: ANN001
    """The answer's log-probability from the stock model's own forward (input_ids + pixel_values)."""
    ids, attention, target = judge.encode_texts([question], [answer])
    logits = judge.model(
        input_ids=ids, attention_mask=attention, pixel_values=judge.pixel_values(image)
    ).logits
    logprobs = torch.log_softmax(logits[0, :-1].float(), dim=-1).gather(1, ids[0, 1:, None])[:, 0]
    return logprobs[target[0, :-1]].sum()


def test_multi_token_answers_are_teacher_forced_over_all_tokens(tiny_judge) -> None:  # noqa: ANN001
    image = torch.rand(1, 3, 64, 64)
    question = "Is the sky a night sky?"
    _, _, target = tiny_judge.encode_texts([question, question], ["Yes", "Yes it is"])
    assert target.sum(dim=1).tolist() == [1, 3]
    both = tiny_judge.logprob(image, [question, question], ["Yes", "Yes it is"])[0]
    assert both[1] < both[0]  # more tokens to predict, each with probability < 1
    for answer, value in zip(["Yes", "Yes it is"], both, strict=True):
        torch.testing.assert_close(
            value, _reference_logprob(tiny_judge, image, question, answer), rtol=1e-4, atol=1e-4
        )


def test_yes_no_instruction_only_for_yes_no_answers(tiny_judge) -> None:  # noqa: ANN001
    assert with_instruction("Is it night?", "Yes") == "Is it night?" + YES_NO_INSTRUCTION
    assert with_instruction("Is it night?", "No") == "Is it night?" + YES_NO_INSTRUCTION
    assert with_instruction("Is it night?", "Yes it is") == "Is it night?"
    assert "Answer with Yes or No." in tiny_judge.prompt("Is it night?", "No")


def test_answer_tokens_where_the_tokenization_departs_from_the_prefix() -> None:
    # a BPE-like tokenizer whose last prefix token merges with the answer: the merged token counts
    vocab = {"Q": 1, ":": 2, ": Y": 3, "es": 4}

    def tokenize(text: str) -> list[int]:
        return [vocab[t] for t in (["Q", ": Y", "es"] if text.endswith("Yes") else ["Q", ":"])]

    ids, start = answer_token_ids(tokenize, "Q:", " Yes")
    assert ids == [1, 3, 4] and start == 1


def test_shared_image_encoding_equals_one_question_at_a_time(tiny_judge) -> None:  # noqa: ANN001
    images = torch.rand(3, 3, 64, 64)
    questions = ["Is it night?", "Is the red line on the horizon?", "Is there a red tree in the image?"]
    answers = ["Yes", "No", "Yes it is"]
    together = tiny_judge.logprob(images, questions, answers)
    for q in range(3):
        alone = tiny_judge.logprob(images, [questions[q]], [answers[q]])[:, 0]
        torch.testing.assert_close(together[:, q], alone, rtol=1e-5, atol=1e-5)
        for b in range(3):
            single = tiny_judge.logprob(images[b : b + 1], [questions[q]], [answers[q]])[0, 0]
            torch.testing.assert_close(together[b, q], single, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(tiny_judge.logprob_pairs(images, questions, answers), together.diagonal())


def test_questions_packed_behind_the_image_give_the_gradients_of_one_by_one(tiny_judge, monkeypatch) -> None:  # noqa: ANN001
    from dualproc_engine.judges import shared_prefix

    questions = ["Is it night?", "Is the red line on the horizon?", "Is there a red tree in the image?"]
    answers = ["Yes", "No", "Yes it is"]
    tokens = tiny_judge.encode_texts(questions, answers)
    assert (
        shared_prefix.packable_prefix(tiny_judge.model.model.language_model, tokens)[0]
        > tiny_judge.image_tokens
    )
    images = torch.rand(2, 3, 64, 64)

    def grads() -> torch.Tensor:
        x = images.clone().requires_grad_(True)
        (tiny_judge.logprob(x, questions, answers) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        assert x.grad is not None
        return x.grad

    packed = grads()
    monkeypatch.setattr(shared_prefix, "MIN_SHARED_TOKENS", 10**9)  # each question its own sequence
    torch.testing.assert_close(packed, grads(), rtol=1e-4, atol=1e-7)


def test_bad_inputs_are_one_line_errors(tiny_judge) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="questions and answers"):
        tiny_judge.logprob(torch.rand(1, 3, 64, 64), ["Is it night?"], ["Yes", "No"])
    with pytest.raises(ValueError, match="images"):
        tiny_judge.logprob(torch.rand(3, 64, 64), ["Is it night?"], ["Yes"])


def test_vocabulary_of_a_split_leaves_the_other_splits_words_out() -> None:
    from dualproc_engine.judges.scenes_vlm import phrasing_vocabulary

    train, heldout = set(phrasing_vocabulary("train")), set(phrasing_vocabulary("heldout"))
    assert {"horizon", "red", "line", "Yes", "No", "A", "B"} <= train & heldout
    assert "trace" in train - heldout and "coincide" in heldout - train  # wordings of one split only


def test_processor_config_states_the_judges_normalisation(tiny_judge_dir: Path) -> None:
    config = json.loads((tiny_judge_dir / "processor_config.json").read_text())
    image_processor = config.get("image_processor", config)
    assert image_processor["image_mean"] == [0.5, 0.5, 0.5] and image_processor["image_std"] == [
        0.5,
        0.5,
        0.5,
    ]

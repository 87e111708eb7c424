"""The judge family contract: what every judge adapter on a tiny model of its family must do, written once.

A family's test file subclasses `JudgeFamilyContract` (as transformers' and diffusers' model tests mix in
their common tests), states the family's facts as class attributes, gives its stock path as
`stock_logprob`, and provides these fixtures:
- `judge_dir`: the tiny model's folder, laid out as the Hugging Face repo;
- `judge`: the judge loaded from that folder (conftest.py's, by default);
- `processor`: whatever `stock_logprob` takes to build the stock inputs (conftest.py's: the stock processor
  saved in the folder).

What stays in the family's file is what only it has: its tiny config and tokenizer, its preprocessing and
prompt ids against the stock processor (with its own measured tolerances), and its quirks.

Named `judge_family_contract` (not `family_contract`): the test folders are not packages, so a module name
must be unique across them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from judge_tiny import ANSWERS, QUESTIONS, fake_hf_cache, teach_step_moves_the_lora


class JudgeFamilyContract:
    judge_class: ClassVar[type]
    """The adapter the family's folders and presets route to."""
    missing_preset: ClassVar[tuple[str, str]]
    """A preset of the family and the start of what loading it says on an empty cache (a regex)."""
    cached_preset: ClassVar[tuple[str, str]]
    """A preset of the family and its repo id, which the tiny model stands in for in a faked cache."""
    score_size: ClassVar[tuple[int, int]] = (40, 50)
    """The (height, width) of the images scored against the stock forward: not the tower's own size."""
    packs_questions: ClassVar[bool] = True
    """Whether a picture's questions run packed behind their shared opening (judges/shared_prefix.py), which
    the stock-forward test then checks too."""

    def stock_logprob(
        self, judge: Any, processor: Any, image: torch.Tensor, question: str, answer: str
    ) -> Any:
        """The answer's log-probability for one (3, H, W) image from the stock model's forward."""
        raise NotImplementedError

    def test_scores_equal_the_stock_forward_and_give_gradients(self, judge: Any, processor: Any) -> None:
        # seeded: on about 1 in 100 random pairs of images some score differs by less than 1e-4 (measured)
        seeded = torch.Generator().manual_seed(0)
        images = torch.rand(2, 3, *self.score_size, generator=seeded).requires_grad_(True)
        scores = judge.logprob(images, QUESTIONS, ANSWERS)
        assert scores.shape == (2, 3)
        assert (scores[0] - scores[1]).abs().min() > 1e-4  # the image matters
        _, _, target = judge.encode_texts(QUESTIONS, ANSWERS)
        assert target.sum(1).tolist()[1] > 1  # multi-token answers are scored over all their tokens
        for b in range(2):
            for q in range(3):
                stock = self.stock_logprob(judge, processor, images[b], QUESTIONS[q], ANSWERS[q])
                torch.testing.assert_close(scores[b, q], stock, atol=1e-4, rtol=1e-4)
        pairs = judge.logprob_pairs(images, QUESTIONS[:2], ANSWERS[:2])
        torch.testing.assert_close(pairs, torch.stack([scores[0, 0], scores[1, 1]]))
        scores[0].sum().backward()  # gradients reach only the image that was scored
        assert images.grad is not None and images.grad[0].abs().sum() > 0 and images.grad[1].abs().sum() == 0

    def test_questions_about_one_picture_are_packed_where_the_family_allows(
        self, judge: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from dualproc_engine.judges import shared_prefix

        packed: list[int] = []
        pack = shared_prefix.pack
        monkeypatch.setattr(shared_prefix, "pack", lambda *a: packed.append(a[0].shape[0]) or pack(*a))
        judge.logprob(torch.rand(1, 3, *self.score_size), QUESTIONS, ANSWERS)
        assert packed == ([len(QUESTIONS)] if self.packs_questions else [])

    def test_questions_asked_of_some_images_only_score_as_in_the_full_table(self, judge: Any) -> None:
        """The teach loop's `QuestionSet` with a question per prompt: only the asked pairs are computed
        (through the family's shared path where it has one), and they equal the full table's."""
        from dualproc_engine.teach.config import Question
        from dualproc_engine.teach.questions import QuestionSet

        questions = [
            Question(q, a, 1.0, prompts=[p]) for q, a, p in zip(QUESTIONS, ANSWERS, "abc", strict=True)
        ]
        qs = QuestionSet(judge, questions)
        images = torch.rand(3, 3, *self.score_size, generator=torch.Generator().manual_seed(1))
        asked = qs.asked(["a", "c", "a"])
        with torch.no_grad():
            full, some = qs.logprob(images), qs.logprob(images, asked)
        assert torch.equal(torch.isnan(some), ~asked)
        torch.testing.assert_close(some[asked], full[asked], atol=1e-4, rtol=1e-4)

    def test_gradient_checkpointing_gives_the_same_gradients(self, judge: Any) -> None:
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

    def test_checkpointing_step_after_step_leaves_no_hooks_behind(self, judge: Any) -> None:
        # transformers' enable registers a hook on the input embeddings each time and its disable does not
        # remove it: a teach run switches checkpointing on for every step
        from dualproc_engine.teach.adapters import judge_checkpointing

        embeddings = judge.model.get_input_embeddings()
        before = len(embeddings._forward_hooks)
        for _ in range(3):
            with judge_checkpointing(judge, True):
                judge.logprob(torch.rand(1, 3, 24, 40), QUESTIONS[:1], ["Yes"])
        assert len(embeddings._forward_hooks) == before

    def test_a_teach_step_through_it_changes_the_lora(self, judge: Any, tmp_path: Path) -> None:
        teach_step_moves_the_lora(judge, tmp_path, self.judge_class.__name__)

    @pytest.mark.gpu
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
    def test_on_cuda_in_bf16_packed_scores_equal_the_questions_asked_one_by_one(
        self, judge_dir: Path
    ) -> None:
        """The teach loop's GPU path: the judge loaded on CUDA (`pick_device`) and asked under bf16 autocast.
        A picture's questions packed behind their shared opening score as each question asked alone (bf16's
        rounding apart), near the float32 CPU scores, and the image gets a finite, nonzero gradient."""
        from dualproc_engine.teach.adapters import autocast, load_judge, pick_device

        device = pick_device()
        on_gpu = load_judge(str(judge_dir), device)
        images = torch.rand(2, 3, *self.score_size, generator=torch.Generator().manual_seed(0))
        x = images.to(device).requires_grad_(True)
        with autocast(device, "bf16"):
            packed = on_gpu.logprob(x, QUESTIONS, ANSWERS)
            alone = torch.cat(
                [on_gpu.logprob(x, [q], [a]) for q, a in zip(QUESTIONS, ANSWERS, strict=True)], 1
            )
        assert packed.shape == (2, len(QUESTIONS)) and torch.isfinite(packed).all()
        torch.testing.assert_close(packed.float(), alone.float(), atol=0.05, rtol=0.02)
        with torch.no_grad():
            on_cpu = load_judge(str(judge_dir), torch.device("cpu")).logprob(images, QUESTIONS, ANSWERS)
        torch.testing.assert_close(packed.float().cpu(), on_cpu, atol=0.1, rtol=0.05)
        packed.float().sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0

    def test_loads_by_folder_and_presets_say_how_to_get_missing_weights(
        self, judge_dir: Path, judge: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from dualproc_engine.errors import ModelMissingError, UserError
        from dualproc_engine.judges.load import load_judge

        assert isinstance(judge, self.judge_class)  # the `judge` fixture loaded it by folder
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing is downloaded, ever
        preset, message = self.missing_preset
        with pytest.raises(ModelMissingError, match=message):
            load_judge(preset)
        with pytest.raises(UserError, match="unknown judge 'blip2-opt-2.7b'"):
            load_judge("blip2-opt-2.7b")  # a family with no preset and no adapter (every preset has one)
        preset, repo_id = self.cached_preset
        fake_hf_cache(tmp_path, repo_id, judge_dir)  # the tiny model standing in for the real one
        assert isinstance(load_judge(preset), self.judge_class)


def assert_scores_like_the_stock_forward(judge: Any, processor: Any, stock_logprob: Any) -> None:
    """A family's other variant (loaded by the family's adapter): a single-token and a multi-token answer
    score as `stock_logprob` says, and gradients reach the image."""
    images = torch.rand(1, 3, 30, 50, requires_grad=True)
    scores = judge.logprob(images, QUESTIONS[:2], ANSWERS[:2])
    for q, answer in enumerate(ANSWERS[:2]):
        stock = stock_logprob(judge, processor, images[0], QUESTIONS[q], answer)
        torch.testing.assert_close(scores[0, q], stock, atol=1e-4, rtol=1e-4)
    scores.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0

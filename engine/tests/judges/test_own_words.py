"""A Scenes judge is asked a Scenes question in its own words (judges/base.py `in_own_words`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dualproc_engine.judges.embedded import EmbeddedJudge
from dualproc_engine.local_models import embedded_weights_dir
from dualproc_engine.teach.config import Question
from dualproc_engine.teach.questions import QuestionSet
from dualproc_engine.unknown_words import unknown_words

TRAIN_WORDS = "Is the red line aligned with the horizon?"
HELDOUT_WORDS = "Is the red line drawn at the height of the horizon?"
needs_shipped = pytest.mark.skipif(
    not (embedded_weights_dir("scenes-judge-heldout") / "config.json").is_file(), reason="no shipped judge"
)


@pytest.fixture(scope="module")
def heldout_judge(tiny_heldout_judge_dir: Path) -> EmbeddedJudge:
    return EmbeddedJudge.from_pretrained(tiny_heldout_judge_dir)


def test_the_judge_knows_the_phrasings_it_was_trained_on(heldout_judge, tiny_judge) -> None:  # noqa: ANN001
    assert heldout_judge.phrasing_split == "heldout"
    # a folder without training.json (any other VLM's) is not a Scenes judge: asked as written
    assert tiny_judge.phrasing_split is None
    assert QuestionSet(tiny_judge, [Question(TRAIN_WORDS)]).asked_as == [TRAIN_WORDS]


def test_question_set_asks_in_the_judges_own_words(heldout_judge) -> None:  # noqa: ANN001
    questions = QuestionSet(heldout_judge, [Question(TRAIN_WORDS), Question("Is it a sunny day?")])
    assert questions.questions == [TRAIN_WORDS, "Is it a sunny day?"]  # the recipe's, for every report
    assert questions.asked_as == [HELDOUT_WORDS, "Is it a sunny day?"]  # not a Scenes phrasing: as written
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        asked = questions.logprob(images)
        own = heldout_judge.logprob(images, [HELDOUT_WORDS, "Is it a sunny day?"], ["Yes", "Yes"])
        written = heldout_judge.logprob(images, [TRAIN_WORDS], ["Yes"])
    torch.testing.assert_close(asked, own)
    assert not torch.allclose(asked[:, 0], written[:, 0])  # the training words are other tokens to it
    # the warning about unknown words looks at what the judge is asked: the first question is in its words now
    assert [bool(unknown_words(heldout_judge.tokenizer, q)) for q in questions.asked_as] == [False, True]


def test_ask_files_asks_in_the_judges_own_words(tiny_heldout_judge_dir: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from dualproc_engine.judges.ask import ask_files, asked_as

    folder = str(tiny_heldout_judge_dir)
    path = str(tmp_path / "a.png")
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(path)
    assert asked_as(TRAIN_WORDS, folder) == HELDOUT_WORDS
    train_words = ask_files([path], TRAIN_WORDS, judge=folder)
    own_words = ask_files([path], HELDOUT_WORDS, judge=folder)
    assert train_words == own_words


def test_ask_warns_about_the_words_the_judge_does_not_know(
    tiny_heldout_judge_dir: Path, tmp_path: Path
) -> None:
    import numpy as np
    from PIL import Image

    from dualproc_engine.api import ask
    from dualproc_engine.reporting import LogRecorder

    path = str(tmp_path / "a.png")
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(path)
    logs = LogRecorder()
    ask([path], TRAIN_WORDS, judge=str(tiny_heldout_judge_dir), reporter=logs)  # asked in its own words
    ask([path], "Is the zebra on the red line?", judge=str(tiny_heldout_judge_dir), reporter=logs)
    assert logs.lines == [("warning", "the judge reads 'zebra' as an unknown word: its answer is a guess")]


@needs_shipped
def test_the_shipped_heldout_judge_sees_the_horizon_band_only_in_its_own_words() -> None:
    """The point of it: asked the library's "Is the horizon high in the image?" as written, the held-out judge
    answers near 0.5 whatever the picture; in its own words it tells high horizons from low ones."""
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.world.render import render
    from dualproc_engine.world.scene import sample_scenes

    torch.set_num_threads(1)
    judge = load_judge("scenes-judge-heldout")
    high = render(sample_scenes(515151, 12, kind="landscape", horizon=0.2))
    low = render(sample_scenes(515152, 12, kind="landscape", horizon=0.8))
    question = [Question("Is the horizon high in the image?")]
    own = QuestionSet(judge, question)
    assert own.asked_as == ["Does the horizon sit near the top of the image?"]
    with torch.no_grad():
        p_high, p_low = (own.logprob(x).exp()[:, 0] for x in (high, low))
        written = [question[0].question]
        w_high, w_low = (judge.logprob(x, written, ["Yes"]).exp()[:, 0] for x in (high, low))
    right = ((p_high > 0.5).float().mean() + (p_low < 0.5).float().mean()) / 2
    right_as_written = ((w_high > 0.5).float().mean() + (w_low < 0.5).float().mean()) / 2
    assert right >= 0.9, (p_high, p_low)
    assert right > right_as_written + 0.2, (right, right_as_written)


@needs_shipped
def test_the_shipped_heldout_judge_checks_relative_depth() -> None:
    """The relative-depth recipe has no measurer; the held-out judge is its only check, so it must tell which
    labelled point is nearer on scenes it never saw (chance until the nineteenth session's fine-tune)."""
    from dualproc_engine.judges.embedded import load_judge
    from dualproc_engine.judges.evaluate import p_yes
    from dualproc_engine.world.judge_data import SEED_BASES, record_images, scenes_qa

    torch.set_num_threads(1)
    judge = load_judge("scenes-judge-heldout")
    qa = scenes_qa(SEED_BASES["evaluation"] + 7, 80, "heldout", per_scene=1, families=["relative_depth"])
    assert len(qa.records) >= 30
    probs = p_yes(judge, record_images(qa.images, qa.records), qa.records)
    right = [(p > 0.5) == (r["answer"] == "Yes") for p, r in zip(probs, qa.records, strict=True)]
    assert sum(right) / len(right) >= 0.7, (sum(right), len(right))

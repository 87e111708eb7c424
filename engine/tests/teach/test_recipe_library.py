"""The recipe library (recipes/*.yaml) speaks the embedded judge's language: every word of every question
is in the vocabulary of the embedded judge it names, so no recipe silently asks about `<unk>`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dualproc_engine.judges.scenes_vlm import words

LIBRARY = Path(__file__).resolve().parents[3] / "recipes"


@pytest.mark.parametrize("recipe", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.name)
def test_every_question_is_in_the_embedded_judges_vocabulary(recipe: Path) -> None:
    from transformers import AutoTokenizer

    from dualproc_engine.local_models import embedded_weights_dir

    data = yaml.safe_load(recipe.read_text())
    judge = data.get("judge", "scenes-judge")
    if not judge.startswith("scenes-judge"):
        pytest.skip("written for another judge")
    vocabulary = AutoTokenizer.from_pretrained(str(embedded_weights_dir(judge))).get_vocab()
    for q in data["questions"]:
        unknown = [w for w in words(q["question"]) if w not in vocabulary]
        assert unknown == [], f"{recipe.name}: {q['question']!r} has words the judge does not know: {unknown}"


def _prompts(spec: object) -> list[str]:
    """The recipe's prompts, templates expanded (every slot value stands in its template)."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [str(p) for p in spec]
    assert isinstance(spec, dict)
    template, slots = str(spec["template"]), dict(spec["slots"])
    return [template.replace("{" + k + "}", str(v)) for k, values in slots.items() for v in values]


@pytest.mark.parametrize("recipe", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.name)
def test_every_prompt_is_in_the_embedded_generators_vocabulary(recipe: Path) -> None:
    import re

    from transformers import AutoTokenizer

    from dualproc_engine.local_models import embedded_weights_dir

    data = yaml.safe_load(recipe.read_text())
    if data.get("generator", "scenes-generator") != "scenes-generator":
        pytest.skip("written for another generator")
    tokenizer = embedded_weights_dir("scenes-generator") / "tokenizer"
    vocabulary = AutoTokenizer.from_pretrained(str(tokenizer)).get_vocab()
    for prompt in _prompts(data["prompts"]) + _prompts(data.get("eval", {}).get("prompts", [])):
        text = re.sub(r"\{\w+\}", "", prompt).lower()
        unknown = [w for w in re.findall(r"\w+", text) if w not in vocabulary]
        assert unknown == [], f"{recipe.name}: {prompt!r} has words the generator does not know: {unknown}"

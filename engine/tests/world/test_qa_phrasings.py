"""Phrasings: enough per family, every variant covered, distinct wordings, disjoint splits."""

import pytest

from dualproc_engine.world import qa
from dualproc_engine.world.qa.common import SKY_KINDS
from dualproc_engine.world.qa.horizon import BANDS
from dualproc_engine.world.qa.phrasings import (
    PHRASINGS,
    phrase,
    phrasing_indices,
    reword,
    scenes_reading,
    split_of,
)
from dualproc_engine.world.qa.sky import TIME_OF_DAY

VARIANTS = {
    "horizon_band": set(BANDS),
    "palette_match": {"band", "tiles"},
    "relative_depth": {"closer", "farther"},
    "object_count": {"one", "many"},
    "sky": set(SKY_KINDS),
    "time_of_day": set(TIME_OF_DAY.values()),
}
SLOTS = {
    "kind": "tree",
    "kinds": "trees",
    "a_kind": "a tree",
    "n": "two",
    "count_phrase": "two trees",
    "color": "red",
    "a_color_kind": "a red tree",
}


def test_every_family_has_phrasings_and_only_families_do():
    assert set(PHRASINGS) == set(qa.FAMILIES)
    assert all(len(p) >= 5 for p in PHRASINGS.values())


@pytest.mark.parametrize("family", sorted(PHRASINGS))
def test_variant_phrasings_cover_every_variant(family):
    for p in PHRASINGS[family]:
        if not isinstance(p, str):
            assert set(p) == VARIANTS[family]
    if family not in ("object_count",):
        kinds = {type(p) for p in PHRASINGS[family]}
        assert len(kinds) == 1  # a family is worded with variants throughout, or never


@pytest.mark.parametrize("family", sorted(PHRASINGS))
def test_wordings_are_distinct_and_complete_questions(family):
    for variant in sorted(VARIANTS.get(family, {None})):
        texts = [phrase(family, i, variant, SLOTS) for i in range(len(PHRASINGS[family]))]
        assert len(set(texts)) == len(texts)
        assert all(t.endswith("?") and "{" not in t and t[0].isupper() for t in texts)


@pytest.mark.parametrize("family", sorted(PHRASINGS))
def test_splits_are_disjoint_and_cover_all(family):
    train, heldout = phrasing_indices(family, "train"), phrasing_indices(family, "heldout")
    assert not set(train) & set(heldout)
    assert sorted(train + heldout) == phrasing_indices(family, "all") == list(range(len(PHRASINGS[family])))
    assert len(train) >= 4 and len(heldout) >= 2
    assert all(split_of(i) == "train" for i in train) and all(split_of(i) == "heldout" for i in heldout)


TRAIN_LINE = "Is the red line aligned with the horizon?"


def _texts(family: str, split: str, variant: str | None) -> list[str]:
    return [phrase(family, i, variant, SLOTS) for i in phrasing_indices(family, split)]


@pytest.mark.parametrize("family", sorted(PHRASINGS))
@pytest.mark.parametrize(("source", "target"), [("train", "heldout"), ("heldout", "train")])
def test_reword_says_the_same_question_in_the_other_splits_words(family, source, target):
    variants = sorted(VARIANTS.get(family, {None}))
    for variant in variants:
        for i in phrasing_indices(family, source):
            question = phrase(family, i, variant, SLOTS)
            reworded = reword(question, target)
            # a plain wording in a family that has variants elsewhere (object_count) may go to either variant
            plain = isinstance(PHRASINGS[family][i], str)
            own = {t for v in (variants if plain else [variant]) for t in _texts(family, target, v)}
            # "Is there {a_color_kind} in the image?" is word for word "Is there {a_kind} in the image?", so
            # the other family's "Can you see a red tree?" says it as well
            alike = {"Can you see a red tree?"} if family == "object_color" else set()
            # the same family and variant in the target's words, or (no wording of the target takes these
            # slots) the question as written; never another family's or variant's question
            assert reworded in own | alike or reworded == question, (question, reworded)
            assert reword(question, source) == question  # already in its own words
    # a family worded without slots (every one a recipe's visual prompt asks) always gets the target's words
    if "{" not in str(PHRASINGS[family]):
        asked = [phrase(family, i, v, SLOTS) for v in variants for i in phrasing_indices(family, source)]
        assert all(reword(q, target) != q for q in asked)


def test_reword_keeps_the_meaning_where_a_wording_turns_the_points_round():
    # the held-out wording with B as the subject: "B closer than A" means "A farther than B"
    assert reword("Is point B closer to the viewer than point A?", "train") == (
        "Is point A farther from the viewer than point B?"
    )
    assert reword(TRAIN_LINE, "heldout") == ("Is the red line drawn at the height of the horizon?")


def test_reword_fills_the_slots_it_was_given_and_leaves_other_questions_alone():
    assert reword("Is there a red kite in the image?", "heldout") == "Can you see a red kite?"
    assert reword("Is this a photo of a cat?", "heldout") == "Is this a photo of a cat?"
    assert reword(TRAIN_LINE, "all") == TRAIN_LINE  # a judge of every phrasing knows them all


@pytest.mark.parametrize("family", sorted(PHRASINGS))
def test_a_scenes_wording_reads_as_its_family_and_variant(family):
    for variant in sorted(VARIANTS.get(family, {None})):
        for i in range(len(PHRASINGS[family])):
            if isinstance(PHRASINGS[family][i], str) and variant is not None:
                continue  # a plain wording in a family with variants elsewhere says no variant
            reading = scenes_reading(phrase(family, i, variant, SLOTS))
            if family in ("object_presence", "object_color") and reading != {
                "family": family,
                "variant": None,
            }:
                # "Is there a red tree in the image?" is word for word both families' question
                assert reading is not None and reading["family"] in ("object_presence", "object_color")
                continue
            assert reading == {"family": family, "variant": variant}, phrase(family, i, variant, SLOTS)
    assert scenes_reading("Is this a photo of a cat?") is None

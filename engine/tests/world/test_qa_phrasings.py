"""Phrasings: enough per family, every variant covered, distinct wordings, disjoint splits."""

import pytest

from dualproc_engine.world import qa
from dualproc_engine.world.qa.common import SKY_KINDS
from dualproc_engine.world.qa.horizon import BANDS
from dualproc_engine.world.qa.phrasings import PHRASINGS, phrase, phrasing_indices, split_of
from dualproc_engine.world.qa.sky import TIME_OF_DAY

VARIANTS = {
    "horizon_band": set(BANDS),
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

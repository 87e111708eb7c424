"""The 5x7 bitmap font: complete, distinguishable, and scaled without losing ink."""

import string

import pytest
import torch

from dualproc_engine.prompts.font import CHARACTERS, GLYPH_HEIGHT, glyph, text_bitmap, text_coverage
from dualproc_engine.prompts.spec import LABEL_PATTERN


def test_font_has_every_character_a_label_may_use():
    wanted = set(string.ascii_uppercase + string.digits + "- ")
    assert wanted <= CHARACTERS
    assert all(LABEL_PATTERN.match(c) for c in wanted | {c.lower() for c in wanted})


def test_glyphs_are_5x7_and_pairwise_distinct():
    chars = sorted(CHARACTERS)
    shapes = {c: glyph(c) for c in chars}
    assert all(g.shape == (7, 5) for g in shapes.values())
    for i, a in enumerate(chars):
        for b in chars[i + 1 :]:
            assert not torch.equal(shapes[a], shapes[b]), (a, b)
    assert all(shapes[c].sum() > 0 for c in chars if c != " ")


def test_text_is_glyphs_separated_by_one_empty_column():
    bitmap = text_bitmap("AB")
    assert bitmap.shape == (7, 11)
    assert torch.equal(bitmap[:, :5], glyph("A")) and torch.equal(bitmap[:, 6:], glyph("B"))
    assert bitmap[:, 5].sum() == 0
    assert torch.equal(text_bitmap("ab"), bitmap)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_whole_multiples_of_seven_px_are_crisp(k):
    coverage = text_coverage("B7", GLYPH_HEIGHT * k)
    bitmap = text_bitmap("B7")
    assert torch.equal(coverage, bitmap.repeat_interleave(k, 0).repeat_interleave(k, 1))


@pytest.mark.parametrize("height_px", [5, 10, 12])
def test_other_heights_are_antialiased_and_keep_the_ink(height_px):
    coverage = text_coverage("MOUNTAIN", height_px)
    bitmap = text_bitmap("MOUNTAIN")
    assert coverage.shape[0] == height_px
    assert coverage.min() >= 0 and coverage.max() <= 1
    cell_area = (height_px / 7) * (coverage.shape[1] / bitmap.shape[1])
    assert coverage.sum().item() == pytest.approx(bitmap.sum().item() * cell_area, rel=1e-4)


def test_unknown_character_is_one_clear_error():
    with pytest.raises(ValueError, match="no glyph for '\\?'"):
        text_bitmap("A?")

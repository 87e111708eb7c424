"""`training.guidance_scale` and `generate --guidance-scale`: set on a generator that has guidance, refused
in one line by one that has none (the embedded generator, the Turbo models), never silently ignored."""

from __future__ import annotations

import pytest
from conftest import recipe

from dualproc_engine.errors import UserError
from dualproc_engine.generators.guidance import set_guidance
from dualproc_engine.teach.loop import teach


class WithGuidance:
    guidance_scale = 1.0


def test_guidance_is_set_where_the_family_has_it_and_left_alone_for_null():
    gen = WithGuidance()
    set_guidance(gen, None)
    assert gen.guidance_scale == 1.0
    set_guidance(gen, 4.5)
    assert gen.guidance_scale == 4.5
    with pytest.raises(UserError, match=r"^training.guidance_scale: expected a number > 0"):
        set_guidance(gen, 0)


def test_a_generator_without_guidance_refuses_it_in_one_line(make_generator, tiny_judge, tmp_path):
    with pytest.raises(
        UserError, match=r"^training.guidance_scale: this generator \(EmbeddedGenerator\) has no"
    ):
        teach(recipe(guidance_scale=3.0), tmp_path, generator=make_generator(), judge=tiny_judge)
    with pytest.raises(UserError, match=r"^training.guidance_scale: expected a number or null"):
        teach(recipe(guidance_scale="high"), tmp_path, generator=make_generator(), judge=tiny_judge)
    assert not (tmp_path / "metrics.jsonl").exists()  # refused before the run folder is written


def test_a_family_adapter_without_the_embedding_refuses_it_too():
    class Schnell(WithGuidance):
        has_guidance = False  # FLUX.1-schnell: the adapter has the attribute, the model has no embedding

    with pytest.raises(UserError, match=r"has no guidance to set"):
        set_guidance(Schnell(), 3.5, "guidance_scale")

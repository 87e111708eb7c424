"""Basic colour names: canonical colours get their names, borders get small margins."""

import pytest

from dualproc_engine.world.color_names import (
    COLOR_NAMES,
    REFERENCES,
    color_name,
    color_name_with_margin,
    delta_e,
    delta_e_matrix,
)

# Colours whose basic name is not in doubt, most of them CSS named colours that are not references here.
CANONICAL = {
    "#dc143c": "red",  # crimson
    "#b22222": "red",  # firebrick
    "#ff8c00": "orange",  # darkorange
    "#f0e130": "yellow",
    "#228b22": "green",  # forestgreen
    "#32cd32": "green",  # limegreen
    "#4169e1": "blue",  # royalblue
    "#87ceeb": "blue",  # skyblue
    "#9400d3": "purple",  # darkviolet
    "#e75480": "pink",
    "#7b3f00": "brown",  # chocolate brown
    "#101010": "black",
    "#fafafa": "white",
    "#696969": "grey",  # dimgray
}


@pytest.mark.parametrize(("color", "name"), sorted(CANONICAL.items()))
def test_canonical_colours_get_their_basic_name(color, name):
    assert color_name(color) == name


def test_every_reference_names_itself_and_every_name_has_references():
    assert set(REFERENCES) == set(COLOR_NAMES) and len(COLOR_NAMES) == 11
    for name, refs in REFERENCES.items():
        for ref in refs:
            found, margin = color_name_with_margin(ref)
            assert found == name and margin > 0, ref


def test_margin_shrinks_towards_a_border():
    # halfway between a red and an orange reference the name is a toss-up; at the red end it is not
    assert color_name_with_margin("#ff4000")[1] < 3 < color_name_with_margin("#ff0000")[1]


def test_delta_e_is_zero_on_equal_colours_symmetric_and_vectorised():
    assert delta_e("#123456", "#123456") == pytest.approx(0.0, abs=1e-9)
    assert delta_e("#ff0000", "#00ff00") == pytest.approx(delta_e("#00ff00", "#ff0000"))
    m = delta_e_matrix(["#ff0000", "#0000ff"], ["#ff0000", "#00ff00", "#0000ff"])
    assert m.shape == (2, 3)
    assert m[0, 1] == pytest.approx(delta_e("#ff0000", "#00ff00"))
    assert m[0, 0] == pytest.approx(0, abs=1e-9) and m[1, 2] == pytest.approx(0, abs=1e-9)

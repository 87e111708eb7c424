"""Palettes, colour spaces and the colour scheme's promises."""

import numpy as np
import pytest

from dualproc_engine.world.coloring import (
    HORIZON_CONTRAST,
    SKY_BANDS,
    landscape_colors,
    lineart_colors,
)
from dualproc_engine.world.colorspace import (
    ciede2000,
    hex_to_rgb,
    oklab_distance,
    oklab_to_oklch,
    oklch_to_rgb,
    rgb_to_cielab,
    rgb_to_hex,
    rgb_to_oklab,
)
from dualproc_engine.world.palettes import (
    MIN_DELTA_E,
    NAMED_PALETTES,
    Palette,
    min_pairwise_delta_e,
    named_palette,
    random_palette,
)

REQUIRED = ("pastel", "retro", "dark_academia", "neon", "earth", "monochrome", "ocean", "autumn")
SKIES = tuple(SKY_BANDS)
GROUNDS = ("grass", "sand", "snow", "water", "rock")


def test_named_palettes_have_five_hex_colours():
    assert set(REQUIRED) <= set(NAMED_PALETTES) and len(NAMED_PALETTES) >= 8
    for name, palette in NAMED_PALETTES.items():
        assert palette.name == name and len(palette.colors) == 5
        for color in palette.colors:
            assert color == rgb_to_hex(hex_to_rgb(color)), color  # lower-case '#rrggbb'
        assert len(set(palette.colors)) == 5


def test_unknown_palette_names_the_known_ones():
    with pytest.raises(ValueError, match="retro"):
        named_palette("sepia")


def test_random_palettes_are_reproducible_and_well_separated():
    for seed in range(40):
        palette = random_palette(seed)
        assert palette == random_palette(seed) and palette.name is None
        assert min_pairwise_delta_e(palette.colors) >= MIN_DELTA_E
    assert random_palette(1) != random_palette(2)


def test_palette_round_trips_through_dict():
    palette = random_palette(7)
    assert Palette.from_dict(palette.to_dict()) == palette
    with pytest.raises(ValueError):
        Palette(None, ("#ffffff",))


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal (2005), test pairs 1, 7, 17 and 25
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ],
)
def test_ciede2000_matches_published_pairs(lab1, lab2, expected):
    assert float(ciede2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)


def test_oklab_round_trip_and_gamut_mapping():
    for color in ("#ff2079", "#03045e", "#e9c46a", "#7a7a7a"):
        rgb = hex_to_rgb(color)
        assert rgb_to_hex(oklch_to_rgb(*oklab_to_oklch(rgb_to_oklab(rgb)))) == color
    # An impossible chroma is reduced into the gamut, keeping lightness.
    rgb = oklch_to_rgb(0.7, 0.5, 140.0)
    assert all(0.0 <= c <= 1.0 for c in rgb)
    assert rgb_to_oklab(rgb)[0] == pytest.approx(0.7, abs=2e-3)


def _palettes() -> list[Palette]:
    return [*NAMED_PALETTES.values(), *(random_palette(s) for s in range(12))]


def test_sky_kind_sets_the_lightness_of_the_sky_for_every_palette():
    for palette in _palettes():
        for sky in SKIES:
            colors = landscape_colors(palette.colors, sky, "grass")
            top_l, top_c, _ = oklab_to_oklch(rgb_to_oklab(colors.sky_top))
            low, high = SKY_BANDS[sky].lightness
            assert low - 0.01 <= top_l <= high + 0.01, (palette, sky)
            if sky == "overcast":
                assert top_c <= SKY_BANDS[sky].chroma[1] + 0.005
            if sky == "day":
                assert top_c >= SKY_BANDS[sky].chroma[0] - 0.01  # grey palettes get a blue day sky
            if sky == "sunset":  # a warm glow at the horizon, brighter than the top
                glow_l, glow_c, glow_h = oklab_to_oklch(rgb_to_oklab(colors.sky_bottom))
                assert glow_l > top_l + 0.2 and glow_c > 0.05 and 25 <= glow_h <= 70


def test_a_palette_colour_already_in_the_band_colours_the_sky_unchanged():
    # dark_academia's darkest brown sits at the night band's edge: the night sky is that brown.
    colors = landscape_colors(NAMED_PALETTES["dark_academia"].colors, "night", "grass")
    lab = rgb_to_cielab(np.array([colors.sky_top, hex_to_rgb("#2b1d14")]))
    assert float(ciede2000(lab[0], lab[1])) < 2.0


def test_ground_contrasts_with_the_sky_at_the_horizon_and_objects_with_the_ground():
    for palette in _palettes():
        for sky in SKIES:
            for ground in GROUNDS:
                colors = landscape_colors(palette.colors, sky, ground)
                ground_lab = rgb_to_oklab(colors.ground)
                assert oklab_distance(ground_lab, rgb_to_oklab(colors.sky_bottom)) >= HORIZON_CONTRAST - 1e-3
                assert set(colors.object_choices) <= set(palette.colors)


def test_ground_and_objects_use_palette_colours_unchanged_when_contrast_allows():
    colors = landscape_colors(NAMED_PALETTES["retro"].colors, "day", "grass")
    assert rgb_to_hex(colors.ground) in NAMED_PALETTES["retro"].colors


def test_lineart_paper_is_light_and_ink_dark_enough_to_measure():
    for palette in _palettes():
        colors = lineart_colors(palette.colors)
        paper_l = rgb_to_oklab(colors.paper)[0]
        ink_l = rgb_to_oklab(hex_to_rgb(colors.ink))[0]
        assert paper_l >= 0.89 and paper_l - ink_l >= 0.44
        assert colors.fill_choices and set(colors.fill_choices) <= set(palette.colors)


def test_a_light_enough_lightest_colour_is_the_paper_itself():
    colors = lineart_colors(NAMED_PALETTES["terracotta"].colors)  # '#f4f1de': a cream already
    assert rgb_to_hex(colors.paper) == "#f4f1de"

"""Captions: varied, deterministic, and never claiming what the attributes do not make true."""

import random
import re

import pytest

from dualproc_engine.world.captions import (
    HORIZON_PHRASES,
    STROKE_PHRASES,
    caption,
    horizon_band,
    stroke_band,
)
from dualproc_engine.world.palettes import NAMED_PALETTES
from dualproc_engine.world.scene import sample_scenes

# Words that only one sky kind may use.
SKY_ONLY = {
    "day": ["sunny", "sunshine", "daylight", "midday", "bright day", "clear sky", "daytime"],
    "sunset": ["sunset", "dusk", "sundown", "evening"],
    "night": ["night", "star", "moon"],  # not "dark": the dark_academia palette is named in any sky
    "overcast": ["overcast", "grey", "cloud", "dull"],
}


@pytest.fixture(scope="module")
def landscapes():
    return sample_scenes(20, 300, kind="landscape")


@pytest.fixture(scope="module")
def lineart():
    return sample_scenes(21, 200, kind="lineart")


def test_horizon_bands_follow_thirds_measured_from_the_top():
    assert horizon_band(0.1) == "high" and horizon_band(0.33) == "high"
    assert horizon_band(0.34) == "middle" and horizon_band(0.66) == "middle"
    assert horizon_band(0.67) == "low" and horizon_band(0.9) == "low"


def test_stroke_bands_are_thirds_of_the_range_and_scale_with_size():
    assert stroke_band(1.0, 64) == "thin" and stroke_band(2.6, 64) == "thin"
    assert stroke_band(3.5, 64) == "medium" and stroke_band(4.4, 64) == "thick"
    assert stroke_band(4 * 3.5, 256) == "medium"


def test_captions_are_deterministic_and_varied(landscapes):
    scene = landscapes[0]
    assert caption(scene, random.Random(3)) == caption(scene, random.Random(3))
    texts = {caption(scene, random.Random(seed)) for seed in range(40)}
    assert len(texts) >= 20
    assert len({s.caption for s in landscapes}) == len(landscapes)


def test_sky_words_match_the_sky_kind(landscapes):
    for scene in landscapes:
        text = scene.caption.lower()
        for sky, words in SKY_ONLY.items():
            if sky != scene.sky:
                assert not any(w in text for w in words), (scene.sky, text)
        if scene.sky == "night":
            assert "sun" not in text


def test_horizon_and_palette_phrases_are_true(landscapes):
    mentioned_band = mentioned_palette = 0
    for scene in landscapes:
        text = scene.caption.lower()
        for band, phrases in HORIZON_PHRASES.items():
            if any(p in text for p in phrases):
                assert band == horizon_band(scene.horizon), text
                mentioned_band += 1
        for name in NAMED_PALETTES:
            if name.replace("_", " ") in text:
                assert scene.palette.name == name, text
                mentioned_palette += 1
    assert mentioned_band > 50 and mentioned_palette > 30


def test_object_words_name_objects_that_are_there(landscapes, lineart):
    words = {"tree": "tree", "house": "house", "mountain": "mountain", "person": "person", "people": "person"}
    words |= {"animal": "animal", "circle": "circle", "square": "square", "triangle": "triangle"}
    for scene in landscapes + lineart:
        kinds = {o.kind for o in scene.objects}
        text = scene.caption.lower()
        for word, kind in words.items():
            if re.search(rf"\b{word}s?\b", text):
                assert kind in kinds, (text, kinds)


def test_counts_in_captions_are_exact(landscapes):
    numbers = {"two": 2, "three": 3, "four": 4, "five": 5}
    plural = {
        "trees": "tree",
        "houses": "house",
        "mountains": "mountain",
        "people": "person",
        "animals": "animal",
    }
    checked = 0
    for scene in landscapes:
        for number, noun in re.findall(
            r"\b(two|three|four|five) (trees|houses|mountains|people|animals)\b", scene.caption
        ):
            assert sum(o.kind == plural[noun] for o in scene.objects) == numbers[number], scene.caption
            checked += 1
    assert checked > 20


def test_lineart_stroke_words_match_the_width(lineart):
    checked = 0
    for scene in lineart:
        text = scene.caption.lower()
        for band, phrases in STROKE_PHRASES.items():
            if any(p in text for p in phrases):
                assert band == stroke_band(scene.stroke_width_px, scene.size_px), text
                checked += 1
    assert checked > 100


def test_random_palettes_are_never_named(landscapes):
    for scene in landscapes:
        if scene.palette.name is None:
            assert "palette" not in scene.caption and "colour scheme" not in scene.caption

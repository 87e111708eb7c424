"""The renderer: determinism, the horizon where the attributes say, perspective and occlusion, visible
points, stroke widths that scale, and colours that come from the palette in the way the scheme says."""

import numpy as np
import pytest
import torch

from dualproc_engine.world.attributes import SceneObject
from dualproc_engine.world.coloring import landscape_colors, lineart_colors
from dualproc_engine.world.colorspace import ciede2000, hex_to_rgb, rgb_to_cielab, rgb_to_oklab
from dualproc_engine.world.draw_landscape import layer_count
from dualproc_engine.world.render import (
    OWNER_CELESTIAL,
    OWNER_GROUND,
    OWNER_SKY,
    render,
    render_full,
    to_uint8,
)
from dualproc_engine.world.scene import sample_scene, sample_scenes


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Render on one thread: chunks are small, and intra-op threads on a busy machine cost 10-50x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def landscapes():
    return render_full(sample_scenes(11, 96, kind="landscape"))


@pytest.fixture(scope="module")
def lineart():
    return render_full(sample_scenes(12, 64, kind="lineart"))


def test_images_are_float_in_unit_range_at_any_size():
    scenes = sample_scenes(0, 6)
    for size in (64, 96, 128):
        images = render(scenes, size)
        assert images.shape == (6, 3, size, size) and images.dtype == torch.float32
        assert images.min() >= 0.0 and images.max() <= 1.0
    assert to_uint8(images).shape == (6, 128, 128, 3)


def test_same_seed_same_bits_and_different_seeds_differ():
    a = render(sample_scenes(3, 16))
    assert torch.equal(a, render(sample_scenes(3, 16)))
    b = render(sample_scenes(4, 16))
    assert all(not torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_scene_renders_the_same_alone_or_in_a_batch():
    scenes = sample_scenes(8, 40)
    batch = render_full(scenes)
    for i in (0, 7, 21, 39):
        alone = render_full([scenes[i]])
        assert torch.equal(alone.images[0], batch.images[i])
        assert torch.equal(alone.owner[0], batch.owner[i])
        assert alone.scenes[0] == batch.scenes[i]


def test_render_full_fills_visible_points_without_touching_its_input():
    scenes = sample_scenes(2, 8)
    result = render_full(scenes)
    assert all(o.visible_point is None for s in scenes for o in s.objects)
    assert any(o.visible_point is not None for s in result.scenes for o in s.objects)
    assert torch.equal(result.images, render(scenes))


def _boundary_rows(column: np.ndarray) -> int:
    """Row index r where the colour jump between rows r-1 and r is largest (an edge at y = r pixels)."""
    lab = rgb_to_cielab(column.astype(np.float64) / 255.0)
    jumps = np.linalg.norm(np.diff(lab, axis=0), axis=1)
    return int(np.argmax(jumps)) + 1


def test_the_sky_ground_boundary_at_the_centre_column_is_at_the_horizon(landscapes):
    size = 64
    pixels = to_uint8(landscapes.images)
    checked = 0
    for scene, image, owner in zip(landscapes.scenes, pixels, landscapes.owner, strict=True):
        centre = owner[:, size // 2]
        if not bool(((centre == OWNER_SKY) | (centre == OWNER_GROUND)).all()):
            continue  # an object, a mountain or the sun covers the centre column
        edge = _boundary_rows(image[:, size // 2])
        assert abs(edge - scene.horizon * size) <= 1.0, (scene.seed, edge, scene.horizon * size)
        checked += 1
    assert checked >= 10


def _hough_horizon(image: np.ndarray) -> float:
    """A measurer's estimate of the horizon row at the centre, from pixels alone (no attributes).

    Edges between vertically adjacent rows (CIELAB distance), each column normalised to one vote, then
    the straight near-horizontal line (|tilt| <= 4 degrees) collecting the most edge strength.
    """
    size = image.shape[0]
    lab = rgb_to_cielab(image.astype(np.float64) / 255.0)
    edges = np.zeros((size, size))
    edges[1:] = np.linalg.norm(np.diff(lab, axis=0), axis=2)  # edges[r, c]: between rows r-1 and r
    edges /= np.maximum(edges.max(axis=0, keepdims=True), 1e-6)
    slopes = np.tan(np.radians(np.arange(-4.0, 4.01, 0.25)))
    centres = np.arange(1.0, size - 1.0, 0.25)
    offsets = (np.arange(size) + 0.5 - size / 2)[None, None, :] * slopes[:, None, None]
    rows = np.clip(np.rint(centres[None, :, None] + offsets), 0, size - 1).astype(int)
    support = edges[rows, np.arange(size)[None, None, :]].sum(axis=2)
    _, best = np.unravel_index(np.argmax(support), support.shape)
    return float(centres[best])


def test_a_measurer_finds_the_horizon_within_one_and_a_half_percent(landscapes):
    size = 64
    pixels = to_uint8(landscapes.images)
    errors = np.array(
        [
            abs(_hough_horizon(image) - scene.horizon * size) / size
            for scene, image in zip(landscapes.scenes, pixels, strict=True)
        ]
    )
    assert np.mean(errors <= 0.015) >= 0.95, sorted(errors)[-8:]


def test_owned_pixels_lie_in_their_object_box(landscapes, lineart):
    for result in (landscapes, lineart):
        size = result.owner.shape[-1]
        for scene, owner in zip(result.scenes, result.owner, strict=True):
            for k, obj in enumerate(scene.objects):
                ys, xs = torch.nonzero(owner == k, as_tuple=True)
                if len(xs) == 0:
                    continue
                x0, y0, x1, y1 = (v * size for v in obj.box)
                assert xs.min() + 0.5 >= x0 - 0.5 and xs.max() + 0.5 <= x1 + 0.5, (scene.seed, k)
                assert ys.min() + 0.5 >= y0 - 0.5 and ys.max() + 0.5 <= y1 + 0.5, (scene.seed, k)


def test_visible_points_are_owned_by_their_objects(landscapes, lineart):
    hidden = visible = 0
    for result in (landscapes, lineart):
        size = result.owner.shape[-1]
        for scene, owner in zip(result.scenes, result.owner, strict=True):
            for k, obj in enumerate(scene.objects):
                if obj.visible_point is None:
                    assert not bool((owner == k).any())
                    hidden += 1
                    continue
                col, row = int(obj.visible_point[0] * size), int(obj.visible_point[1] * size)
                assert int(owner[row, col]) == k
                assert obj.visible_point == ((col + 0.5) / size, (row + 0.5) / size)
                visible += 1
    assert visible > 100


def _occlusion_scene(near_first: bool):
    far = SceneObject("tree", "#2a9d8f", (0.40, 0.30, 0.60, 0.70), 4.0)
    near = SceneObject("house", "#e76f51", (0.35, 0.50, 0.65, 0.85), 1.5)
    objects = [near, far] if near_first else [far, near]
    return sample_scene(
        1, kind="landscape", horizon=0.5, horizon_tilt_deg=0.0, palette="retro", objects=objects
    )


@pytest.mark.parametrize("near_first", [False, True])
def test_nearer_objects_cover_farther_ones(near_first):
    scene = _occlusion_scene(near_first)
    assert [o.kind for o in scene.objects] == ["tree", "house"]  # drawing order, whatever the input order
    result = render_full([scene])
    owner, image = result.owner[0], result.images[0]
    # Where the tree's trunk meets the house's wall (x 0.5, y 0.695), the wall is in front.
    row, col = int(0.695 * 64), 32
    assert int(owner[row, col]) == 1
    wall = torch.tensor(hex_to_rgb("#e76f51"))
    assert torch.allclose(image[:, row, col], wall, atol=1 / 255)
    # The tree still shows above the house.
    assert int(owner[int(0.45 * 64), 32]) == 0
    assert result.scenes[0].objects[0].visible_point is not None


def test_an_object_hidden_behind_a_nearer_one_has_no_visible_point():
    small = SceneObject("person", "#e9c46a", (0.48, 0.45, 0.52, 0.55), 8.0)
    wall = SceneObject("house", "#264653", (0.2, 0.3, 0.8, 0.9), 1.2)
    scene = sample_scene(
        2, kind="landscape", horizon=0.5, horizon_tilt_deg=0.0, palette="retro", objects=[small, wall]
    )
    result = render_full([scene])
    assert result.scenes[0].objects[0].visible_point is None
    assert result.scenes[0].objects[1].visible_point is not None


def _ink_across_left_edge(scene, size: int) -> float:
    """Ink (in pixels) crossed by a horizontal line through the middle of a square's left side."""
    image = render([scene], size)[0].numpy().transpose(1, 2, 0).astype(np.float64)
    colors = lineart_colors(scene.palette.colors)
    paper, ink = np.array(colors.paper), np.array(hex_to_rgb(colors.ink))
    box = scene.objects[0].box
    row = int(0.5 * (box[1] + box[3]) * size)
    x_end = int((0.5 * (box[0] + box[2])) * size)  # up to the square's centre: paper inside
    line = image[row, :x_end]
    alpha = ((line - paper) @ (ink - paper)) / float((ink - paper) @ (ink - paper))
    return float(alpha.clip(0, 1).sum())


@pytest.mark.parametrize("width_at_64", [1.3, 2.5, 4.75])
def test_stroke_width_is_exact_and_scales_with_resolution(width_at_64):
    square = {
        "kind": "square",
        "color": "",
        "box": [0.3, 0.3, 0.7, 0.7],
        "distance": 1.0,
        "visible_point": None,
    }
    measured = []
    for size in (64, 256):
        colors = lineart_colors(("#ffffff", "#eeeeee", "#999999", "#555555", "#111111"))
        obj = dict(square, color=colors.ink)  # the ink colour: an outline without fill
        scene = sample_scene(
            3,
            kind="lineart",
            size_px=size,
            palette=["#ffffff", "#eeeeee", "#999999", "#555555", "#111111"],
            stroke_width_px=width_at_64 * size / 64,
            objects=[obj],
        )
        measured.append(_ink_across_left_edge(scene, size))
    assert measured[0] == pytest.approx(width_at_64, rel=0.05)
    assert measured[1] == pytest.approx(4 * width_at_64, rel=0.05)


def test_a_render_at_another_size_scales_the_stroke():
    scene = sample_scene(5, kind="lineart", size_px=64, stroke_width_px=2.0)
    small, large = render([scene], 64), render([scene], 256)
    ink_small = (small < 0.5).float().mean()
    ink_large = (large < 0.5).float().mean()
    assert float(ink_large) == pytest.approx(float(ink_small), rel=0.25)  # same share of the image


def _delta_e_to_nearest(pixels: np.ndarray, colors: list[tuple[float, float, float]]) -> np.ndarray:
    lab = rgb_to_cielab(pixels.reshape(-1, 3) / 255.0)
    refs = rgb_to_cielab(np.array(colors))
    return ciede2000(lab[:, None, :], refs[None, :, :]).min(axis=1)


def test_ground_and_objects_are_palette_colours(landscapes):
    """Below the sky, the image is the palette: ground within its texture's few units, objects exact."""
    pixels = to_uint8(landscapes.images)
    shares = []
    for scene, image, owner in zip(landscapes.scenes, pixels, landscapes.owner, strict=True):
        colors = landscape_colors(scene.palette.colors, scene.sky, scene.ground)
        mask = (owner != OWNER_SKY).numpy() & (owner != OWNER_CELESTIAL).numpy()
        references = [hex_to_rgb(c) for c in scene.palette.colors] + [colors.ground]
        d = _delta_e_to_nearest(image[mask], references)
        shares.append(float(np.mean(d <= 8.0)))
    assert np.median(shares) >= 0.85, sorted(shares)[:10]


def _delta_e_to_blends(pixels: np.ndarray, colors: list[tuple[float, float, float]]) -> np.ndarray:
    """CIEDE2000 from each pixel to the nearest mix of two of `colors` (what antialiasing makes)."""
    rgb = pixels.reshape(-1, 3).astype(np.float64) / 255.0
    lab = rgb_to_cielab(rgb)
    refs = np.array(colors)
    best = np.full(len(rgb), np.inf)
    for i in range(len(refs)):
        for j in range(i, len(refs)):
            a, b = refs[i], refs[j]
            span = b - a
            t = np.clip(((rgb - a) @ span) / max(float(span @ span), 1e-12), 0.0, 1.0)
            best = np.minimum(best, ciede2000(lab, rgb_to_cielab(a + t[:, None] * span)))
    return best


def test_lineart_pixels_are_paper_ink_fills_or_their_antialiased_mixes(lineart):
    pixels = to_uint8(lineart.images)
    for scene, image in zip(lineart.scenes[:24], pixels[:24], strict=True):
        colors = lineart_colors(scene.palette.colors)
        references = [colors.paper, hex_to_rgb(colors.ink)] + [hex_to_rgb(c) for c in colors.fill_choices]
        assert np.mean(_delta_e_to_blends(image, references) <= 2.0) >= 0.95, (
            scene.seed
        )  # the rest mixes three
        assert np.mean(_delta_e_to_nearest(image, references) <= 2.0) >= 0.6  # mostly flat colour


def _sky_statistics(scene, image: torch.Tensor, owner: torch.Tensor) -> tuple[float, float]:
    """Mean OKLab lightness and chroma of the upper part of the sky's own pixels."""
    rows = max(2, int(scene.horizon * 64 * 0.4))
    mask = owner[:rows] == OWNER_SKY
    rgb = image[:, :rows][:, mask].T.numpy()
    lab = np.array([rgb_to_oklab(tuple(p)) for p in rgb[:: max(1, len(rgb) // 200)]])
    return float(np.median(lab[:, 0])), float(np.median(np.hypot(lab[:, 1], lab[:, 2])))


@pytest.mark.parametrize("sky", ["day", "sunset", "night", "overcast"])
def test_sky_kind_is_recognisable_from_the_sky_pixels(sky):
    result = render_full(sample_scenes(13, 24, kind="landscape", sky=sky))
    shown = [bool((owner == OWNER_CELESTIAL).any()) for owner in result.owner]
    if sky == "overcast":
        assert not any(shown)
    else:  # a sun or moon, unless objects stand in front of it
        assert sum(shown) >= 0.8 * len(shown)
    for scene, image, owner in zip(result.scenes, result.images, result.owner, strict=True):
        lightness, chroma = _sky_statistics(scene, image, owner)
        if sky == "night":
            assert lightness < 0.3
        elif sky == "sunset":
            assert 0.38 < lightness < 0.6
            # Just above the horizon: brighter, and warm (OKLab hue from magenta-red to yellow).
            sky_rows = scene.horizon * 64
            band = slice(min(int(0.85 * sky_rows), int(sky_rows) - 2), int(sky_rows) - 1)  # the last sixth
            mask = owner[band] == OWNER_SKY
            glow = rgb_to_oklab(tuple(image[:, band][:, mask].median(dim=1).values.tolist()))
            assert glow[0] > lightness + 0.1 and -45 < np.degrees(np.arctan2(glow[2], glow[1])) < 90
        elif sky == "day":
            assert lightness > 0.6 and chroma > 0.05
        else:
            assert 0.55 < lightness < 0.75 and chroma < 0.035


def test_night_skies_have_stars():
    result = render_full(sample_scenes(14, 12, kind="landscape", sky="night", horizon=0.6))
    for image, owner in zip(result.images, result.owner, strict=True):
        sky = image.mean(0)[owner == OWNER_SKY]
        assert int((sky > sky.median() + 0.3).sum()) >= 3


def test_chunks_group_scenes_of_similar_cost():
    scenes = sample_scenes(15, 50, kind="landscape")
    assert all(layer_count(s) >= 0 for s in scenes)
    shuffled = list(reversed(scenes))
    assert torch.equal(render(shuffled), render(scenes).flip(0))

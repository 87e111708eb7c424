"""Where each overlay lands: horizon rows, palette swatches, stroke width, point dots, layout outlines."""

import math

import pytest
import torch

from dualproc_engine.prompts import apply_overlay, overlay_layer, parse_overlay
from dualproc_engine.prompts.color import hex_to_rgb
from dualproc_engine.prompts.layout import BOX_COLORS
from dualproc_engine.prompts.points import POINT_COLORS
from dualproc_engine.prompts.spec import MAX_COLORS
from dualproc_engine.prompts.stroke import STROKE_SPAN, stroke_band_height

RED = torch.tensor([1.0, 0.0, 0.0])


def alpha_of(spec: dict, size: int) -> torch.Tensor:
    return overlay_layer(parse_overlay(spec), size, size).alpha[0]


@pytest.mark.parametrize("size", [64, 128, 256])
def test_horizon_line_lands_on_the_right_rows(size, plain):
    out = apply_overlay(plain(size), {"kind": "horizon", "y": 0.5})
    # 2 px at 64 px is 2 * size / 64 px, centred on the boundary at row size / 2
    half = size // 64
    red_rows = [r for r in range(size) if torch.allclose(out[0, :, r, :], RED[:, None].expand(3, size))]
    assert red_rows == list(range(size // 2 - half, size // 2 + half))
    untouched = [r for r in range(size) if r < size // 2 - half or r >= size // 2 + half]
    assert torch.equal(out[:, :, untouched], plain(size)[:, :, untouched])


@pytest.mark.parametrize("size", [64, 128, 256])
@pytest.mark.parametrize("y", [0.137, 0.35, 0.81])
def test_horizon_line_is_centred_on_y_with_its_scaled_width(size, y):
    alpha = alpha_of({"kind": "horizon", "y": y, "width_px": 2.5}, size)
    rows = torch.arange(size, dtype=torch.float32) + 0.5
    column = alpha[:, 7]
    # antialiasing keeps the line's area exactly and its centre to within a partial pixel's offset
    assert column.sum().item() == pytest.approx(2.5 * size / 64, abs=1e-4)
    assert (column * rows).sum().item() / column.sum().item() == pytest.approx(y * size, abs=0.1)


def test_tilted_horizon_passes_through_the_centre_and_falls_to_the_right():
    size, tilt = 128, 10.0
    alpha = alpha_of({"kind": "horizon", "y": 0.5, "tilt_deg": tilt}, size)
    rows = torch.arange(size, dtype=torch.float32) + 0.5

    def centre_row(col: int) -> float:
        c = alpha[:, col]
        return (c * rows).sum().item() / c.sum().item()

    for col in (10, 64, 100):
        # the renderer's horizon: y(x) = horizon + (x - 1/2) tan(tilt), in fractions, y down
        expected = size / 2 + (col + 0.5 - size / 2) * math.tan(math.radians(tilt))
        assert centre_row(col) == pytest.approx(expected, abs=0.05)
    assert centre_row(120) > centre_row(8)


@pytest.mark.parametrize("size", [64, 96, 256])
def test_palette_swatches_hold_the_spec_colours(size, plain):
    colors = ["#aabbcc", "#123456", "#ff8000", "#00ff7f", "#7f007f"]
    out = apply_overlay(plain(size), {"kind": "palette", "colors": colors})
    top = size - size / 8
    assert torch.equal(out[:, :, : math.floor(top)], plain(size)[:, :, : math.floor(top)])
    k = len(colors)
    for i, hex_color in enumerate(colors):
        x0, x1 = math.ceil(i * size / k) + 1, math.floor((i + 1) * size / k) - 1
        interior = out[0, :, math.ceil(top) : size, x0:x1]
        expected = torch.tensor(hex_to_rgb(hex_color)).view(3, 1, 1).expand_as(interior)
        torch.testing.assert_close(interior, expected)


@pytest.mark.parametrize("size", [64, 128])
def test_tiled_palette_puts_a_small_strip_at_the_centre_of_every_cell(size, plain):
    """Layout "tiles": in each of the 4 x 4 cells, k swatches of 1/32 of the side, left to right, centred on
    the cell's centre; the rest of the image untouched."""
    colors = ["#aabbcc", "#123456", "#ff8000", "#00ff7f", "#7f007f"]
    base = plain(size)
    out = apply_overlay(base, {"kind": "palette", "colors": colors, "layout": "tiles"})
    side, cell, k = size // 32, size // 4, len(colors)
    changed = (out != base).any(dim=1)[0]
    assert int(changed.sum()) <= 16 * k * side * side and int(changed.sum()) >= 16 * k * side * side * 0.9
    for r in range(4):
        for c in range(4):
            y0 = r * cell + (cell - side) // 2
            x0 = c * cell + (cell - k * side) // 2
            for i, hex_color in enumerate(colors):
                swatch = out[0, :, y0 : y0 + side, x0 + i * side : x0 + (i + 1) * side]
                expected = torch.tensor(hex_to_rgb(hex_color)).view(3, 1, 1).expand_as(swatch)
                torch.testing.assert_close(swatch, expected)
    assert not changed[: (cell - side) // 2].any() and not changed[:, : (cell - k * side) // 2].any()
    k = MAX_COLORS  # as many as allowed: narrower swatches filling the cell's width, never overlapping
    many = [f"#{i:02x}{i:02x}{i:02x}" for i in range(0, 15 * k, 15)]
    alpha = alpha_of({"kind": "palette", "colors": many, "layout": "tiles"}, size)
    narrow = min(2.0, 16 / k) * size / 64
    assert float(alpha.max()) <= 1.0 + 1e-6 and float(alpha.sum()) == pytest.approx(16 * k * narrow**2)


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("width_px", [1.0, 2.5, 4.0])
def test_stroke_sample_has_the_scaled_width_on_a_white_band(size, width_px, plain):
    spec = {"kind": "stroke", "width_px": width_px}
    out = apply_overlay(plain(size), spec)
    alpha = alpha_of(spec, size)
    band_top = math.ceil(size - stroke_band_height(size, size, width_px))
    mid = size // 2
    ink = 1.0 - out[0, 0, band_top:, mid]  # black on white: darkness is stroke coverage
    assert ink.sum().item() == pytest.approx(width_px * size / 64, abs=1e-4)
    assert torch.all(alpha[band_top:] == 1)  # the band is opaque paper
    edge = math.floor(STROKE_SPAN[0] * size) - 1
    torch.testing.assert_close(out[0, :, band_top:, edge], torch.ones(3, size - band_top))


def test_curved_stroke_stays_in_its_band_and_keeps_its_area():
    size, width_px = 128, 2.0
    straight = alpha_of({"kind": "stroke", "width_px": width_px}, size)
    layer = overlay_layer(parse_overlay({"kind": "stroke", "width_px": width_px, "curve": 1.0}), size, size)
    ink = layer.alpha[0] - layer.color[0]  # opaque band: alpha 1, red channel 1 where paper, 0 where ink
    band_top = math.ceil(size - stroke_band_height(size, size, width_px))
    assert ink[:band_top].abs().sum() == 0
    rows = torch.arange(size, dtype=torch.float32)
    centres = (ink * rows[:, None]).sum(0) / ink.sum(0).clamp_min(1e-6)
    inked = ink.sum(0) > 0
    assert centres[inked].max() - centres[inked].min() > 2  # it does bend
    assert straight.sum() > 0


@pytest.mark.parametrize("size", [64, 128, 256])
def test_point_dots_sit_at_their_coordinates(size, plain):
    a, b = (0.3, 0.6), (0.95, 0.2)
    out = apply_overlay(plain(size), {"kind": "points", "a": list(a), "b": list(b)})
    for (x, y), label in ((a, "A"), (b, "B")):
        color = torch.tensor(POINT_COLORS[label]).view(3, 1, 1)
        cx, cy = x * size, y * size
        r = 4 * size // 64  # dot, ring and a little more: the window around the dot
        y0, x0 = int(cy) - r, int(cx) - r
        window = out[0, :, y0 : int(cy) + r + 1, x0 : int(cx) + r + 1]
        is_dot = (window - color).abs().amax(0) < 1e-6
        assert is_dot[int(cy) - y0, int(cx) - x0]
        ys, xs = torch.nonzero(is_dot, as_tuple=True)
        assert (ys.float() + y0 + 0.5).mean().item() == pytest.approx(cy, abs=0.5)
        assert (xs.float() + x0 + 0.5).mean().item() == pytest.approx(cx, abs=0.5)


def test_point_labels_are_drawn_beside_their_dots_inside_the_image(plain):
    size = 64
    out = apply_overlay(plain(size), {"kind": "points", "a": [0.2, 0.5], "b": [0.97, 0.5]})
    for label, side in (("A", "right"), ("B", "left")):
        color = torch.tensor(POINT_COLORS[label]).view(3, 1, 1)
        is_ink = (out[0] - color).abs().amax(0) < 1e-6
        cx = (0.2 if label == "A" else 0.97) * size
        cols = torch.nonzero(is_ink.any(0)).flatten().float() + 0.5
        letter_cols = cols[(cols - cx).abs() > 4]  # beyond the dot and its ring
        assert len(letter_cols) >= 3
        assert (letter_cols > cx).all() if side == "right" else (letter_cols < cx).all()


def test_layout_outlines_each_box_in_its_colour_and_labels_it_above(plain):
    size = 128
    # edges on whole pixels at 128 px (multiples of 1/128), so outline pixels are fully covered
    boxes = [
        {"box": [0.125, 0.5, 0.4375, 0.875], "label": "sun"},
        {"box": [0.5, 0.25, 0.9375, 0.625], "label": "house"},
    ]
    images = plain(size)
    out = apply_overlay(images, {"kind": "layout", "boxes": boxes})
    for i, b in enumerate(boxes):
        x0, y0, x1, y1 = (round(v * size) for v in b["box"])
        color = torch.tensor(BOX_COLORS[i]).view(3, 1)
        # 1 px at 64 px is 2 px here, drawn inside the box: all four edges in the box's colour
        torch.testing.assert_close(out[0, :, y1 - 1, x0:x1], color.expand(3, x1 - x0))
        torch.testing.assert_close(out[0, :, y0, x0:x1], color.expand(3, x1 - x0))
        torch.testing.assert_close(out[0, :, y0:y1, x0], color.expand(3, y1 - y0))
        torch.testing.assert_close(out[0, :, y0:y1, x1 - 2], color.expand(3, y1 - y0))
        # the object's area inside the outline is untouched: the label sits above the box
        inner = out[0, :, y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
        assert torch.equal(inner, images[0, :, y0 + 2 : y1 - 2, x0 + 2 : x1 - 2])
        above = out[0, :, y0 - 18 : y0, x0:x1]
        assert ((above - color[:, :, None]).abs().amax(0) < 1e-6).sum() > 20  # the letters' cells


def test_layout_label_goes_inside_when_there_is_no_room_above(plain):
    size = 64
    out = apply_overlay(
        plain(size), {"kind": "layout", "boxes": [{"box": [0.25, 0.0, 0.75, 0.5], "label": "tree"}]}
    )
    color = torch.tensor(BOX_COLORS[0]).view(3, 1, 1)
    is_ink = (out[0] - color).abs().amax(0) < 1e-6
    assert is_ink[2:9, 18:40].sum() > 15  # inside the top-left corner, below the top edge
    assert torch.all(out[0, :, 33:, :] == plain(size)[0, :, 33:, :])


@pytest.mark.parametrize("b", [(0.4, 0.5), (0.5, 0.4), (0.42, 0.56)])
def test_close_points_keep_both_dots_and_both_labels_visible(b, plain):
    size, a = 64, (0.5, 0.5)
    out = apply_overlay(plain(size), {"kind": "points", "a": list(a), "b": list(b)})
    for label, (x, y) in (("A", a), ("B", b)):
        color = torch.tensor(POINT_COLORS[label]).view(3, 1, 1)
        assert torch.allclose(out[0, :, int(y * size), int(x * size)], color[:, 0, 0])
        ink = ((out[0] - color).abs().amax(0) < 1e-6).sum().item()
        assert ink >= 9 + 12  # the dot's whole pixels plus most of a letter's 5x7 cells

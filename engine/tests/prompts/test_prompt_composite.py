"""Compositing: gradients, blend at 50%, paste leaving uncovered pixels alone, reference pictures."""

import pytest
import torch

from dualproc_engine.prompts import apply_overlay, overlay_layer, parse_overlay
from dualproc_engine.prompts.composite import composite_reference

SPECS = [
    {"kind": "horizon", "y": 0.4},
    {"kind": "horizon", "y": 0.6, "tilt_deg": 12, "mode": "blend"},
    {"kind": "palette", "colors": ["#ff0000", "#00ff00", "#0000ff"]},
    {"kind": "stroke", "width_px": 3, "curve": 0.5},
    {"kind": "points", "a": [0.25, 0.5], "b": [0.75, 0.3]},
    {"kind": "layout", "boxes": [{"box": [0.1, 0.2, 0.6, 0.7], "label": "tree"}], "mode": "blend"},
]


def alpha_of(spec: dict, size: int) -> torch.Tensor:
    return overlay_layer(parse_overlay(spec), size, size).alpha[0]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s['kind']}-{s.get('mode', 'paste')}")
def test_gradient_reaches_the_image_through_every_overlay(spec, plain):
    images = plain(48).requires_grad_(True)
    weights = torch.rand(images.shape, generator=torch.Generator().manual_seed(0))
    (apply_overlay(images, spec) * weights).sum().backward()
    assert images.grad is not None
    alpha = alpha_of(spec, 48)
    opacity = 0.5 if spec.get("mode") == "blend" else 1.0
    # the composite is affine in the image: d out / d image = 1 - opacity * alpha, pixel by pixel
    expected = weights * (1 - opacity * alpha)
    torch.testing.assert_close(images.grad, expected)
    assert (alpha > 0).any() and (alpha == 0).any()


@pytest.mark.parametrize("size", [64, 128])
def test_blend_at_half_opacity_is_the_mean_where_the_layer_is_opaque(size, plain):
    images = plain(size)
    spec = {"kind": "palette", "colors": ["#ff0000", "#0000ff"], "mode": "blend"}
    out = apply_overlay(images, spec)
    alpha = alpha_of(spec, size)
    opaque = alpha == 1
    left = torch.zeros(size, size, dtype=torch.bool)
    left[:, : size // 2 - 1] = True  # clear of the seam between the two swatches
    red = torch.tensor([1.0, 0.0, 0.0]).view(3, 1)
    region = opaque & left
    assert region.sum() > 0
    torch.testing.assert_close(out[0][:, region], (images[0][:, region] + red) / 2)


def test_blend_opacity_is_honoured(plain):
    images = plain(64)
    spec = {"kind": "horizon", "y": 0.5, "mode": "blend", "opacity": 0.25}
    out = apply_overlay(images, spec)
    row = out[0, :, 31, 10]  # rows 31 and 32 are fully covered by the 2 px line at y = 0.5
    torch.testing.assert_close(row, 0.75 * images[0, :, 31, 10] + 0.25 * torch.tensor([1.0, 0.0, 0.0]))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["kind"])
def test_paste_leaves_pixels_outside_the_layer_unchanged(spec, plain):
    spec = {k: v for k, v in spec.items() if k != "mode"}
    images = plain(64) + 0.1 * torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    out = apply_overlay(images, spec)
    alpha = alpha_of(spec, 64)
    outside = alpha == 0
    assert torch.equal(out[:, :, outside], images[:, :, outside])
    assert not torch.allclose(out[:, :, alpha == 1], images[:, :, alpha == 1])


def test_overlay_keeps_dtype_and_batch(plain):
    images = plain(32, batch=3).to(torch.float64)
    out = apply_overlay(images, {"kind": "horizon", "y": 0.5})
    assert out.dtype == torch.float64 and out.shape == images.shape


def test_reference_paste_takes_its_non_white_pixels_resized(plain):
    reference = torch.ones(3, 16, 16)
    reference[:, 4:8, 8:12] = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1)  # a blue square on white paper
    images = plain(64).requires_grad_(True)
    out = composite_reference(images, reference, mode="paste")
    # 16 -> 64 is 4x: the square covers rows 16..31 and columns 32..47; its inner part is solid blue
    torch.testing.assert_close(
        out[0, :, 18:30, 34:46], torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1).expand(3, 12, 12)
    )
    far = (slice(None), slice(None), slice(40, 64), slice(0, 24))
    torch.testing.assert_close(out[far], images[far])
    out.sum().backward()
    assert images.grad is not None and images.grad[0, 0, 50, 10] == 1 and images.grad[0, 0, 24, 40] == 0


def test_reference_blend_is_the_mean_of_image_and_reference(plain):
    reference = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(2))
    images = plain(64)
    out = composite_reference(images, reference, mode="blend")
    torch.testing.assert_close(out, (images + reference) / 2)


def test_bad_image_shape_is_one_line():
    with pytest.raises(ValueError, match=r"^images: expected shape \(B, 3, H, W\)"):
        apply_overlay(torch.zeros(3, 8, 8), {"kind": "horizon", "y": 0.5})

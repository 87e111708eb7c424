"""Visual prompts: differentiable overlays composited onto image batches before the judge sees them.

An overlay is drawn as an RGBA `Layer` (antialiased coverage, premultiplied colour) that does not depend on
the image, then composited onto a `(B, 3, H, W)` batch in [0, 1] by `blend` or `paste`; gradients reach the
image through the compositing. One module per prompt kind (horizon, palette, stroke, points, layout); the
JSON-facing `OverlaySpec` forms live in `spec` and `apply_overlay(images, spec)` is the one entry point.

Lengths given in pixels (`width_px`, ...) are pixels at a 64 px image and scale with the image side, so one
spec means the same picture at every resolution.

Importing this package is cheap: `spec` is plain Python, and torch loads on first use of a drawing function.
"""

from importlib import import_module
from typing import Any

# name -> module that defines it; resolved lazily so that `from dualproc_engine.prompts import
# parse_overlay` (used by the QA generator) does not import torch.
_EXPORTS = {
    "apply_overlay": "apply",
    "overlay_layer": "apply",
    "OverlaySpec": "spec",
    "OverlaySpecError": "spec",
    "parse_overlay": "spec",
    "overlay_to_dict": "spec",
    "composite_reference": "composite",
    "blend": "composite",
    "paste": "composite",
    "Layer": "layer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)

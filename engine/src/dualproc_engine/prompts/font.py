"""A 5x7 bitmap font (A-Z, 0-9, '-', space) for point labels and layout annotations.

Text is first laid out as a binary grid of glyph cells (one empty column between glyphs), then resampled to
the wanted height with an exact area filter: at 7, 14, 21 ... px every cell is whole pixels, at other
heights the edges are antialiased and the ink is conserved. Lower-case letters are drawn as capitals.
"""

from __future__ import annotations

from functools import cache

import torch

GLYPH_HEIGHT = 7
GLYPH_WIDTH = 5
GLYPH_GAP = 1

# fmt: off
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    " ": (".....", ".....", ".....", ".....", ".....", ".....", "....."),
}
# fmt: on

CHARACTERS = frozenset(_GLYPHS)


def supports(text: str) -> bool:
    """True when every character of `text` (case-insensitive) has a glyph."""
    return all(ch in _GLYPHS for ch in text.upper())


@cache
def glyph(char: str) -> torch.Tensor:
    """(7, 5) float tensor, 1 where the glyph is inked."""
    rows = _GLYPHS.get(char.upper())
    if rows is None:
        raise ValueError(f"font: no glyph for {char!r}; available: A-Z, 0-9, '-', space")
    return torch.tensor([[1.0 if c == "#" else 0.0 for c in row] for row in rows])


def text_bitmap(text: str) -> torch.Tensor:
    """(7, 6 n - 1) binary grid of `text` at one pixel per cell."""
    if not text:
        return torch.zeros(GLYPH_HEIGHT, 0)
    gap = torch.zeros(GLYPH_HEIGHT, GLYPH_GAP)
    parts: list[torch.Tensor] = []
    for i, char in enumerate(text):
        if i:
            parts.append(gap)
        parts.append(glyph(char))
    return torch.cat(parts, dim=1)


def text_coverage(text: str, height_px: float) -> torch.Tensor:
    """(h, w) coverage of `text` rendered `height_px` tall (rounded to whole pixels, at least 1)."""
    bitmap = text_bitmap(text)
    height = max(1, round(height_px))
    width = max(1, round(bitmap.shape[1] * height / GLYPH_HEIGHT)) if bitmap.shape[1] else 0
    if width == 0:
        return torch.zeros(height, 0)
    return _area_weights(bitmap.shape[0], height) @ bitmap @ _area_weights(bitmap.shape[1], width).T


def _area_weights(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) box-filter resampling: the share of output pixel i that input cell j covers.

    Exact area resampling, so ink is conserved and whole-number scales reproduce the cells exactly.
    """
    step = n_in / n_out  # input cells per output pixel
    lo = torch.arange(n_out, dtype=torch.float64)[:, None] * step
    cells = torch.arange(n_in, dtype=torch.float64)[None, :]
    overlap = (torch.minimum(lo + step, cells + 1) - torch.maximum(lo, cells)).clamp(min=0.0)
    return (overlap / step).float()

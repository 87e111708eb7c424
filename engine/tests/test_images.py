"""The engine's image files and grids."""

from pathlib import Path

import pytest
import torch

from dualproc_engine.errors import UserError
from dualproc_engine.images import image_grid, load_image, save_png


def test_png_round_trip_is_exact_on_the_8_bit_grid(tmp_path: Path) -> None:
    image = torch.randint(0, 256, (3, 5, 7)).float() / 255
    path = save_png(image, tmp_path / "deep" / "a.png")
    assert path.is_file() and not list(path.parent.glob(".*partial"))
    assert torch.equal(load_image(path)[0], image)


def test_grid_places_images_row_major_between_white_gutters() -> None:
    images = torch.stack([torch.full((3, 2, 2), v) for v in (0.0, 0.25, 0.5)])
    grid = image_grid(images, cols=2, pad_px=1)
    assert grid.shape == (3, 7, 7)
    assert grid[0, 1, 1] == 0.0 and grid[0, 1, 4] == 0.25 and grid[0, 4, 1] == 0.5
    assert grid[0, 4, 4] == 1.0 and grid[0, 0, 0] == 1.0  # the empty cell and the gutters are white


def test_unreadable_images_are_one_line_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(UserError, match="not an image Pillow can read"):
        load_image(tmp_path / "notes.png")

"""Shared fixture of the overlay tests: plain images in a colour no overlay uses."""

from collections.abc import Callable

import pytest
import torch

PLAIN = (0.3, 0.6, 0.45)  # a muted green, unlike every overlay colour in every channel


@pytest.fixture
def plain() -> Callable[..., torch.Tensor]:
    def make(size: int, batch: int = 2) -> torch.Tensor:
        return torch.tensor(PLAIN).view(1, 3, 1, 1).expand(batch, 3, size, size).clone()

    return make

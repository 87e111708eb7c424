"""Tiny Scenes generators built from configs: seconds on a CPU, no weights needed."""

from __future__ import annotations

import pytest
import torch

from dualproc_engine.generators.embedded import EmbeddedConfig, EmbeddedGenerator, build_pipeline
from dualproc_engine.generators.scenes_text import caption_vocabulary

TINY = EmbeddedConfig(
    image_size_px=16, block_out_channels=(16, 32), attention_heads=2, text_hidden_size=16, text_layers=1
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the machines are shared; tiny models gain nothing from more


@pytest.fixture(scope="session")
def vocabulary() -> list[str]:
    return caption_vocabulary(n_samples=200)


@pytest.fixture
def tiny_generator(vocabulary) -> EmbeddedGenerator:
    return EmbeddedGenerator(build_pipeline(TINY, seed=0, vocabulary=vocabulary))

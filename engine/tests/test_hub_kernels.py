"""The engine keeps transformers off kernels from the Hub: stock layers, nothing fetched, and models load
where the `kernels` package is missing (seen on a lent H200: every model failed to load there before)."""

from __future__ import annotations

import importlib
import os

import pytest
import torch


def _reimport_engine() -> None:
    import dualproc_engine

    importlib.reload(dualproc_engine)


def test_hub_kernels_are_off_unless_the_user_switches_them_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USE_HUB_KERNELS", raising=False)
    _reimport_engine()
    assert os.environ["USE_HUB_KERNELS"] == "NO"
    monkeypatch.setenv("USE_HUB_KERNELS", "YES")
    _reimport_engine()
    assert os.environ["USE_HUB_KERNELS"] == "YES"  # the user's own setting stands


def test_a_model_loads_where_the_kernels_package_is_missing(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM, modeling_utils

    config = LlamaConfig(
        vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(str(tmp_path))
    monkeypatch.setattr(modeling_utils, "is_kernels_available", lambda: False)

    monkeypatch.setenv("USE_HUB_KERNELS", "YES")  # what transformers does when nobody says otherwise
    with pytest.raises(ValueError, match="Kernels are not available"):
        LlamaForCausalLM.from_pretrained(str(tmp_path))

    monkeypatch.delenv("USE_HUB_KERNELS")
    _reimport_engine()
    model = LlamaForCausalLM.from_pretrained(str(tmp_path))
    assert not model.use_kernels


def test_doctor_says_whether_hub_kernels_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from dualproc_engine import api

    monkeypatch.delenv("USE_HUB_KERNELS", raising=False)
    _reimport_engine()
    assert api.doctor()["hub_kernels"] is False
    monkeypatch.setenv("USE_HUB_KERNELS", "yes")
    assert api.doctor()["hub_kernels"] is True

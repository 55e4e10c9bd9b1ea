"""Optional fast paths of params.yaml's runtime block (the CUDA ones checked through CPU autocast)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline import runtime


class NoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("keys", torch.randn(4, 3))

    def forward(self, q):
        return q @ self.keys.t()


def nets():
    torch.manual_seed(0)
    return nn.ModuleDict({"D": nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)), "M": NoLayers()})


def test_autocast_runs_layers_in_bf16_and_returns_float32():
    plain, fast = nets(), nets()
    wrapped = runtime.autocast_forwards(fast, "cpu")
    assert wrapped == ["D"]
    x = torch.randn(32, 64)
    out = fast["D"](x)
    assert out.dtype == torch.float32
    diff = (out - plain["D"](x)).abs().max().item()
    assert 0 < diff < 0.05  # bf16 rounding, not a different function
    q = torch.randn(5, 3)
    assert torch.equal(fast["M"](q), plain["M"](q))


def test_accelerate_applies_amp_only_on_cuda_and_nothing_by_default():
    assert runtime.accelerate(nets(), torch.device("cpu"), {"amp": True}) == []
    assert runtime.accelerate(nets(), torch.device("cpu"), {}) == []


def test_threads_zero_shares_the_granted_cpus_not_the_nodes_cores(monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 64)
    assert runtime.thread_count({"threads": 0}) == 4
    assert runtime.thread_count({"threads": 0}, processes=3) == 1
    assert runtime.thread_count({"threads": 0}, processes=8) == 1
    assert runtime.thread_count({"threads": 3}, processes=3) == 3


def _no_cuda(monkeypatch, driver_warning: str | None = None):
    """CUDA unavailable as on a node whose driver is too old for the torch wheel."""
    import warnings

    def is_available():
        if driver_warning:
            warnings.warn(driver_warning, UserWarning)
        return False

    monkeypatch.setattr(runtime.torch.cuda, "is_available", is_available)
    monkeypatch.setattr(runtime.torch.version, "cuda", "12.4")
    monkeypatch.setattr(runtime, "_FALLBACK", {})


def test_auto_falls_back_to_the_cpu_with_a_warning_and_a_record(monkeypatch, capsys):
    from pipeline.provenance import provenance

    _no_cuda(monkeypatch, "CUDA initialization: The NVIDIA driver on your system is too old")
    assert runtime.select_device("auto") == torch.device("cpu")
    assert "driver on your system is too old" in capsys.readouterr().err
    assert runtime.device_fallback().startswith("cuda unavailable: CUDA initialization")
    assert provenance("cpu")["device_fallback"] == runtime.device_fallback()


def test_cuda_fails_loudly_and_cpu_records_no_fallback(monkeypatch, capsys):
    from pipeline.errors import ConfigError

    _no_cuda(monkeypatch)
    with pytest.raises(ConfigError, match="no CUDA device visible"):
        runtime.select_device("cuda")
    assert runtime.select_device("cpu") == torch.device("cpu")
    assert runtime.device_fallback() is None and capsys.readouterr().err == ""

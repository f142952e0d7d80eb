"""Shared test set-up: hypothesis profiles and the device list every device test runs over."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad as mg

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("MINIGRAD_CI_EXAMPLES", "20")),
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CUDA = mg.cuda.is_available()
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(
            not CUDA,
            reason="no CUDA device (run with MINIGRAD_FAKE_CUDA=1 to use the CuPy stand-in)",
        ),
    ),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with grad mode on, the default dtype/device, and a fixed seed."""
    mg.manual_seed(0)
    yield
    mg.set_grad_enabled(True)
    mg.set_default_dtype(mg.float32)
    mg.set_default_device(os.environ.get("MINIGRAD_DEVICE", "cpu"))

"""The backend: only one module imports numpy/cupy; devices and the errors about CUDA."""

from __future__ import annotations

import ast
import pathlib
import sys
import types

import pytest

import minigrad as mg
from minigrad import backend

PACKAGE = pathlib.Path(mg.__file__).parent
# the CuPy stand-in is a wrapper around NumPy, so it imports NumPy itself; everything else,
# the host-only data loading included, reaches NumPy through the backend
ALLOWED = {"backend.py", "testing"}


def _array_imports(path: pathlib.Path, base: pathlib.Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(base)}:{node.lineno} imports {n}"
            for n in names
            if n.split(".")[0] in ("numpy", "cupy", "cupyx")
        ]
    return found


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ALLOWED:
            continue
        offenders += _array_imports(path)
    assert not offenders, "ops must use the backend's array module:\n" + "\n".join(offenders)


def test_the_scan_would_catch_an_import(tmp_path):
    leaky = tmp_path / "leaky.py"
    leaky.write_text("import math\nimport numpy as np\nfrom cupyx import scatter_add\n")
    hits = _array_imports(leaky, base=tmp_path)
    assert hits == ["leaky.py:2 imports numpy", "leaky.py:3 imports cupyx"]


def test_devices_parse_and_compare():
    assert mg.device("cpu") == "cpu" and mg.device("cuda:0") == mg.device("cuda")
    assert str(mg.device("cuda")) == "cuda:0" and repr(mg.device("cpu")) == "device(type='cpu')"
    assert mg.device("cpu:0") == "cpu"  # PyTorch accepts an index for the CPU too
    with pytest.raises(ValueError, match="only one CUDA device"):
        mg.device("cuda:3")
    with pytest.raises(ValueError, match="unknown device 'cpu:1'"):
        mg.device("cpu:1")


def test_default_device_setting():
    mg.set_default_device("cpu")
    assert mg.zeros(1).device == "cpu"


@pytest.fixture
def no_cuda_module(monkeypatch):
    monkeypatch.setattr(backend, "_cuda_module", None)
    monkeypatch.delenv("MINIGRAD_FAKE_CUDA", raising=False)
    yield
    backend._cuda_module = None


def test_cuda_without_cupy_says_to_install_it(monkeypatch, no_cuda_module):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert mg.cuda.is_available() is False
    with pytest.raises(
        RuntimeError, match=r"needs CuPy, which is not installed: pip install 'minigrad\[cuda\]'"
    ):
        mg.ones(2, device="cuda")


def test_cuda_with_cupy_but_no_device_says_so(monkeypatch, no_cuda_module):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(is_available=lambda: False)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert mg.cuda.is_available() is False
    with pytest.raises(RuntimeError, match=r"CuPy is installed but found no CUDA device"):
        mg.zeros(1).to("cuda")


def test_env_var_chooses_default_device(monkeypatch):
    monkeypatch.setattr(backend, "_default_device", None)
    monkeypatch.setenv("MINIGRAD_DEVICE", "cpu")
    assert backend.default_device() == "cpu"
    monkeypatch.setattr(backend, "_default_device", None)
    monkeypatch.setenv("MINIGRAD_DEVICE", "gpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        backend.default_device()
    monkeypatch.setattr(backend, "_default_device", None)


_FAULTS = """
import resource, sys
import minigrad as mg
from minigrad import backend
xp = backend.host
for _ in range(3):  # warm up: the heap grows to hold the arrays once
    arrays = [xp.ones((1 << 21,), dtype=xp.float32) for _ in range(4)]  # 4 x 8 MiB
    del arrays
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    arrays = [xp.ones((1 << 21,), dtype=xp.float32) for _ in range(4)]
    del arrays
print(backend.KEEPS_FREED_MEMORY, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_freed_arrays_are_reused_without_page_faults():
    """Large arrays freed by one op come back to the next without fresh pages (a page fault per
    4 KiB otherwise); MINIGRAD_KEEP_FREED_MEMORY=0 leaves malloc alone."""
    import os
    import subprocess

    def faults(env_value):
        env = dict(os.environ, MINIGRAD_KEEP_FREED_MEMORY=env_value)
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        return out[0] == "True", int(out[1])

    kept, with_reuse = faults("1")
    if not kept:
        pytest.skip("this C library has no glibc mallopt")
    off, without = faults("0")
    assert not off
    pages = 20 * 4 * (8 << 20) // 4096  # what fresh pages would cost
    assert with_reuse < pages // 50, (with_reuse, pages)
    assert without > pages // 8, (without, pages)  # the default does fault: the test can fail


def test_fake_cuda_flag_gives_the_stand_in(monkeypatch):
    """MINIGRAD_FAKE_CUDA=1 makes device "cuda" available, backed by the CPU stand-in, even
    where neither CuPy nor a GPU is present; "0" or an empty value does not."""
    from minigrad.testing import fakecupy

    monkeypatch.setitem(sys.modules, "cupy", None)  # no CuPy: only the flag can give "cuda"
    for value, available in [("1", True), ("0", False), ("", False)]:
        monkeypatch.setattr(backend, "_cuda_module", None)
        monkeypatch.setenv("MINIGRAD_FAKE_CUDA", value)
        assert mg.cuda.is_available() is available, value
        assert mg.cuda.device_count() == int(available)
        if available:
            x = mg.ones(2, 3, device="cuda")
            y = (x * 2).sum(dim=0)
            assert type(x._data) is fakecupy.ndarray and type(y._data) is fakecupy.ndarray
            assert y.device == "cuda" and y.tolist() == [4.0, 4.0, 4.0]
        else:
            with pytest.raises(RuntimeError, match="MINIGRAD_FAKE_CUDA=1"):
                mg.ones(2, device="cuda")

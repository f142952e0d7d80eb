"""The side-by-side benchmark runs (a tiny version of it: this checks that it works, not speed)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("torch")
BENCH = pathlib.Path(__file__).parents[1] / "benchmarks" / "bench.py"


def _run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_benchmark_prints_a_table_of_ratios():
    text = _run("--only", "B3,B5,B6", "--repeats", "1", "--b6-limit", "128")
    assert re.search(r"NumPy float32 GEMM \(2048²\): \d+ GFLOP/s", text)
    for name in ("B3", "B5"):
        row = re.search(rf"^\| {name} \|.*\| (\d+\.\d+)× [✓✗] \|", text, re.M)
        assert row and float(row.group(1)) > 0, text
    if "| B6 |" in text:  # when the Fashion-MNIST files are installed
        assert re.search(r"^\| B6 \| .* \| \d+ \| \d+ \| \d+\.\d+× [✓✗] \|", text, re.M)


def test_profile_mode_shows_forward_and_backward_per_op():
    text = _run("--profile", "--only", "B3")
    assert re.search(r"^\| Linear \| forward \| 15 \|", text, re.M), text
    assert re.search(r"^\| Linear \| backward \| 15 \|", text, re.M), text
    assert "wall time" in text

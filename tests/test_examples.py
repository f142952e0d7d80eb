"""Every example runs in a tiny version and ends by printing its result; the lecture
walk-through prints the slides' own numbers, computed by minigrad's conv2d and max_pool2d."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.data import fashion_mnist

ROOT = Path(__file__).resolve().parent.parent
HAVE_FASHION = any(
    (fashion_mnist.DEFAULT_ROOT / f"{fashion_mnist.FILES[True][0]}{ext}").is_file()
    for ext in (".gz", "")
)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION,
    reason=f"Fashion-MNIST files not in {fashion_mnist.DEFAULT_ROOT} "
    "(apt-get install dataset-fashion-mnist; CI's .ci/run installs it)",
)


def run_example(name: str, *args: str, cwd: Path | None = None) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MINIGRAD_FAKE_CUDA", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("result: "), lines[-3:]
    return lines


def percent(line: str, label: str) -> float:
    return float(re.search(rf"{label} ([\d.]+)%", line).group(1))


# ---------------------------------------------------------------- the lecture's numbers

# the slides: the lecture's X filtered with the diagonal feature, and that map max-pooled
DIAGONAL_MAP = """\
 0.77 -0.11  0.11  0.33  0.55 -0.11  0.33
-0.11  1.00 -0.11  0.33 -0.11  0.11 -0.11
 0.11 -0.11  1.00 -0.33  0.11 -0.11  0.55
 0.33  0.33 -0.33  0.55 -0.33  0.33  0.33
 0.55 -0.11  0.11 -0.33  1.00 -0.11  0.11
-0.11  0.11 -0.11  0.33 -0.11  1.00 -0.11
 0.33 -0.11  0.55  0.33  0.11 -0.11  0.77"""
POOLED_DIAGONAL = """\
1.00 0.33 0.55 0.33
0.33 1.00 0.33 0.55
0.55 0.33 1.00 0.11
0.33 0.55 0.11 0.77"""


def block_after(lines: list[str], title: str, rows: int) -> str:
    i = lines.index(title)
    return "\n".join(" ".join(line.split()) for line in lines[i + 1 : i + 1 + rows])


def test_xo_lecture_prints_the_slides_numbers_then_learns():
    lines = run_example("xo_lecture.py", "--quick")
    squeeze = lambda text: "\n".join(" ".join(r.split()) for r in text.splitlines())  # noqa: E731
    assert block_after(lines, "feature diagonal:", 7) == squeeze(DIAGONAL_MAP)
    assert block_after(lines, "pooled diagonal:", 4) == squeeze(POOLED_DIAGONAL)
    # the cross feature matches the X's centre perfectly; the anti-diagonal mirrors the diagonal
    cross = block_after(lines, "feature cross:", 7).splitlines()
    assert cross[3].split()[3] == "1.00" and cross[1].split()[1] == "0.55"
    anti = block_after(lines, "feature anti_diagonal:", 7).splitlines()
    assert anti[0].split() == DIAGONAL_MAP.splitlines()[0].split()[::-1]
    assert block_after(lines, "rectified diagonal:", 4) == squeeze(POOLED_DIAGONAL)
    votes = [line for line in lines if line.startswith("  the lecture's X: votes")]
    assert votes and percent(lines[-1], "with") > 60


# ---------------------------------------------------------------- the data-set examples


def test_digits_cnn_quick():
    lines = run_example("digits_cnn.py", "--epochs", "3", "--limit", "600")
    assert percent(lines[-1], "test accuracy") > 50 and "(target 98%" in lines[-1]


def test_mnist1d_conv1d_quick():
    lines = run_example("mnist1d_conv1d.py", "--epochs", "3", "--limit", "1000")
    assert percent(lines[-1], "test accuracy") > 30 and "the published CNN" in lines[-1]


@needs_fashion
def test_fashion_mnist_cnn_quick():
    lines = run_example("fashion_mnist_cnn.py", "--epochs", "1", "--limit", "600")
    assert percent(lines[-1], "test accuracy") > 40 and "(target 91%" in lines[-1]


@needs_fashion
def test_conv_autoencoder_quick(tmp_path):
    out = tmp_path / "rec.png"
    lines = run_example(
        "conv_autoencoder.py", "--epochs", "1", "--limit", "1000", "--out", str(out)
    )
    mse, baseline = map(float, re.findall(r"(\d\.\d+)", lines[-1]))
    assert mse < baseline  # better than answering the mean picture
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_fashion
def test_transfer_learning_quick():
    lines = run_example(
        "transfer_learning.py", "--epochs", "1", "--limit", "1000", "--per-class", "10",
        "--head-epochs", "3", "--torch-steps", "3",
    )  # fmt: skip
    assert re.search(r"transfer [\d.]+% vs from scratch [\d.]+%", lines[-1])
    (pytorch,) = [line for line in lines if line.startswith("4. ")]
    if importlib.util.find_spec("torch") is None:
        assert "skipped: PyTorch is not installed" in pytorch
    else:
        diff = float(re.search(r"difference over \d+ test pictures is ([\d.e+-]+)", pytorch)[1])
        assert diff < 1e-4 and "agree on 100%" in pytorch


def test_compare_with_torch_quick():
    pytest.importorskip("torch")
    lines = run_example("compare_with_torch.py", "--data", "xo", "--epochs", "1", "--limit", "300")
    row = [line for line in lines if line.startswith("| xo | xonet | 1 |")]
    assert row and re.search(r"minigrad [\d.]+% vs PyTorch [\d.]+%", lines[-1])
    ours, theirs = percent(lines[-1], "minigrad"), percent(lines[-1], "PyTorch")
    assert abs(ours - theirs) <= 2.0  # same weights, same batches: the same learning

"""Every case of docs/errors.md: the exception type and the key parts of its message, and a check
that each message quoted in the document is the one the code gives today."""

from __future__ import annotations

import io
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import warnings

import pytest

import minigrad as mg
from minigrad import backend, nn, optim
from minigrad.autograd import anomaly
from minigrad.testing import fakecupy

F = nn.functional
DOC = pathlib.Path(__file__).parents[1] / "docs" / "errors.md"


@pytest.fixture(params=["cpu", "cuda"])
def device(request, monkeypatch):
    """Both devices; "cuda" is CuPy when there is a GPU, else the strict CPU stand-in."""
    if request.param == "cuda" and not mg.cuda.is_available():
        monkeypatch.setenv("MINIGRAD_FAKE_CUDA", "1")
        monkeypatch.setattr(backend, "_cuda_module", fakecupy)
    return request.param


# ---------------------------------------------------------------- the document stays true
def doc_cases() -> list[tuple[str, str, str]]:
    """(title, python snippet, quoted text) for every ### case of docs/errors.md."""
    cases = []
    for block in DOC.read_text().split("\n### ")[1:]:
        title = block.split("\n", 1)[0]
        code = re.search(r"```python\n(.*?)\n```", block, re.S)
        text = re.search(r"```text\n(.*?)\n```", block, re.S)
        assert code and text, f"case {title!r} needs a python and a text block"
        cases.append((title, code.group(1), text.group(1)))
    return cases


def run_snippet(code: str) -> str:
    """Run a snippet as the document shows it: 'Type: message' of what it raises (UserWarnings
    count as raised), or str() of its last line's value when that is an expression."""
    ns = {"mg": mg, "nn": nn, "optim": optim, "F": F}
    lines = code.split("\n")
    anomaly._reset_leak_warning()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            try:
                compile(lines[-1], "<s>", "eval")
            except SyntaxError:
                exec("\n".join(lines), ns)
                return "no error"
            exec("\n".join(lines[:-1]), ns)
            return str(eval(lines[-1], ns))
        except Exception as e:
            return f"{type(e).__name__}: {e}"
        finally:
            mg.autograd.set_detect_anomaly(False)


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def test_document_has_every_required_theme():
    titles = [t for t, _, _ in doc_cases()]
    assert len(titles) >= 40 and len(set(titles)) == len(titles)
    sections = re.findall(r"^## (.+)$", DOC.read_text(), re.M)
    assert sections == [
        "Autograd",
        "Tensors, shapes and indices",
        "Layers",
        "Losses",
        "Optimizers",
        "Checkpoints",
    ]


@pytest.fixture
def cuda_ready(monkeypatch):
    """Device "cuda" usable: CuPy when there is a GPU, else the strict CPU stand-in."""
    if not mg.cuda.is_available():
        monkeypatch.setenv("MINIGRAD_FAKE_CUDA", "1")
        monkeypatch.setattr(backend, "_cuda_module", fakecupy)


@pytest.mark.parametrize("title,code,quoted", doc_cases(), ids=[t for t, _, _ in doc_cases()])
def test_document_quotes_the_real_message(title, code, quoted, cuda_ready, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert normalise(run_snippet(code)) == normalise(quoted), title
    if '"cuda"' in code:  # a device case says the same on the CPU
        assert normalise(run_snippet(code.replace('"cuda"', '"cpu"'))) == normalise(quoted)


# ---------------------------------------------------------------- autograd
def test_backward_twice_names_the_op_and_retain_graph():
    x = mg.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*MulBackward.*retain_graph=True"):
        y.backward()


def test_inplace_change_of_saved_input_names_the_saving_op_and_versions():
    a = mg.ones(3, requires_grad=True)
    b = a * 2  # made by Mul, saved by Sin: the message must name Sin
    c = b.sin()
    b.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"modified by an inplace operation: tensor 0 saved by SinBackward, an input "
        r"\(shape \(3,\), float32\), which is now the output of AddBackward, is at version 1; "
        r"expected version 0",
    ):
        c.sum().backward()


def test_inplace_change_of_saved_output_names_the_saving_op():
    a = mg.ones(2, 3, requires_grad=True)
    b = a.exp()
    b.mul_(2)
    b.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"tensor 0 saved by ExpBackward, its own output \(shape \(2, 3\), float32\), is at "
        r"version 2; expected version 0",
    ):
        b.sum().backward()


def test_inplace_change_after_backward_ran_is_fine():
    a = mg.ones(3, requires_grad=True)
    b = a * 2
    c = b.sin()
    c.sum().backward()
    b.add_(1)  # the saved value was already used
    assert a.grad.tolist() == pytest.approx([2 * math.cos(2.0)] * 3)


def test_inplace_on_leaf_that_requires_grad():
    w = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf Variable that requires grad.*\(add_\).*no_grad"):
        w.add_(1)
    with mg.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 2.0, 2.0]


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match=r"floating point dtype.*minigrad\.int64"):
        mg.tensor([1, 2, 3], requires_grad=True)


def test_backward_on_non_scalar_without_gradient():
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(3,\).*gradient="):
        (x * 2).backward()


def test_anomaly_mode_names_forward_op(device):
    x = mg.tensor([1.0, 0.0], requires_grad=True, device=device)
    with mg.autograd.detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(RuntimeError, match=r"anomaly: Log produced inf .*shape \(2,\)"):
            x.log()


def test_anomaly_mode_names_backward_node(device):
    x = mg.tensor([0.0, 1.0], requires_grad=True, device=device)
    with mg.autograd.detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = x.sqrt()
        with pytest.raises(RuntimeError, match=r"SqrtBackward returned inf .*for input 0"):
            y.sum().backward()


def test_accumulated_loss_warns():
    anomaly._reset_leak_warning()
    x = mg.ones(3, requires_grad=True)
    total = 0
    with pytest.warns(UserWarning, match=r"total \+= loss.*loss\.item\(\)"):
        for _ in range(2):
            loss = (x * 2).sum()
            loss.backward()
            total += loss


# ---------------------------------------------------------------- tensors
def test_matmul_shapes():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)


def test_broadcasting():
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        mg.ones(2, 3) + mg.ones(4)


def test_index_out_of_range(device):
    x = mg.ones(3, 4, device=device)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 4"):
        x[:, mg.tensor([0, 5], device=device)]


# ---------------------------------------------------------------- layers
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: nn.Conv1d(1, 4, 3, stride=0), r"Conv1d: stride must be a positive.*got 0"),
        (lambda: nn.Conv2d(1, 4, 3, stride=0), r"Conv2d: stride must be a positive.*got 0"),
        (lambda: nn.ConvTranspose2d(1, 4, 3, stride=0), r"ConvTranspose2d: stride .*got 0"),
        (lambda: nn.MaxPool2d(2, stride=0), r"MaxPool2d: stride must be a positive.*got 0"),
        (lambda: nn.AvgPool2d(2, stride=0), r"AvgPool2d: stride must be a positive.*got 0"),
        (lambda: nn.Conv2d(1, 4, 3, padding=-1), r"Conv2d: padding must be a non-negative.*-1"),
        (lambda: nn.Conv1d(1, 4, 3, padding=-1), r"Conv1d: padding must be a non-negative.*-1"),
        (lambda: nn.MaxPool2d(2, padding=-1), r"MaxPool2d: padding must be a non-negative.*-1"),
        (lambda: nn.AvgPool2d(2, padding=2), r"at most half of kernel size.*pad=2"),
        (lambda: nn.Conv2d(1, 4, 3, dilation=0), r"Conv2d: dilation must be a positive.*got 0"),
        (lambda: nn.MaxPool2d(2, dilation=0), r"MaxPool2d: dilation must be a positive.*0"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels \(3\) must be divisible by groups"),
        (lambda: nn.Conv1d(4, 3, 3, groups=2), r"out_channels \(3\) must be divisible by groups"),
        (lambda: nn.ConvTranspose2d(4, 3, 3, groups=2), r"out_channels \(3\) must be divisible"),
    ],
)
def test_bad_layer_arguments_rejected_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kernel_larger_than_padded_input():
    x = mg.ones(1, 1, 3, 3)
    with pytest.raises(
        RuntimeError, match=r"^Conv2d\(in_channels=1.*size 3x3, smaller than its 5x5"
    ):
        nn.Conv2d(1, 4, 5)(x)
    with pytest.raises(RuntimeError, match=r"size 3x3 \(5x5 after padding\), smaller than its 6x6"):
        nn.Conv2d(1, 4, 6, padding=1)(x)
    assert nn.Conv2d(1, 4, 5, padding=1)(x).shape == (1, 4, 1, 1)  # the padding makes it fit
    with pytest.raises(RuntimeError, match=r"Kernel size: \(5 x 5\)"):
        F.conv2d(x, mg.ones(4, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"^MaxPool2d\(kernel_size=4.*smaller than its pooling"):
        nn.MaxPool2d(4)(x)
    with pytest.raises(RuntimeError, match=r"^AvgPool2d\(kernel_size=4.*smaller than its pooling"):
        nn.AvgPool2d(4)(x)
    with pytest.raises(RuntimeError, match=r"^max_pool2d: .*Output size is too small"):
        F.max_pool2d(x, 4)
    assert nn.MaxPool2d(4, padding=1)(x).shape == (1, 1, 1, 1)


def test_wrong_feature_or_channel_count_names_the_layer():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=2\) .*expected 4"):
        nn.Linear(4, 2)(mg.ones(3, 5))
    with pytest.raises(RuntimeError, match=r"Conv2d\(in_channels=3.* 1 channels.*expected 3"):
        nn.Conv2d(3, 4, 3)(mg.ones(1, 1, 8, 8))
    with pytest.raises(RuntimeError, match=r"Conv1d\(in_channels=2.* 3 channels.*expected 2"):
        nn.Conv1d(2, 4, 3)(mg.ones(1, 3, 8))


@pytest.mark.parametrize(
    "layer,shape",
    [
        (lambda: nn.Linear(4, 2), (3, 4)),
        (lambda: nn.Conv2d(1, 2, 3), (1, 1, 5, 5)),
        (lambda: nn.Conv1d(1, 2, 3), (1, 1, 5)),
        (lambda: nn.ConvTranspose2d(1, 2, 3), (1, 1, 5, 5)),
    ],
)
def test_dtype_mix_says_how_to_convert(layer, shape):
    model = layer()
    x = mg.ones(*shape, dtype=mg.float64)
    with pytest.raises(RuntimeError, match=r"input dtype \(minigrad\.float64\) and weight dtype"):
        model(x)
    with pytest.raises(RuntimeError, match=r"x\.float\(\).*model\.double\(\)"):
        model(x)
    assert model(x.float()).dtype == mg.float32
    assert model.double()(x).dtype == mg.float64


def test_empty_batch_through_conv_and_pool(device):
    x = mg.zeros(0, 1, 6, 6, device=device)
    assert nn.Conv2d(1, 2, 3).to(device)(x).shape == (0, 2, 4, 4)
    assert nn.MaxPool2d(2)(x).shape == (0, 1, 3, 3)
    assert nn.AvgPool2d(2)(x).shape == (0, 1, 3, 3)


def test_empty_batch_through_batchnorm_in_eval(device):
    bn = nn.BatchNorm2d(2).to(device).eval()
    assert bn(mg.zeros(0, 2, 3, 3, device=device)).shape == (0, 2, 3, 3)
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("layer,shape", [(nn.BatchNorm1d, (0, 2)), (nn.BatchNorm2d, (0, 2, 3, 3))])
def test_empty_batch_through_batchnorm_in_training(device, layer, shape):
    torch = pytest.importorskip("torch")
    bn = layer(2, momentum=0.5).to(device)
    tbn = getattr(torch.nn, layer.__name__)(2, momentum=0.5)
    first = torch.randn(3, *shape[1:], generator=torch.Generator().manual_seed(0))
    bn(mg.tensor(first.tolist(), device=device))  # a real batch first: non-trivial statistics
    tbn(first)
    before = bn.running_mean.tolist(), bn.running_var.tolist()
    x = mg.zeros(*shape, requires_grad=True, device=device)
    y = bn(x)
    tbn(torch.zeros(*shape))
    assert y.shape == shape
    # as in PyTorch: running statistics unchanged, the batch counted, zero parameter gradients
    assert (bn.running_mean.tolist(), bn.running_var.tolist()) == before
    assert bn.running_mean.tolist() == pytest.approx(tbn.running_mean.tolist(), rel=1e-5)
    assert bn.running_var.tolist() == pytest.approx(tbn.running_var.tolist(), rel=1e-5)
    assert bn.num_batches_tracked.item() == tbn.num_batches_tracked.item() == 2
    y.sum().backward()
    assert x.grad.shape == shape
    assert bn.weight.grad.tolist() == [0.0, 0.0] and bn.bias.grad.tolist() == [0.0, 0.0]


def test_batchnorm_training_with_one_value_per_channel():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*shape \(1, 3\)"):
        nn.BatchNorm1d(3)(mg.ones(1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(mg.ones(1, 3, 1, 1))
    assert nn.BatchNorm1d(3).eval()(mg.ones(1, 3)).shape == (1, 3)


# ---------------------------------------------------------------- losses
@pytest.mark.parametrize("label", [3, -1, 7])
def test_cross_entropy_label_out_of_range(device, label):
    logits = mg.zeros(2, 3, device=device)
    target = mg.tensor([0, label], device=device)
    with pytest.raises(IndexError, match=rf"Target {label} is out of bounds for 3 classes"):
        F.cross_entropy(logits, target)
    with pytest.raises(IndexError, match=rf"Target {label} is out of bounds"):
        nn.CrossEntropyLoss()(logits, target)


def test_cross_entropy_large_finite_logits_match_torch(device):
    torch = pytest.importorskip("torch")
    rows = [[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]]
    got = F.cross_entropy(mg.tensor(rows, device=device), mg.tensor([1, 1], device=device))
    want = torch.nn.functional.cross_entropy(torch.tensor(rows), torch.tensor([1, 1]))
    assert math.isfinite(got.item())
    assert got.item() == pytest.approx(want.item(), rel=1e-6)


def test_cross_entropy_all_minus_inf_row_is_nan(device):
    logits = mg.full((1, 3), float("-inf"), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(F.cross_entropy(logits, mg.tensor([1], device=device)).item())


def test_cross_entropy_plus_inf_row_is_not_finite(device):
    logits = mg.tensor([[float("inf"), 0.0, 0.0]], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert not math.isfinite(F.cross_entropy(logits, mg.tensor([1], device=device)).item())


def test_cross_entropy_plus_inf_row_is_nan_like_torch(device):
    row = mg.tensor([[float("inf"), 0.0, 0.0]], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silent, as in PyTorch
        loss = F.cross_entropy(row, mg.tensor([1], device=device))
        assert math.isnan(loss.item())
        assert all(math.isnan(v) for v in row.log_softmax(1).tolist()[0])
        assert all(math.isnan(v) for v in row.softmax(1).tolist()[0])
        assert row.logsumexp(1).item() == math.inf
        assert mg.full((1, 3), -math.inf, device=device).logsumexp(1).item() == -math.inf


def test_cross_entropy_empty_batch(device):
    logits = mg.zeros(0, 3, device=device)
    target = mg.zeros(0, dtype=mg.int64, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(F.cross_entropy(logits, target).item())
    assert F.cross_entropy(logits, target, reduction="sum").item() == 0.0
    assert F.cross_entropy(logits, target, reduction="none").shape == (0,)


# ---------------------------------------------------------------- optimizers
def params():
    return nn.Linear(2, 2).parameters()


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: optim.SGD(params(), lr=-0.1), ValueError, r"Invalid learning rate: -0\.1"),
        (lambda: optim.Adam(params(), lr=-1.0), ValueError, "Invalid learning rate"),
        (lambda: optim.Adam(params(), betas=(0.9, 1.0)), ValueError, r"beta .*index 1: 1\.0"),
        (lambda: optim.Adam(params(), betas=(-0.1, 0.9)), ValueError, r"index 0: -0\.1"),
        (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: optim.Adam([], lr=0.1), ValueError, "empty parameter list"),
        (
            lambda: optim.SGD([mg.ones(2, requires_grad=True), 3.0], lr=0.1),
            TypeError,
            "can only optimize Tensors.*float",
        ),
        (lambda: optim.AdamW(params(), weight_decay=-1e-2), ValueError, "Invalid weight_decay"),
        (lambda: optim.SGD(params(), lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
        (lambda: optim.SGD(params(), lr=0.1, momentum=-0.9), ValueError, "Invalid momentum"),
        (lambda: optim.SGD(params(), lr=0.1, nesterov=True), ValueError, "Nesterov momentum"),
    ],
)
def test_optimizer_misconfiguration(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------- checkpoints
def test_load_state_dict_missing_unexpected_and_shape():
    model = nn.Linear(2, 2)
    with pytest.raises(
        RuntimeError, match=r'for Linear:\n\tMissing key\(s\) in state_dict: "bias"'
    ):
        model.load_state_dict({"weight": mg.zeros(2, 2)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        model.load_state_dict(dict(model.state_dict(), extra=mg.zeros(1)))
    before = model.weight.tolist()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .*\[3, 2\].*\[2, 2\]"):
        model.load_state_dict({"weight": mg.zeros(3, 2), "bias": mg.zeros(2)})
    assert model.weight.tolist() == before


def corrupt(path: pathlib.Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[:-10]
    elif how == "bit-flipped":
        data[-3] ^= 0x10
    else:
        data = data.replace(b"weight", b"wxight")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how,match",
    [
        ("truncated", r"not a valid minigrad checkpoint: truncated"),
        ("bit-flipped", r"not a valid minigrad checkpoint: SHA-256 checksum mismatch"),
        ("tampered", r"not a valid minigrad checkpoint: SHA-256 checksum mismatch"),
    ],
)
def test_damaged_checkpoint(tmp_path, how, match):
    path = tmp_path / "ck.mg"
    mg.save(nn.Linear(2, 2).state_dict(), path)
    corrupt(path, how)
    with pytest.raises(ValueError, match=match):
        mg.load(path)


STALLED_SAVE = """
import io, os, sys, time
import minigrad as mg
from minigrad import serialization

path, where, n = sys.argv[1], sys.argv[2], int(sys.argv[3])


def stall():
    print("stalled", flush=True)  # tell the parent that this process is inside mg.save
    time.sleep(120)


if where == "write":  # stop halfway through writing the bytes
    write_parts = serialization._write_parts

    def write_half(f, parts):
        whole = io.BytesIO()
        write_parts(whole, parts)
        data = whole.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        stall()

    serialization._write_parts = write_half
else:  # every byte written, not yet on disk for sure nor renamed
    os.fsync = lambda fd: stall()
mg.save({"step": 2, "w": mg.full((n,), 2.0)}, path)
"""
N_SAVED = 1 << 16


def kill_inside_save(path: pathlib.Path, where: str) -> None:
    """Start a process that saves step 2 to ``path``, wait until it is stalled inside mg.save
    (halfway through the write, or at the fsync before the rename), and SIGKILL it there."""
    root = pathlib.Path(__file__).parents[1]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLED_SAVE, str(path), where, str(N_SAVED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line == "stalled\n", proc.stderr.read() if not line else line
        proc.kill()
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def saved_size(obj) -> int:
    buf = io.BytesIO()
    mg.save(obj, buf)
    return len(buf.getvalue())


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_process_killed_inside_save_leaves_the_old_checkpoint(tmp_path, where):
    path = tmp_path / "ck.mg"
    mg.save({"step": 1, "w": mg.full((N_SAVED,), 1.0)}, path)
    old = path.read_bytes()
    kill_inside_save(path, where)
    assert path.read_bytes() == old  # not a byte of the killed save reached the target
    state = mg.load(path)
    assert state["step"] == 1 and state["w"].shape == (N_SAVED,)
    assert float(state["w"].min()) == float(state["w"].max()) == 1.0
    # what the kill left: the killed save's temporary file, cut where the process stopped
    (tmp,) = [p for p in tmp_path.iterdir() if p != path]
    assert tmp.name.startswith(".ck.mg.")
    full = saved_size({"step": 2, "w": mg.full((N_SAVED,), 2.0)})
    assert tmp.stat().st_size == (full // 2 if where == "write" else full)
    # the leftover confuses neither the next save nor the next load
    mg.save({"step": 3, "w": mg.full((N_SAVED,), 3.0)}, path)
    state = mg.load(path)
    assert state["step"] == 3 and float(state["w"].max()) == 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ck.mg", tmp.name])


def test_process_killed_inside_its_first_save_leaves_no_target(tmp_path):
    path = tmp_path / "ck.mg"
    kill_inside_save(path, "write")
    assert not path.exists()  # no partial file under the target's name
    with pytest.raises(FileNotFoundError):
        mg.load(path)
    mg.save({"step": 1}, path)
    assert mg.load(path) == {"step": 1}

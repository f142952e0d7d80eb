"""Anomaly mode: NaN/Inf in an op's output or in a gradient raises, naming the op and the line
of user code that created it; off by default and free when off."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import function as F


def leaf(values, device="cpu", dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, device=device, requires_grad=True)


@pytest.fixture(autouse=True)
def _anomaly_off():
    yield
    mg.autograd.set_detect_anomaly(False)


def test_off_by_default_and_nan_passes_silently():
    assert not mg.autograd.is_anomaly_enabled()
    with np.errstate(divide="ignore"):
        y = leaf([0.0, 1.0]).log()
    assert math.isinf(y.detach().numpy()[0])
    assert "_anomaly_site" not in y.grad_fn.__dict__  # nothing recorded when off


def test_forward_names_op_shape_and_source_line(device):
    x = leaf([1.0, 0.0, 2.0], device)
    with mg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError) as info:
            x.log()  # the line the message must point at
    msg = str(info.value)
    assert "anomaly: Log produced inf in its output of shape (3,)" in msg
    assert "test_anomaly.py:" in msg and "x.log()  # the line the message" in msg


def test_forward_division_by_zero_names_div(device):
    x = leaf([1.0, 2.0], device)
    with mg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match=r"Div produced inf .*shape \(2,\)"):
            x / 0.0


def test_non_finite_input_is_reported_at_first_op_that_receives_it():
    x = mg.tensor([1.0, float("nan")], dtype=mg.float64)
    with mg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Add produced nan.*inputs were already non-finite"):
            x + 1.0


def test_integer_outputs_are_not_checked():
    with mg.autograd.detect_anomaly():
        y = mg.tensor([1, 2, 3]) * 2
    assert y.numpy().tolist() == [2, 4, 6]


def test_backward_sqrt_at_zero_names_backward_input_and_forward_line(device):
    x = leaf([0.0, 4.0], device)
    with mg.autograd.detect_anomaly():
        y = x.sqrt()  # forward site
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "anomaly: SqrtBackward returned inf in its gradient for input 0 of shape (2,)" in msg
    assert "y = x.sqrt()  # forward site" in msg


def test_backward_division_by_tiny_divisor_names_second_input(device):
    a = leaf([1.0], device)
    b = leaf([1e-200], device)
    with mg.autograd.detect_anomaly():
        y = a / b  # finite forward, but d/db = -a / b**2 overflows
        with np.errstate(all="ignore"), pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "DivBackward returned inf in its gradient for input 1" in msg
    assert "y = a / b" in msg


def test_graph_built_before_anomaly_mode_says_where_to_turn_it_on():
    x = leaf([0.0])
    y = x.sqrt()
    with mg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match="turn anomaly mode on before the forward pass"):
            y.sum().backward()


def test_finite_training_step_unchanged_and_create_graph_works():
    x = leaf([1.0, 2.0])
    with mg.autograd.detect_anomaly():
        (g,) = mg.autograd.grad((x**3).sum(), x, create_graph=True)
        (gg,) = mg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    np.testing.assert_allclose(gg.numpy(), [6.0, 12.0])


def test_double_backward_nan_is_caught_in_second_pass():
    x = leaf([0.0])
    with mg.autograd.detect_anomaly():
        (g,) = mg.autograd.grad((x**2).sum(), x, create_graph=True)  # 2x: fine
        y = (g + 1.0).sqrt().sum() + x.sqrt().sum()
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError, match="SqrtBackward"):
            mg.autograd.grad(y, x)


def test_context_manager_restores_previous_mode_even_on_error():
    mg.autograd.set_detect_anomaly(True)
    with mg.autograd.detect_anomaly(check_nan=False):
        assert not mg.autograd.is_anomaly_enabled()
    assert mg.autograd.is_anomaly_enabled()
    mg.autograd.set_detect_anomaly(False)
    with pytest.raises(ValueError), mg.autograd.detect_anomaly():
        assert F._anomaly_enabled
        raise ValueError("boom")
    assert not mg.autograd.is_anomaly_enabled()


def test_decorator_form():
    @mg.autograd.detect_anomaly()
    def step(x):
        assert mg.autograd.is_anomaly_enabled()
        return x.log()

    with np.errstate(divide="ignore"), pytest.raises(RuntimeError, match="Log produced inf"):
        step(leaf([0.0]))
    assert not mg.autograd.is_anomaly_enabled()


def test_bad_mode_argument_is_rejected():
    with pytest.raises(TypeError, match="mode must be a bool, got 'yes'"):
        mg.autograd.set_detect_anomaly("yes")


# ---------------------------------------------------------------------- in-place ops
# An in-place op on a tensor that autograd tracks runs the out-of-place op, which is checked like
# any other; one outside autograd (a plain tensor, no_grad, an optimizer update) writes straight
# into the array, and its result is checked too, naming the in-place op.


def test_inplace_division_by_zero_names_div_and_the_line(device):
    x = mg.tensor([1.0, 2.0], device=device)
    with mg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError) as info:
            x.div_(0.0)  # the line the message must point at
    msg = str(info.value)
    assert msg.startswith("anomaly: div_ produced inf in its output of shape (2,) (created at ")
    assert "test_anomaly.py:" in msg and "x.div_(0.0)  # the line the message" in msg


def test_inplace_zero_by_zero_is_reported_as_nan(device):
    with mg.autograd.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(RuntimeError, match=r"^anomaly: div_ produced nan .* shape \(2,\)"):
            mg.tensor([1.0, 0.0], device=device).div_(0.0)


def test_index_assignment_of_nan_is_reported(device):
    z = mg.zeros(2, device=device)
    with mg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            z[0] = float("nan")
    msg = str(info.value)
    assert msg.startswith("anomaly: ") and "produced nan in its output of shape (2,)" in msg
    assert 'z[0] = float("nan")' in msg


def test_optimizer_update_that_overflows_names_add_and_the_step(device):
    # the gradient and -lr * gradient are finite; only the in-place sum w + 1e308 overflows
    w = mg.tensor([1e308, 1.0], dtype=mg.float64, device=device, requires_grad=True)
    w.grad = mg.tensor([-1e308, 0.0], dtype=mg.float64, device=device)
    opt = mg.optim.SGD([w], lr=1.0)
    with mg.autograd.detect_anomaly(), np.errstate(over="ignore"):
        with pytest.raises(RuntimeError) as info:
            opt.step()
    msg = str(info.value)
    assert msg.startswith("anomaly: add_ produced inf in its output of shape (2,) (created at ")
    assert "opt.step()" in msg


def test_inplace_under_no_grad_is_checked(device):
    w = mg.tensor([1e200, 2.0], dtype=mg.float64, device=device, requires_grad=True)
    with mg.autograd.detect_anomaly(), mg.no_grad(), np.errstate(over="ignore"):
        with pytest.raises(RuntimeError, match=r"^anomaly: mul_ produced inf .*shape \(2,\)"):
            w.mul_(1e200)


@pytest.mark.parametrize(
    "op,write,kind",
    [
        ("fill_", lambda z, nan: z.fill_(float("inf")), "inf"),
        ("copy_", lambda z, nan: z.copy_(nan), "nan"),
        ("clamp_", lambda z, nan: z.clamp_(min=float("nan")), "nan"),
    ],
)
def test_other_inplace_writes_are_checked(device, op, write, kind):
    z = mg.zeros(2, device=device)
    nan = mg.tensor([float("nan"), 0.0], device=device)  # made before anomaly mode is on
    with mg.autograd.detect_anomaly(), pytest.raises(RuntimeError) as info:
        write(z, nan)
    assert str(info.value).startswith(f"anomaly: {op} produced {kind} in its output of shape (2,)")


def test_inplace_op_tracked_by_autograd_is_checked(device):
    x = leaf([1.0, 2.0], device) * 1.0
    with mg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match=r"^anomaly: (Div|div_) produced inf .*\(2,\)"):
            x.div_(0.0)


def test_finite_and_integer_inplace_ops_pass_in_anomaly_mode(device):
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w.grad = mg.tensor([0.5, -0.5], device=device)
    z = mg.tensor([4.0, 6.0], device=device)
    n = mg.tensor([1, 2], device=device)
    with mg.autograd.detect_anomaly():
        z.div_(2.0).add_(1.0)
        z[1] = -1.0
        n.mul_(0)
        mg.optim.SGD([w], lr=1.0, momentum=0.9).step()
    assert z.tolist() == [3.0, -1.0] and n.tolist() == [0, 0] and w.tolist() == [0.5, 2.5]


def test_non_finite_inplace_results_pass_silently_when_off(device):
    x = mg.tensor([1.0, 0.0], device=device)
    with np.errstate(all="ignore"):
        x.div_(0.0)
    x[1] = float("nan")
    assert math.isinf(x.tolist()[0]) and math.isnan(x.tolist()[1])

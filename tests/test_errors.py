"""Bad input gets a clear error that says what was wrong and what was expected."""

from __future__ import annotations

import pytest

import minigrad as mg
from tests.conftest import DEVICES


def test_matmul_shape_mismatch_shows_both_shapes():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(
        RuntimeError, match=r"\(3\) must equal the first dimension of the second \(4\)"
    ):
        mg.ones(2, 3) @ mg.ones(4)
    with pytest.raises(RuntimeError, match="at least 1D"):
        mg.matmul(mg.tensor(1.0), mg.ones(2))


def test_broadcast_mismatch_names_shapes_and_dimension():
    with pytest.raises(
        RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast.*3 vs 4"
    ):
        mg.ones(2, 3) + mg.ones(4)
    with pytest.raises(RuntimeError, match="do not broadcast"):
        mg.where(mg.ones(2) > 0, mg.ones(3), mg.ones(2))


def test_reshape_to_wrong_size():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        mg.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        mg.ones(6).view(-1, -1)


def test_dimension_out_of_range():
    with pytest.raises(
        IndexError,
        match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)",
    ):
        mg.ones(2, 3).sum(2)


@pytest.mark.parametrize("device", DEVICES)
def test_index_out_of_range_is_caught_on_every_backend(device):
    x = mg.ones(3, 4, device=device)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 4"):
        x[:, mg.tensor([0, 5], device=device)]
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 0 with size 3"):
        x[mg.tensor([-4], device=device)]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="must be long, int or bool"):
        x[mg.tensor([0.5], device=device)]
    with pytest.raises(IndexError, match="shape of the mask"):
        x[mg.ones(5, dtype=mg.bool, device=device)]
    with pytest.raises(RuntimeError, match="gather.*index 4 is out of bounds"):
        mg.gather(x, 1, mg.tensor([[4]], device=device))


def test_requires_grad_on_integer_tensor():
    with pytest.raises(
        RuntimeError, match="Only Tensors of floating point dtype can require gradients"
    ):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        mg.arange(3).requires_grad_()


def test_backward_errors():
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        mg.ones(3).sum().backward()
    with pytest.raises(
        RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of \(2,\)"
    ):
        (x * 2).backward(mg.ones(2))
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (x * 2).requires_grad = False


def test_cat_and_stack_errors():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        mg.stack([mg.ones(2), mg.ones(3)])
    with pytest.raises(RuntimeError, match="non-empty"):
        mg.cat([])


def test_inplace_type_and_shape_errors():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        mg.ones(2, dtype=mg.int64).add_(mg.ones(2))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        mg.ones(2).add_(mg.ones(3, 2))


def test_bad_devices_and_dtypes():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.ones(2, device="tpu")
    with pytest.raises(TypeError, match="unknown dtype"):
        mg.ones(2, dtype="complex")
    with pytest.raises(TypeError, match="expected a Tensor or a Python number"):
        mg.ones(2) + "a"


def test_operations_on_empty_reductions():
    with pytest.raises(RuntimeError, match="Expected reduction dim"):
        mg.zeros(0).max()
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        mg.tensor([1, 2]).mean()

"""Bad input gets a clear error that says what was wrong and what was expected."""

from __future__ import annotations

import math
import warnings

import numpy as np
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


def test_non_tensor_inputs_name_the_function_and_argument():
    for fn in (mg.sum, mg.mean, mg.amax, mg.argmax, mg.prod, mg.std, mg.var, mg.flatten):
        with pytest.raises(
            TypeError,
            match=rf"^{fn.__name__}\(\): argument 'input' must be a Tensor, not NoneType$",
        ):
            fn(None)
    with pytest.raises(TypeError, match=r"equal\(\): argument 'other' must be a Tensor, not int"):
        mg.equal(mg.ones(2), 1)
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors' must be a list or tuple"):
        mg.cat(mg.ones(2))
    with pytest.raises(
        TypeError, match=r"where\(\): argument 'input' must be a Tensor or a number"
    ):
        mg.where(mg.ones(2) > 0, None, 1.0)


def test_flags_and_counts_must_have_their_type():
    with pytest.raises(
        TypeError, match=r"sum\(\): argument 'keepdim' must be a bool, not NoneType"
    ):
        mg.ones(2).sum(0, keepdim=None)
    with pytest.raises(TypeError, match=r"chunk\(\): argument 'chunks' must be an int, not float"):
        mg.ones(4).chunk(1.5)
    with pytest.raises(
        TypeError, match=r"split\(\): split_size_or_sections must be an int or a list"
    ):
        mg.ones(4).split("a")
    with pytest.raises(
        RuntimeError, match=r"split_sizes have only non-negative entries.*\[1, -1, 2\]"
    ):
        mg.ones(2).split([1, -1, 2])


def test_data_that_is_not_rectangular_numbers_says_where():
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 2 \(got 3\)"):
        mg.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8, 9]]], dtype=mg.float64)
    with pytest.raises(TypeError, match=r"expected a sequence at dim 1.*found int 3"):
        mg.tensor([[1, 2], 3])
    with pytest.raises(TypeError, match=r"invalid data type 'str'"):
        mg.ones(2).new_tensor("a")
    with pytest.raises(ValueError, match=r"too many dimensions 'str'"):
        mg.tensor(["a"])
    with pytest.raises(TypeError, match=r"elements must be real numbers, got NoneType"):
        mg.tensor([1.0, None])
    with pytest.raises(RuntimeError, match=r"out of the range of int64"):
        mg.tensor([1, 10**30])
    with pytest.raises(IndexError, match=r"index list must be a rectangular.*length 2 at dim 1"):
        mg.ones(3, 3)[[[0, 1], [2]]]
    with pytest.raises(TypeError, match=r"tensor from object data: elements must be real numbers"):
        (mg.ones(2, requires_grad=True) * 2).sum().backward(gradient=object())


def test_add_and_sub_check_alpha_as_pytorch_does():
    with pytest.raises(TypeError, match=r"add\(\): argument 'alpha' must be a number, not ndarray"):
        mg.ones(2).add(1, alpha=np.ones(2))
    with pytest.raises(TypeError, match=r"sub_\(\): argument 'alpha' must be a number"):
        mg.ones(2).sub_(1, alpha=None)
    with pytest.raises(RuntimeError, match=r"integral input tensors, argument alpha must not"):
        mg.tensor([1, 2]).add_(mg.tensor([1, 2]), alpha=0.5)
    x = mg.ones(2)
    assert x.sub_(mg.ones(2), alpha=3).tolist() == [-2.0, -2.0]
    assert mg.tensor([1, 2]).add(mg.ones(2), alpha=0.5).tolist() == [1.5, 2.5]


def test_in_place_fills_check_values_and_ranges():
    with pytest.raises(TypeError, match=r"fill_\(\): argument 'value' must be a number"):
        mg.ones(2).fill_(np.ones(2))
    with pytest.raises(RuntimeError, match=r"value nan cannot be converted to type int64"):
        mg.tensor([1, 2]).fill_(math.nan)
    with pytest.raises(TypeError, match=r"uniform_\(\): argument 'from' must be a float"):
        mg.ones(2).uniform_("a")
    with pytest.raises(RuntimeError, match=r"\[from, to\) range, but found from=2.0 > to=1.0"):
        mg.ones(2).uniform_(2, 1)
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0.0, but found std -1.0"):
        mg.ones(2).normal_(0, -1)
    with pytest.raises(RuntimeError, match=r"uniform_: not implemented for minigrad.int64"):
        mg.tensor([1, 2]).uniform_()
    assert mg.ones(3).normal_(2.0, -0.0).tolist() == [2.0, 2.0, 2.0]  # -0.0 is a valid std
    with pytest.raises(RuntimeError, match=r"clamp_: result type minigrad.float32 can't be cast"):
        mg.tensor([1, 2, 3]).clamp_(0.5)
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the broadcast"):
        mg.tensor(1.0).copy_(mg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"shape \[3\] cannot be broadcast to indexing result"):
        mg.ones(2, 3)[0, 1:] = mg.zeros(3)


def test_zero_dimensional_tensors_and_conversions():
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        mg.tensor(1.0).size(0)
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        int(mg.tensor(math.nan))
    with pytest.raises(OverflowError, match="cannot convert float inf to integer"):
        int(mg.tensor(math.inf))
    with pytest.raises(TypeError, match=r"expand_as\(\): argument 'other' must be a Tensor"):
        mg.ones(2).expand_as(None)
    with pytest.raises(TypeError, match=r"dtype\(\): name must be one of"):
        mg.dtype(None)
    with pytest.raises(RuntimeError, match=r"from_dlpack\(\): expected an array that supports"):
        mg.from_dlpack(None)
    with pytest.raises(TypeError, match=r"backward\(\): argument 'retain_graph' must be a bool"):
        (mg.ones(2, requires_grad=True) * 2).sum().backward(retain_graph=np.ones(2))
    with pytest.raises(TypeError, match=r"'inputs' must be a Tensor or a sequence of Tensors"):
        (mg.ones(2, requires_grad=True) * 2).sum().backward(inputs=-1)


def test_zero_dimensional_inputs_to_split_and_chunk():
    with pytest.raises(RuntimeError, match="split expects at least a 1-dimensional tensor"):
        mg.tensor(1.0).split(1)
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        mg.tensor(1.0).chunk(1)


def test_creation_sizes_and_ranges():
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[2, -1\]"):
        mg.zeros(2, -1)
    with pytest.raises(TypeError, match=r"size must be a tuple of ints.*float"):
        mg.ones(2.5)
    with pytest.raises(RuntimeError, match="eye\\(\\): n must be greater or equal to 0, got -1"):
        mg.eye(-1)
    with pytest.raises(TypeError, match=r"randperm\(\): argument 'n' must be an int, not str"):
        mg.randperm("a")
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        mg.arange(0, 10, -1)
    with pytest.raises(RuntimeError, match="unsupported range: 0 -> inf"):
        mg.arange(0, float("inf"))
    with pytest.raises(NotImplementedError, match="floating point dtype, got minigrad.int64"):
        mg.randn_like(mg.ones(2, dtype=mg.int64))


def test_randint_takes_pytorchs_two_forms_and_wants_a_tuple_size():
    assert mg.randint(10, (3,)).shape == (3,)
    assert mg.randint(2, 5, (4, 2)).shape == (4, 2)
    r = mg.randint(2, 5, (200,))
    assert 2 <= r.min().item() and r.max().item() < 5
    with pytest.raises(TypeError, match=r"randint\(\) needs a size.*low=10, high=3"):
        mg.randint(10, 3)
    with pytest.raises(TypeError, match=r"randint\(\): size must be a tuple of ints, not int"):
        mg.randint(0, 10, 3)
    with pytest.raises(RuntimeError, match="expected low < high, got low=5, high=5"):
        mg.randint(5, 5, (2,))


def test_allocations_that_cannot_succeed_are_runtime_errors():
    with pytest.raises(RuntimeError, match=r"zeros: can't allocate memory: .*\(1000000000000,\)"):
        mg.zeros(10**12)
    with pytest.raises(RuntimeError, match="repeat: can't allocate memory"):
        mg.ones(2).repeat(10**12)
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        mg.nn.Linear(10**12, 4)


def test_matmul_refuses_mixed_dtypes_naming_both():
    with pytest.raises(
        RuntimeError, match="same dtype, but got: minigrad.float32 != minigrad.float64"
    ):
        mg.ones(2, 2) @ mg.ones(2, 2, dtype=mg.float64)


def test_gather_refuses_negative_indices():
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        mg.gather(mg.ones(3), 0, mg.tensor([-1]))


def test_bool_negation_subtraction_and_integer_division_by_zero():
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -mg.tensor([True])
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor"):
        mg.tensor([True]) - 1
    with pytest.raises(RuntimeError, match="floor_divide: ZeroDivisionError"):
        mg.tensor([3]) // 0
    with pytest.raises(RuntimeError, match="remainder: ZeroDivisionError"):
        mg.tensor([3]) % mg.tensor([0])


def test_optimizer_and_scheduler_arguments():
    params = [mg.nn.Parameter(mg.ones(2))]
    for cls in (mg.optim.SGD, mg.optim.Adam, mg.optim.AdamW, mg.optim.RMSprop):
        with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr must be a number, got str 'x'$"):
            cls(params, lr="x")
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        mg.optim.SGD(params, lr=-1)
    with pytest.raises(TypeError, match="Invalid beta parameter at index 0: None is not a number"):
        mg.optim.Adam(params, betas=(None, 0.9))
    with pytest.raises(TypeError, match="SGD: nesterov must be a bool"):
        mg.optim.SGD(params, nesterov="yes")
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got int"):
        mg.optim.SGD(5)
    opt = mg.optim.SGD(params, lr=0.1)
    with pytest.raises(TypeError, match=r"step\(\): closure must be a function .* got str"):
        opt.step("loss")
    with pytest.raises(TypeError, match="StepLR: last_epoch must be an int, got NoneType"):
        mg.optim.lr_scheduler.StepLR(opt, 1, last_epoch=None)
    with pytest.raises(TypeError, match="MultiStepLR: milestones must be a list of ints"):
        mg.optim.lr_scheduler.MultiStepLR(opt, 3)


def test_numpy_float_warnings_do_not_leak_from_domain_ops():
    x = mg.tensor([-1.0, 0.0, float("inf")])
    calls = [
        lambda: x.log(),
        lambda: x.sqrt(),
        lambda: x / 0,
        lambda: x.sin(),
        lambda: (x * 100).exp(),
        lambda: x**0.5,
        lambda: x // 0,
        lambda: x.long(),
        lambda: mg.zeros(2, 0).mean(1),
        lambda: mg.softmax(mg.zeros(2, 0), 1),
        lambda: mg.logsumexp(mg.zeros(0, 3), 0),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silent, as in PyTorch
        for call in calls:
            call()

"""The autograd engine: reuse, diamonds, deep chains, accumulation, graph freeing, grad mode,
higher-order gradients, version counters, the custom Function API."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, gradcheck, gradgradcheck


def leaf(values, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


def test_reuse_of_one_tensor_adds_gradients():
    a = leaf(3.0)
    (a * a + a).backward()
    assert a.grad.item() == pytest.approx(7.0)


def test_diamond_graph():
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = (h * 2 + h.sin()).sum()
    y.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), e * 2 + np.cos(e) * e)


def test_deep_chain_of_100k_nodes_runs_and_frees_without_recursion_error():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    del y
    gc.collect()
    assert node() is None  # the whole chain is gone once nothing refers to it


def test_leaves_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_two_leaves_never_share_a_gradient_array():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()
    with mg.no_grad():
        a.grad.mul_(10)
    assert b.grad.item() == 1.0


def test_grad_never_aliases_the_gradient_the_caller_passed():
    """Accumulating into .grad must not write into the caller's gradient= tensor."""
    for make in (lambda x: x + 1, lambda x: x, lambda x: x.reshape(2, 1).reshape(2)):
        x = mg.zeros(2, requires_grad=True)
        g = mg.ones(2)
        for _ in range(3):
            make(x).backward(g)
        assert x.grad.tolist() == [3.0, 3.0]
        assert g.tolist() == [1.0, 1.0]
    x = mg.zeros(2, requires_grad=True)
    g = mg.ones(2)
    x.backward(g, inputs=[x])
    (x + 1).backward(g)
    assert x.grad.tolist() == [2.0, 2.0] and g.tolist() == [1.0, 1.0]


def test_retained_grad_does_not_alias_a_leaf_grad():
    x = mg.zeros(2, requires_grad=True)
    h = x + 0
    h.retain_grad()
    (h * 2).sum().backward()
    x.grad.zero_()
    assert h.grad.tolist() == [2.0, 2.0]  # as in PyTorch: zeroing x.grad leaves h.grad


def test_non_leaf_gets_grad_only_with_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    k = x * 3
    h.retain_grad()
    (h * k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), k.detach().numpy())
    assert k.grad is None
    assert h.retains_grad and not k.retains_grad


def test_graph_is_freed_after_backward_and_second_backward_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(
        RuntimeError, match="backward through the graph a second time.*retain_graph=True"
    ):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_ops_without_saved_tensors_can_backward_twice():
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_no_grad_records_nothing_and_restores_mode():
    x = leaf([1.0])
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad


def test_no_grad_as_decorator_and_set_grad_enabled():
    @mg.no_grad()
    def f(t):
        return t * 2

    @mg.no_grad  # without parentheses too, as in PyTorch
    def g(t):
        return t * 2

    @mg.enable_grad
    def h(t):
        return t * 2

    x = leaf([1.0])
    assert not f(x).requires_grad and not g(x).requires_grad
    with mg.no_grad():
        assert h(x).requires_grad
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled()
    with pytest.raises(TypeError, match=r"no_grad\(\) takes no arguments"):
        mg.no_grad(3)


def test_backward_runs_under_no_grad_unless_create_graph():
    x = leaf([2.0])
    (g,) = mg.autograd.grad((x**3).sum(), x)
    assert not g.requires_grad
    (g,) = mg.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    (g2,) = mg.autograd.grad(g.sum(), x)
    assert g2.item() == pytest.approx(12.0)


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    x = leaf(rng.standard_normal(3))
    v = mg.tensor(rng.standard_normal(3), dtype=mg.float64)
    A = mg.tensor(a)
    f = (x @ A @ x).exp()
    (g,) = mg.autograd.grad(f, x, create_graph=True)
    (hv,) = mg.autograd.grad((g * v).sum(), x)
    # f = exp(q), q = x^T A x: H = f (S x)(S x)^T + f S with S = A + A^T
    xs, s = x.detach().numpy(), a + a.T
    fv = np.exp(xs @ a @ xs)
    expected = fv * np.outer(s @ xs, s @ xs) @ v.numpy() + fv * s @ v.numpy()
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-10)


def test_autograd_grad_leaves_grad_fields_alone_and_reports_unused_inputs():
    x, y = leaf([1.0]), leaf([2.0])
    (gx,) = mg.autograd.grad((x * 3).sum(), [x])
    assert gx.item() == 3.0 and x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        mg.autograd.grad((x * 3).sum(), [x, y])
    gx, gy = mg.autograd.grad((x * 3).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_autograd_grad_wrt_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    (gh,) = mg.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_grad_does_not_run_or_free_nodes_it_does_not_need():
    x = leaf([1.0, 2.0])
    h = x.exp()  # saves its output
    k = h * 2
    mg.autograd.grad(k.sum(), k)  # only the sum node is needed
    k.sum().backward()  # h's node was not freed by the first call
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_backward_with_explicit_gradient_and_inputs():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.backward(mg.tensor([1.0, 10.0], dtype=mg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])
    z, w = leaf([1.0]), leaf([1.0])
    (z * w * 2).sum().backward(inputs=[z])
    assert z.grad.item() == 2.0 and w.grad is None


def test_broadcast_gradients_are_summed_to_input_shape():
    a = leaf(np.ones((2, 1, 3)))
    b = leaf(np.ones((4, 1)))
    (a * b).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1)
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 1, 3), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((4, 1), 6.0))


# ---------------------------------------------------------------- version counters


def test_inplace_change_to_a_saved_tensor_raises_naming_op_and_shape():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = h.exp()
    y.add_(1)  # exp saved its output
    with pytest.raises(
        RuntimeError, match=r"modified by an inplace operation.*ExpBackward.*\(2,\)"
    ):
        y.sum().backward()


def test_inplace_change_to_a_saved_input_raises():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = h * h
    h.mul_(2)
    with pytest.raises(RuntimeError, match="MulBackward.*version 1; expected version 0"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    x = leaf([1.0, 2.0])
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(3.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 5.0
    with mg.no_grad():
        x.add_(1)
        x[0] = 7.0
    np.testing.assert_array_equal(x.detach().numpy(), [7.0, 3.0])


def test_inplace_ops_on_non_leaf_are_differentiated():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([2.0])
    h = x * 1
    h.mul_(w)
    h.add_(x)
    h[0] = w * 10
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 3.0, 3.0])
    np.testing.assert_allclose(w.grad.numpy(), [10.0 + 2.0 + 3.0])


def test_inplace_bumps_version_and_views_share_it():
    x = mg.zeros(3)
    v = x[1:]
    assert x._version[0] == 0
    v.add_(1)
    assert x._version[0] == 1 and v._version is x._version
    np.testing.assert_array_equal(x.numpy(), [0.0, 1.0, 1.0])


def _grads_in_both(torch, build):
    """``build(m, x)`` in minigrad and in PyTorch; the gradients of the sum of its result."""
    out = []
    for m in (mg, torch):
        x = m.tensor([1.0, 2.0, 3.0, 4.0], dtype=m.float64, requires_grad=True)
        (g,) = (mg.autograd if m is mg else torch.autograd).grad(build(m, x).sum(), x)
        out.append(g.tolist())
    return out


VIEW_PROGRAMS = {
    # the base changes in place after a view was taken: the view follows the new values
    "base changed after slicing": lambda m, x: _then(h := x * 2, v := h[0:2], h.mul_(x), v),
    "base assigned after view()": lambda m, x: _then(
        h := x * 2, v := h.view(2, 2), h.__setitem__(0, x[0] * 10), v
    ),
    "base changed after transpose": lambda m, x: _then(
        h := (x * 1).reshape(2, 2), t := h.T, h.add_(x.reshape(2, 2) ** 2), t * x.reshape(2, 2)
    ),
    # in place through a view: the base takes the change
    "h[0] += 1": lambda m, x: _then(h := x * 2, h.__setitem__(0, h[0] + x[1]), h * x),
    "augmented assignment on a slice": lambda m, x: _augment(x * 2, x),
    "mul_ on a slice": lambda m, x: _then(h := x * 2, h[1:].mul_(x[1:]), h * x),
    "add_ into a slice of a constant": lambda m, x: _then(
        a := m.zeros(4, dtype=m.float64), a[1:].add_(x[1:] * x[:3]), a
    ),
    "view of a view": lambda m, x: _then(
        h := x * 2, v := h[1:], w := v[1:], w.mul_(x[3]), h * v.sum()
    ),
    "column of a matrix": lambda m, x: _then(
        h := (x * 1).reshape(2, 2) + 0, h[:, 1].mul_(x[:2]), h * h
    ),
}


def _then(*steps):
    return steps[-1]


def _augment(h, x):
    h[1:3] *= x[:2]
    return h * x


@pytest.mark.parametrize("name", list(VIEW_PROGRAMS))
def test_inplace_changes_and_views_give_pytorchs_gradients(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _grads_in_both(torch, VIEW_PROGRAMS[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_inplace_through_a_view_of_a_leaf_or_a_no_grad_view_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0:1].add_(1)
    h = x * 1
    with mg.no_grad():
        v = h[0:1]
    with pytest.raises(RuntimeError, match="view created in no_grad mode"):
        v.mul_(2)


def test_writing_into_an_expanded_view_is_refused():
    x = mg.ones(3).expand(2, 3)
    for write in (lambda: x.add_(1), lambda: x.fill_(0), lambda: x.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            write()
    y = mg.ones(3).expand(1, 3)  # nothing repeated: writable, as in PyTorch
    y.add_(1)
    assert y.tolist() == [[2.0, 2.0, 2.0]]


def test_data_is_not_tracked_by_the_version_counter():
    x = leaf([1.0, 2.0])
    a = x * 1
    y = a * a
    a.data.mul_(2)  # as in PyTorch: invisible to autograd, backward uses the new values
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_view_never_copies_and_reshape_of_a_copy_is_not_a_view():
    t = mg.arange(6.0).reshape(2, 3).T
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*Use \.reshape"):
        t.view(6)
    flat = t.reshape(6)  # a copy: changing it leaves t alone, as in PyTorch
    flat.add_(1)
    assert t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    v = mg.arange(6.0).view(2, 3)
    v.view(-1)[0] = 7.0
    assert v[0, 0].item() == 7.0


def test_setitem_with_integer_array_and_mask():
    x = mg.zeros(5)
    x[mg.tensor([0, 3])] = 2.0
    x[x > 1] = x[x > 1] + 1
    np.testing.assert_array_equal(x.numpy(), [3.0, 0, 0, 3.0, 0])
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 0 with size 5"):
        x[mg.tensor([9])] = 1.0


# ---------------------------------------------------------------- custom Function


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def test_custom_function_pytorch_style_passes_gradcheck_and_gradgradcheck():
    x = leaf([0.5, -1.5, 2.0])
    y = Cube.apply(x)
    assert repr(y.grad_fn) == "<CubeBackward>"
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_custom_function_forward_must_return_one_array():
    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g):
            return g

    class Wrapped(Function):
        @staticmethod
        def forward(ctx, x):
            return mg.tensor(x)

        @staticmethod
        def backward(ctx, g):
            return g

    for op, got in ((Pair, "tuple"), (Wrapped, "Tensor")):
        with pytest.raises(TypeError, match=rf"{op.__name__}.forward must return one array.*{got}"):
            op.apply(leaf([1.0]))


def test_custom_function_with_non_tensor_arguments():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = leaf([1.0, 2.0])
    Scale.apply(x, 4.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_custom_function_that_saves_an_intermediate_is_refused():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            tmp = x * 2
            ctx.save_for_backward(tmp)
            return tmp + 1

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match="save_for_backward takes the inputs"):
        Bad.apply(leaf([1.0]))


def test_backward_returning_wrong_count_or_shape_is_reported():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g.sum().reshape(1, 1, 1)

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="WrongCountBackward returned an incorrect number"):
        WrongCount.apply(x).sum().backward()
    with pytest.raises(
        RuntimeError, match=r"WrongShapeBackward returned a gradient of shape \(1, 1, 1\)"
    ):
        WrongShape.apply(x).sum().backward()


# ---------------------------------------------------------------- gradcheck itself


def test_gradcheck_catches_a_wrong_backward_and_names_the_worst_element():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2x

    x = leaf([1.0, 3.0])
    with pytest.raises(
        mg.autograd.GradcheckError, match=r"input element \(1,\).*numerical 6.*analytical 3"
    ):
        gradcheck(Wrong.apply, (x,))
    assert not gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(mg.autograd.GradcheckError, match="fast mode"):
        gradcheck(Wrong.apply, (x,), fast_mode=True)


def test_gradcheck_catches_nonzero_gradient_for_zero_upstream():
    class Leaky(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g + 1

    with pytest.raises(mg.autograd.GradcheckError, match="zero upstream gradient"):
        gradcheck(Leaky.apply, (leaf([1.0]),))


def test_gradcheck_warns_for_float32_and_needs_a_differentiable_input():
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (leaf([1.0], dtype=mg.float32),), atol=1e-2, rtol=1e-2, eps=1e-3)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda t: t * 2, (mg.tensor([1.0]),))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    class Detached(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2  # hides the dependence on x

    x = leaf([0.5, 2.0])
    assert gradcheck(Detached.apply, (x,))
    with pytest.raises(mg.autograd.GradcheckError):
        gradgradcheck(Detached.apply, (x,))


def test_profiler_counts_forward_ops_and_backward_nodes():
    from minigrad.autograd.profiler import profile

    x = leaf([1.0, 2.0])
    with profile() as prof:
        (x.exp() * x).sum().backward()
    assert prof.calls[("Exp", "forward")] == 1 and prof.calls[("Mul", "forward")] == 1
    assert prof.calls[("Exp", "backward")] == 1 and prof.calls[("Sum", "backward")] == 1
    table = prof.table()
    assert "| Exp | forward | 1 |" in table and "wall time" in table
    assert mg.autograd.Function.apply.__func__.__name__ == "apply"  # restored on exit

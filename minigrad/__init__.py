"""minigrad: a small autograd tensor engine with PyTorch's habits, on NumPy (CPU) or CuPy (GPU).

import minigrad as mg
x = mg.tensor([1.0, 2.0], requires_grad=True)
(x * x).sum().backward()
x.grad  # tensor([2., 4.])
"""

from __future__ import annotations

from minigrad.tensor import Tensor  # first: the ops modules need the class

from minigrad import autograd, cuda, nn
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.backend import Device, set_default_device
from minigrad.backend import device as device
from minigrad.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.dtypes import bool_ as bool  # noqa: A001 - PyTorch's name
from minigrad.dtypes import (
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minigrad.dtypes import float16 as half
from minigrad.dtypes import float32 as float  # noqa: A001
from minigrad.dtypes import float64 as double
from minigrad.dtypes import int32 as int  # noqa: A001
from minigrad.dtypes import int64 as long
from minigrad.ops.activation import erf
from minigrad.ops.compare import allclose, equal, isfinite, isnan, logical_not, sign
from minigrad.ops.elementwise import (
    abs,
    add,
    clamp,
    cos,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from minigrad.ops.linalg import matmul
from minigrad.ops.movement import (
    cat,
    chunk,
    flatten,
    flip,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from minigrad.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    gather,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)

clip = clamp
concat = concatenate = cat

__version__ = "0.1.0"

from minigrad import data, optim  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402

"""One sample's way through a model, recorded with forward hooks: the output of every stage of
its feature extractor, and the last fully connected layer's votes per class."""

from __future__ import annotations

from dataclasses import dataclass

from minigrad import nn
from minigrad.autograd import no_grad
from minigrad.backend import host as np  # pictures are drawn from host arrays
from minigrad.creation import tensor
from minigrad.tensor import Tensor

# how each kind of layer is called in the pictures
LABELS = {
    "Conv1d": "conv",
    "Conv2d": "conv",
    "ConvTranspose2d": "conv transpose",
    "ReLU": "ReLU",
    "LeakyReLU": "leaky ReLU",
    "MaxPool1d": "max pool",
    "MaxPool2d": "max pool",
    "AvgPool2d": "avg pool",
    "AdaptiveAvgPool2d": "avg pool",
    "BatchNorm1d": "batch norm",
    "BatchNorm2d": "batch norm",
}
SKIPPED = (nn.Dropout, nn.Identity, nn.Flatten)


@dataclass
class Stage:
    """The output of one layer for one sample: ``values`` is (C, H, W) or (C, L)."""

    label: str  # e.g. "conv 1"
    values: np.ndarray


@dataclass
class Votes:
    """The last ``Linear`` layer, ``logit[c] = sum_j weight[c, j] * x[j] + bias[c]``, taken
    apart: ``votes[c, j] = weight[c, j] * x[j]`` is what input value ``j`` adds to class ``c``."""

    votes: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)


@dataclass
class Trace:
    input: np.ndarray  # the sample, (C, H, W) or (C, L)
    stages: list[Stage]
    votes: Votes | None
    probs: np.ndarray  # (classes,) softmax of the model's output


def trace(model: nn.Module, sample) -> Trace:
    """Run one sample (a tensor or array of the model's input shape, without the batch axis)
    through ``model`` in eval mode and record what every stage made of it."""
    device = next(iter(model.parameters())).device
    x = sample if isinstance(sample, Tensor) else tensor(np.asarray(sample, dtype=np.float32))
    x = x.to(device).reshape((1,) + tuple(x.shape))
    root = getattr(model, "features", model)
    counts: dict[str, int] = {}
    stages: list[Stage] = []
    linear_in: list = []
    handles = []
    for module in root.modules():
        if list(module.children()) or isinstance(module, SKIPPED):
            continue
        kind = LABELS.get(type(module).__name__, type(module).__name__)
        counts[kind] = counts.get(kind, 0) + 1
        label = f"{kind} {counts[kind]}"

        def keep(mod, args, out, label=label) -> None:
            if out.ndim >= 3:  # (1, C, ...): a stack of maps
                stages.append(Stage(label, out[0].cpu().numpy()))

        handles.append(module.register_forward_hook(keep))
    last_linear = [m for m in model.modules() if isinstance(m, nn.Linear)][-1:]
    for m in last_linear:
        handles.append(m.register_forward_hook(lambda mod, args, out: linear_in.append(args[0])))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            logits = model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    votes = None
    if last_linear and linear_in:
        layer = last_linear[0]
        features = linear_in[-1].reshape(-1).cpu().numpy()  # (F,)
        weight = layer.weight.detach().cpu().numpy()  # (classes, F)
        bias = np.zeros(len(weight))
        if layer.bias is not None:
            bias = layer.bias.detach().cpu().numpy()
        votes = Votes(weight * features[None, :], bias)
    z = logits[0].cpu().numpy().astype(np.float64)
    probs = np.exp(z - z.max())
    return Trace(x[0].cpu().numpy(), stages, votes, probs / probs.sum())


def first_layer_weights(model: nn.Module) -> tuple[str, np.ndarray] | None:
    """The kernels of the first convolution ((O, C, kh, kw) or (O, C, k)), else the first
    ``Linear`` layer's weight (out, in); None when there is neither."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv1d)):
            return "conv", m.weight.detach().cpu().numpy()
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return "linear", m.weight.detach().cpu().numpy()
    return None

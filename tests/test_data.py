"""minigrad.data: DataLoader batching, shuffling and resuming; datasets; Fashion-MNIST, digits and
MNIST-1D loaders."""

from __future__ import annotations

import gzip
import json
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import data
from minigrad.data import fashion_mnist

from .conftest import DEVICES


def _host(t: mg.Tensor) -> np.ndarray:
    return t.cpu().numpy()


def _order(loader) -> list[int]:
    """The sample order of one epoch over a dataset whose first field is the sample's index."""
    return [int(i) for batch in loader for i in _host(batch[0])]


def _index_set(n: int) -> data.TensorDataset:
    return data.TensorDataset(mg.arange(n), mg.arange(n).float() * 10)


class Pairs(data.Dataset):
    """A dataset without a batch path: samples are (float32 array, int) pairs."""

    def __init__(self, n: int):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)

    def __getitem__(self, i):
        return self.x[i], i

    def __len__(self):
        return len(self.x)


# ---------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("device", DEVICES)
def test_batches_are_stacked_tensors_on_the_device(device):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 3
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=4, device=device)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    for xb, yb in batches:
        assert xb.dtype is mg.float32 and yb.dtype is mg.int64
        assert xb.device == mg.device(device) and yb.device == mg.device(device)
    np.testing.assert_array_equal(np.concatenate([_host(b[0]) for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([_host(b[1]) for b in batches]), y)


@pytest.mark.parametrize("device", DEVICES)
def test_tensors_already_on_the_device_are_indexed_there(device):
    x = mg.randn(7, 2, device=device)
    loader = data.DataLoader(
        data.TensorDataset(x), batch_size=3, shuffle=True, seed=1, device=device
    )
    (first,) = next(iter(loader))
    assert first.device == mg.device(device)
    order = data.DataLoader(_index_set(7), batch_size=3, shuffle=True, seed=1)
    idx = [int(i) for i in _host(next(iter(order))[0])]
    np.testing.assert_array_equal(_host(first), _host(x)[idx])


@pytest.mark.parametrize("device", DEVICES)
def test_builtin_set_batches_are_float_images_and_int64_labels(device):
    ds = data.XO(n=10)
    xb, yb = next(iter(data.DataLoader(ds, batch_size=6, device=device)))
    assert xb.shape == (6, 1, 9, 9) and xb.dtype is mg.float32 and xb.device == mg.device(device)
    assert yb.shape == (6,) and yb.dtype is mg.int64
    np.testing.assert_array_equal(_host(xb), ds.data[:6])
    np.testing.assert_array_equal(_host(yb), ds.targets[:6])


def test_the_default_device_is_minigrads():
    (xb,) = next(iter(data.DataLoader(data.TensorDataset(np.ones((2, 2))), batch_size=2)))
    assert xb.device == mg.device(None)


def test_samples_without_a_batch_path_are_collated_like_the_fast_path():
    slow = list(data.DataLoader(Pairs(5), batch_size=2))
    fast = list(data.DataLoader(data.TensorDataset(Pairs(5).x, np.arange(5)), batch_size=2))
    assert len(slow) == len(fast) == 3
    for (xs, ys), (xf, yf) in zip(slow, fast):
        assert xs.dtype is xf.dtype is mg.float32 and ys.dtype is yf.dtype is mg.int64
        np.testing.assert_array_equal(_host(xs), _host(xf))
        np.testing.assert_array_equal(_host(ys), _host(yf))


def test_default_collate_follows_the_structure_of_the_samples():
    samples = [{"x": np.full(2, i, np.float32), "y": (i, i / 2), "name": f"s{i}"} for i in range(3)]
    batch = data.default_collate(samples)
    np.testing.assert_array_equal(batch["x"], [[0, 0], [1, 1], [2, 2]])
    assert batch["y"][0].dtype == np.int64 and batch["y"][1].dtype == np.float64
    assert batch["name"] == ["s0", "s1", "s2"]
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found object"):
        data.default_collate([object()])


def test_a_custom_collate_fn_gets_the_list_of_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return np.stack([s[0] for s in samples]).sum(axis=0)

    out = list(data.DataLoader(Pairs(5), batch_size=2, collate_fn=collate))
    assert seen == [2, 2, 1]
    np.testing.assert_array_equal(_host(out[0]), [3, 5, 7])


@pytest.mark.parametrize(
    "n, batch_size, drop_last, expected",
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, True, 0)],
)
def test_len_counts_batches_with_and_without_drop_last(n, batch_size, drop_last, expected):
    loader = data.DataLoader(_index_set(n), batch_size=batch_size, drop_last=drop_last)
    sizes = [len(b[0]) for b in loader]
    assert len(loader) == len(sizes) == expected
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last and sizes:
        assert sizes[-1] == batch_size
    elif sizes:
        assert sizes[-1] == n - batch_size * (expected - 1)


def test_shuffle_visits_every_index_once_per_epoch_in_a_new_order():
    loader = data.DataLoader(_index_set(50), batch_size=8, shuffle=True, seed=0)
    epochs = [_order(loader) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(50))
    assert epochs[0] != list(range(50))
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]


def test_the_same_seed_or_generator_gives_the_same_orders():
    def two_epochs(**kw):
        loader = data.DataLoader(_index_set(40), batch_size=6, shuffle=True, **kw)
        return [_order(loader), _order(loader)]

    assert two_epochs(seed=3) == two_epochs(seed=3)
    assert two_epochs(seed=3) != two_epochs(seed=4)
    gen = mg.backend.host_generator
    assert two_epochs(generator=gen(9)) == two_epochs(generator=gen(9))
    mg.manual_seed(5)
    first = two_epochs()
    mg.manual_seed(5)
    assert two_epochs() == first
    mg.manual_seed(6)
    assert two_epochs() != first


def test_an_unshuffled_loader_leaves_the_global_generator_alone():
    mg.manual_seed(0)
    expected = mg.rand(3).tolist()
    mg.manual_seed(0)
    list(data.DataLoader(_index_set(5), batch_size=2))
    assert mg.rand(3).tolist() == expected


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_resumed_loader_replays_the_rest_of_the_interrupted_epoch(shuffle):
    def loader(seed):
        return data.DataLoader(_index_set(23), batch_size=4, shuffle=shuffle, seed=seed)

    reference = loader(0)
    epochs = [_order(reference) for _ in range(3)]

    interrupted = loader(0)
    _order(interrupted)
    it = iter(interrupted)
    seen = [int(i) for _ in range(2) for i in _host(next(it)[0])]
    state = json.loads(json.dumps(interrupted.state_dict()))  # survives a round trip to disk
    assert state["position"] == 2

    resumed = loader(123)  # a different seed: the state decides
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    assert seen + _order(resumed) == epochs[1]
    assert _order(resumed) == epochs[2]


def test_state_between_epochs_starts_the_next_epoch():
    reference = data.DataLoader(_index_set(10), batch_size=3, shuffle=True, seed=2)
    first = _order(reference)
    state = reference.state_dict()
    assert state["position"] == 0
    second = _order(reference)
    other = data.DataLoader(_index_set(10), batch_size=3, shuffle=True, seed=7)
    other.load_state_dict(state)
    assert _order(other) == second != first


def test_bad_loader_arguments_and_states_are_refused():
    ds = _index_set(4)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got batch_size=0"):
        data.DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="either generator or seed"):
        data.DataLoader(ds, shuffle=True, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        data.DataLoader(ds, shuffle=True, generator=3)
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        data.DataLoader(5)
    loader = data.DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    with pytest.raises(ValueError, match="keys 'rng_state' and 'position'"):
        loader.load_state_dict({"position": 1})
    with pytest.raises(ValueError, match=r"position must be an int in \[0, 2\]"):
        loader.load_state_dict({"rng_state": loader.state_dict()["rng_state"], "position": 3})
    with pytest.raises(ValueError, match="shuffle=False"):
        loader.load_state_dict({"rng_state": None, "position": 0})


# ---------------------------------------------------------------- datasets


def test_tensor_dataset_checks_its_tensors():
    with pytest.raises(ValueError, match=r"equal first dimensions, got \[3, 4\]"):
        data.TensorDataset(mg.zeros(3, 2), mg.zeros(4))
    with pytest.raises(ValueError, match="argument 1 is 0-d"):
        data.TensorDataset(mg.zeros(3), mg.tensor(1.0))
    with pytest.raises(TypeError, match="argument 0 must be a Tensor or a NumPy array, got list"):
        data.TensorDataset([1, 2, 3])
    with pytest.raises(TypeError, match="argument 1: arrays of dtype uint16 are not supported"):
        data.TensorDataset(np.zeros(2), np.zeros(2, np.uint16))
    with pytest.raises(ValueError, match="at least one tensor"):
        data.TensorDataset()


def test_tensor_dataset_items_and_batches():
    x, y = mg.randn(5, 2), mg.arange(5)
    ds = data.TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[-1]
    np.testing.assert_array_equal(_host(xi), _host(x)[4])
    assert int(yi.item()) == 4
    xb, yb = ds.get_batch([4, 0])
    np.testing.assert_array_equal(_host(yb), [4, 0])
    with pytest.raises(IndexError, match="index 5 is out of range for a dataset of size 5"):
        ds[5]
    with pytest.raises(IndexError, match="index 7 is out of range"):
        ds.get_batch(np.array([0, 7]))


def test_subset_and_random_split():
    ds = _index_set(10)
    sub = data.Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and int(sub[1][0].item()) == 2
    np.testing.assert_array_equal(_host(sub.get_batch([2, 0])[0]), [5, 7])
    parts = data.random_split(ds, [0.5, 0.3, 0.2], seed=0)
    assert [len(p) for p in parts] == [5, 3, 2]
    together = np.concatenate([p.indices for p in parts])
    assert sorted(together.tolist()) == list(range(10))
    again = data.random_split(ds, [5, 3, 2], seed=0)
    assert all((a.indices == b.indices).all() for a, b in zip(parts, again))
    assert [len(p) for p in data.random_split(ds, [0.34, 0.33, 0.33], seed=0)] == [4, 3, 3]
    with pytest.raises(ValueError, match="sum to the dataset's size 10"):
        data.random_split(ds, [5, 4])
    with pytest.raises(IndexError, match="index 10 is out of range"):
        data.Subset(ds, [10])


def test_builtin_items_are_cpu_image_tensors_and_int_labels():
    ds = data.XO(n=4, size=12)
    image, label = ds[1]
    assert isinstance(label, int) and label == ds.targets[1]
    assert image.shape == (1, 12, 12) and image.dtype is mg.float32 and image.device == "cpu"
    image.numpy()[...] = 0  # a copy: the data set is untouched
    assert (ds.data[1] != 0).all()
    with pytest.raises(IndexError, match="XO index 4 is out of range"):
        ds[4]


def test_normalize_transform_acts_per_channel_on_batches():
    x = np.arange(16, dtype=np.float32).reshape(2, 2, 2, 2)
    out = data.Normalize([1.0, 2.0], [2.0, 4.0])(x)
    np.testing.assert_allclose(out[:, 0], (x[:, 0] - 1) / 2)
    np.testing.assert_allclose(out[:, 1], (x[:, 1] - 2) / 4)
    ds = data.XO(n=6, transform=data.Normalize(0.5, 2.0))
    xb, _ = ds.get_batch(np.arange(6))
    np.testing.assert_allclose(xb, (ds.data - 0.5) / 2)
    np.testing.assert_allclose(_host(ds[0][0]), (ds.data[0] - 0.5) / 2)
    with pytest.raises(ValueError, match="std must be positive"):
        data.Normalize(0.0, 0.0)
    with pytest.raises(ValueError, match="C = 2"):
        data.Normalize([0, 0], [1, 1])(np.zeros((1, 3, 2, 2), np.float32))


# ---------------------------------------------------------------- Fashion-MNIST

HAS_FASHION = all(
    (fashion_mnist.DEFAULT_ROOT / f"{stem}.gz").is_file()
    for pair in fashion_mnist.FILES.values()
    for stem in pair
)
needs_fashion = pytest.mark.skipif(
    not HAS_FASHION,
    reason=f"Fashion-MNIST files not in {fashion_mnist.DEFAULT_ROOT} "
    "(apt-get install dataset-fashion-mnist; CI's .ci/run installs it)",
)


def _labels_from_file(path) -> np.ndarray:
    raw = gzip.open(path).read()
    return np.frombuffer(raw[8:], dtype=np.uint8)


@needs_fashion
@pytest.mark.parametrize("train, n", [(True, 60000), (False, 10000)])
def test_fashion_mnist_shapes_labels_and_balance(train, n):
    ds = data.FashionMNIST(train=train)
    assert len(ds) == n and ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64 and len(ds.classes) == 10
    np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [n // 10] * 10)
    stem = fashion_mnist.FILES[train][1]
    from_file = _labels_from_file(fashion_mnist.DEFAULT_ROOT / f"{stem}.gz")
    np.testing.assert_array_equal(ds.targets[:20], from_file[:20])
    xb, yb = ds.get_batch(np.arange(3))
    assert xb.shape == (3, 1, 28, 28) and xb.dtype == np.float32
    assert 0.0 <= xb.min() and xb.max() <= 1.0 and xb.max() > 0.9
    np.testing.assert_allclose(xb[:, 0], ds.data[:3] / 255.0, rtol=1e-6)


@needs_fashion
def test_fashion_mnist_statistics_match_the_documented_mean_and_std():
    x = data.FashionMNIST().data[::7].astype(np.float64) / 255.0
    assert abs(x.mean() - data.FashionMNIST.mean) < 2e-3
    assert abs(x.std() - data.FashionMNIST.std) < 2e-3


def test_fashion_mnist_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.FashionMNIST(root=tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "apt-get install dataset-fashion-mnist" in message
    assert "root=DIR" in message and "train-images-idx3-ubyte.gz" in message
    with pytest.raises(ValueError, match="download=True is not supported"):
        data.FashionMNIST(root=tmp_path, download=True)


def _write_idx(path, array: np.ndarray, zipped: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if zipped else payload)


@pytest.mark.parametrize("zipped", [True, False])
def test_fashion_mnist_reads_idx_files_from_root_and_the_env_var(tmp_path, monkeypatch, zipped):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28)).astype(np.uint8)
    labels = np.arange(20) % 10
    suffix = ".gz" if zipped else ""
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, zipped)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels, zipped)
    ds = data.FashionMNIST(root=tmp_path, train=False)
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert data.FashionMNIST(train=False).root == tmp_path


def test_fashion_mnist_refuses_corrupt_files(tmp_path):
    labels = np.zeros(4, np.uint8)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, True)
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(b"\x1f\x8b this is not really gzip")
    with pytest.raises(ValueError, match="damaged gzip file"):
        data.FashionMNIST(root=tmp_path, train=False)
    bad.write_bytes(gzip.compress(b"\x12\x34\x56\x78" + bytes(100)))
    with pytest.raises(ValueError, match="not an IDX file: its magic number is 12345678"):
        data.FashionMNIST(root=tmp_path, train=False)
    truncated = np.zeros((4, 28, 28), np.uint8)
    _write_idx(bad, truncated, True)
    bad.write_bytes(gzip.compress(gzip.decompress(bad.read_bytes())[:-5]))
    with pytest.raises(ValueError, match=r"header says shape \(4, 28, 28\)"):
        data.FashionMNIST(root=tmp_path, train=False)
    _write_idx(bad, np.zeros((3, 28, 28), np.uint8), True)
    with pytest.raises(ValueError, match="expected 3 uint8 labels"):
        data.FashionMNIST(root=tmp_path, train=False)


# ---------------------------------------------------------------- digits and MNIST-1D


def test_digits_split_is_stratified_deterministic_and_disjoint():
    train, test = data.Digits(), data.Digits(train=False)
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.25 * 1797) < 10
    assert train.data.shape[1:] == (8, 8) and train.data.max() == 16
    xb, yb = train.get_batch(np.arange(4))
    assert xb.shape == (4, 1, 8, 8) and xb.dtype == np.float32 and xb.max() <= 1.0
    assert yb.dtype == np.int64
    # every class keeps about a quarter of its samples in the test part
    share = np.bincount(test.targets, minlength=10) / (
        np.bincount(test.targets, minlength=10) + np.bincount(train.targets, minlength=10)
    )
    assert np.all(np.abs(share - 0.25) < 0.01)
    again = data.Digits(train=False)
    np.testing.assert_array_equal(again.data, test.data)
    other = data.Digits(train=False, seed=1)
    assert not np.array_equal(other.data, test.data)
    labels = np.arange(1797) % 10
    train_idx, test_idx = data.digits.stratified_split(labels, 0.25, seed=0)
    assert not set(train_idx) & set(test_idx)
    assert sorted([*train_idx, *test_idx]) == list(range(1797))
    with pytest.raises(ValueError, match="test_size must be a fraction in"):
        data.Digits(test_size=1.5)


def test_mnist1d_shapes_and_determinism_without_touching_global_random_state():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    train, test = data.MNIST1D(), data.MNIST1D(train=False)
    assert (np.random.random(3) == expected).all()  # NumPy's global generator was restored
    assert len(train) == 4000 and len(test) == 1000
    xb, yb = train.get_batch(np.arange(5))
    assert xb.shape == (5, 1, 40) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert set(np.unique(train.targets)) == set(range(10))
    data.mnist1d._cache.clear()
    np.testing.assert_array_equal(data.MNIST1D().data, train.data)


@pytest.mark.parametrize(
    "make, module, hint",
    [
        (lambda: data.Digits(), "sklearn", "pip install scikit-learn"),
        (lambda: data.MNIST1D(seed=7), "mnist1d", "pip install mnist1d"),
    ],
)
def test_optional_packages_missing_give_the_pip_command(monkeypatch, make, module, hint):
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=hint):
        make()

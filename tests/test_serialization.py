"""``mg.save`` / ``mg.load``: exact round trips, rejection of damaged or foreign files, atomic
writes that survive a killed writer, devices, no pickle anywhere, and PyTorch-trained weights
loaded through ``.npz`` and safetensors."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, serialization
from tests.conftest import DEVICES

ROOT = pathlib.Path(__file__).resolve().parent.parent


def assert_same(a, b):
    """Equal values of equal types, recursively (tuple is not list, int is not float...)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, mg.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape and a.device == b.device
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    elif isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def sample(device="cpu"):
    """Every kind of value a checkpoint holds; the float tensors, the mask and the gradient
    flag on ``device`` (the integers stay on the CPU: a checkpoint may mix devices)."""
    rng = np.random.default_rng(0)
    return {
        "weights": OrderedDict(
            [
                ("f32", mg.tensor(rng.normal(size=(3, 4)), dtype=mg.float32, device=device)),
                ("f64", mg.tensor(rng.normal(size=5), dtype=mg.float64, device=device)),
                ("f16", mg.tensor([0.5, -2.0, 65504.0], dtype=mg.float16, device=device)),
            ]
        ),
        "ints": [mg.tensor(np.arange(6).reshape(2, 3), dtype=d) for d in (mg.int8, mg.uint8)]
        + [mg.tensor([-(2**40), 2**40], dtype=mg.int64), mg.tensor([7], dtype=mg.int16)],
        "int32": mg.tensor([[1, -2]], dtype=mg.int32),
        "mask": mg.tensor([[True, False], [False, True]], device=device),
        "scalar": mg.tensor(3.5, device=device),
        "empty": mg.zeros(0, 3, device=device),
        "transposed": mg.tensor(rng.normal(size=(3, 2)), device=device).T,
        "grad": mg.ones(2, requires_grad=True, device=device),
        "numbers": (1, 2.5, -0.0, float("inf"), float("-inf"), float("nan"), 2**70, True, None),
        "strings": ["ascii", "ünïcödé ✓", ""],
        7: {"int key": 1, 2.5: "float key", None: "none key", False: "bool key"},
        "nested": [[], {}, (), [[(mg.ones(1, device=device),)]]],
    }


def roundtrip(obj, **kwargs):
    buf = io.BytesIO()
    mg.save(obj, buf)
    buf.seek(0)
    return mg.load(buf, **kwargs)


def test_round_trip_is_exact(tmp_path, device):
    obj = sample(device)
    assert_same(obj, roundtrip(obj))
    mg.save(obj, tmp_path / "ckpt.mg")
    assert_same(obj, mg.load(tmp_path / "ckpt.mg"))
    assert_same(obj, mg.load(str(tmp_path / "ckpt.mg")))
    assert not [p for p in tmp_path.iterdir() if p.name != "ckpt.mg"]  # no temp file left


def test_loaded_tensors_own_writable_memory(device):
    t = roundtrip({"t": mg.arange(4.0, device=device)})["t"]
    with mg.no_grad():
        t.add_(1.0)
    assert t.device == device and t.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_tensor_saved_twice_loads_as_one_object(device):
    t = mg.ones(3, device=device)
    out = roundtrip({"a": t, "b": [t]})
    assert out["a"] is out["b"][0] and out["a"].device == device


def test_parameters_load_as_plain_tensors(device):
    lin = nn.Linear(3, 2, device=device)
    loaded = roundtrip({"p": lin.weight, "sd": lin.state_dict()})
    assert type(loaded["p"]) is mg.Tensor and loaded["p"].requires_grad
    assert type(loaded["sd"]["weight"]) is mg.Tensor and not loaded["sd"]["weight"].requires_grad
    assert isinstance(loaded["sd"], OrderedDict)
    assert loaded["p"].device == loaded["sd"]["bias"].device == device


def test_model_and_optimizer_checkpoint(tmp_path, device):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).to(device)
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    model(mg.randn(5, 4, device=device)).pow(2).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}
    mg.save(ckpt, tmp_path / "c.mg")
    loaded = mg.load(tmp_path / "c.mg")
    assert_same(ckpt, loaded)  # devices included
    if device != "cpu":  # the same seed and steps on the CPU give the same numbers
        mg.manual_seed(0)
        on_cpu = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
        opt_cpu = mg.optim.Adam(on_cpu.parameters(), lr=0.01)
        on_cpu(mg.randn(5, 4)).pow(2).sum().backward()
        opt_cpu.step()
        expected = {"model": on_cpu.state_dict(), "optim": opt_cpu.state_dict(), "epoch": 3}
        assert_same(expected, mg.load(tmp_path / "c.mg", map_location="cpu"))
    assert sorted(loaded["optim"]["state"]) == [0, 1, 2, 3]  # integer keys survive
    assert loaded["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)  # so do tuples


def test_unsupported_objects_are_refused_with_their_place():
    with pytest.raises(TypeError, match=r"type ndarray at obj\['a'\]\[1\]"):
        mg.save({"a": [1, np.zeros(2)]}, io.BytesIO())
    with pytest.raises(TypeError, match=r"type set at obj\[0\]"):
        mg.save([{1, 2}], io.BytesIO())
    with pytest.raises(TypeError, match=r"dict key \(1, 2\) .* is not supported"):
        mg.save({(1, 2): 3}, io.BytesIO())
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="reference cycle"):
        mg.save(loop, io.BytesIO())


def test_numpy_scalars_become_python_numbers():
    out = roundtrip({"loss": np.float64(0.25), "n": np.int64(3)})
    assert out == {"loss": 0.25, "n": 3} and type(out["n"]) is int


# ---------------------------------------------------------------- damaged and foreign files


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.mg"
    mg.save({"w": mg.randn(16, 16), "meta": {"epoch": 4}}, path)
    return path


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("keep", [0, 5, 40, 60, 0.5, -1])
def test_truncated_files_are_rejected(good_file, tmp_path, keep):
    data = good_file.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (keep % len(data))
    bad = _write(tmp_path / "bad.mg", data[:n])
    with pytest.raises(ValueError, match="bad.mg") as err:
        mg.load(bad)
    if n >= 8:
        assert "truncated" in str(err.value)


@pytest.mark.parametrize("where", [3, 10, 20, 50, 100, -5])
def test_flipped_bits_are_rejected(good_file, tmp_path, where):
    data = bytearray(good_file.read_bytes())
    data[where] ^= 0x10
    with pytest.raises(ValueError, match="bad.mg") as err:
        mg.load(_write(tmp_path / "bad.mg", bytes(data)))
    if where >= 8:  # past the magic: the length field or the checksummed part
        assert "checksum" in str(err.value) or "corrupted" in str(err.value)


def test_appended_bytes_are_rejected(good_file, tmp_path):
    bad = _write(tmp_path / "bad.mg", good_file.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="checksum"):
        mg.load(bad)


def _forge(header: dict, payload: bytes) -> bytes:
    """A file whose checksum is right but whose header lies (as an attacker could write)."""
    head = json.dumps(header).encode()
    digest = hashlib.sha256(head + payload).digest()
    return struct.pack("<8sQ32s", serialization.MAGIC, len(head), digest) + head + payload


def _header(**tensor):
    entry = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "device": "cpu"}
    entry.update(tensor)
    return {"format": "minigrad", "version": 1, "payload_size": 8, "tensors": [entry],
            "tree": {"T": 0}}  # fmt: skip


@pytest.mark.parametrize(
    "header",
    [
        _header(shape=[3]),  # more elements than bytes
        _header(offset=4),  # past the payload
        _header(dtype="object"),
        _header(shape=[-2]),
        _header(device="tpu"),
        dict(_header(), tree={"T": 5}),
        dict(_header(), tree={"code": "__import__('os')"}),
        dict(_header(), tree={"dict": [[[1], 2]]}),
        dict(_header(), payload_size=9),
        dict(_header(), version=2),
    ],
)
def test_tampered_headers_are_rejected(tmp_path, header):
    path = _write(tmp_path / "forged.mg", _forge(header, b"\0" * 8))
    with pytest.raises(ValueError, match=r"forged.mg.*(malformed header|payload size|format)"):
        mg.load(path)


def test_a_well_formed_forgery_loads_only_data(tmp_path):
    path = _write(tmp_path / "ok.mg", _forge(_header(), np.float32([1, 2]).tobytes()))
    assert mg.load(path).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a minigrad checkpoint"),
        (bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)), "not a minigrad"),
        (pickle.dumps({"a": 1}), "pickle file; minigrad never unpickles"),
        (pickle.dumps([1], protocol=2), "pickle file"),
        (b"PK\x03\x04garbage", "damaged zip"),
    ],
)
def test_foreign_and_random_files_are_rejected(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        mg.load(_write(tmp_path / "x.bin", data))


def test_torch_save_checkpoints_are_refused_without_unpickling(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "model.pt")
    with pytest.raises(ValueError, match="PyTorch torch.save checkpoint.*safetensors"):
        mg.load(tmp_path / "model.pt")


def test_no_pickle_in_the_source_or_at_load_time(good_file, tmp_path, monkeypatch):
    source = pathlib.Path(serialization.__file__).read_text()
    assert "import pickle" not in source and "allow_pickle=True" not in source
    assert "allow_pickle=False" in source

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    mg.load(good_file)
    np.savez(tmp_path / "w.npz", a=np.ones(2))
    mg.load(tmp_path / "w.npz")
    np.savez(tmp_path / "obj.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="can't read .*obj.npz"):
        mg.load(tmp_path / "obj.npz")


# ---------------------------------------------------------------- atomic writes

WRITER = textwrap.dedent(
    """
    import sys, time
    import minigrad as mg
    from minigrad import serialization

    def slow_write(f, parts):  # write half of the bytes, then hang (to be killed)
        data = b"".join(p if isinstance(p, bytes) else p.tobytes() for p in parts)
        f.write(data[: len(data) // 2])
        f.flush()
        print("HALF", flush=True)
        time.sleep(60)

    serialization._write_parts = slow_write
    mg.save({"version": 2, "w": mg.zeros(256, 256)}, sys.argv[1])
    """
)


def test_a_writer_killed_mid_save_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "model.mg"
    mg.save({"version": 1, "w": mg.ones(256, 256)}, path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "HALF"
        leftovers = [p for p in tmp_path.iterdir() if p.name != "model.mg"]
        assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the half-written temp
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    old = mg.load(path)
    assert old["version"] == 1 and old["w"].sum().item() == 256 * 256
    mg.save({"version": 3}, path)  # the next save still works
    assert mg.load(path) == {"version": 3}


def test_a_failing_write_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.mg"
    mg.save({"version": 1}, path)

    def broken(f, parts):
        f.write(parts[0])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_parts", broken)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"version": 2}, path)
    assert mg.load(path) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.mg"]


def test_saved_files_get_the_usual_permissions(tmp_path):
    mg.save({}, tmp_path / "m.mg")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.mg").stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize("device", DEVICES)
def test_map_location(device, tmp_path):
    obj = sample(device)
    mg.save(obj, tmp_path / "d.mg")
    same = mg.load(tmp_path / "d.mg")
    assert same["weights"]["f32"].device == device and same["ints"][0].device == "cpu"
    on_cpu = mg.load(tmp_path / "d.mg", map_location="cpu")
    assert all(t.device == "cpu" for t in on_cpu["weights"].values())
    moved = mg.load(tmp_path / "d.mg", map_location=mg.device(device))
    assert moved["mask"].device == device
    np.testing.assert_array_equal(
        moved["weights"]["f32"].cpu().numpy(), obj["weights"]["f32"].cpu().numpy()
    )


def test_a_cuda_checkpoint_without_cuda(tmp_path):
    """Written on the CUDA stand-in in another process; loaded here, where CUDA may be absent."""
    path = tmp_path / "gpu.mg"
    code = f"import minigrad as mg; mg.save({{'w': mg.ones(2, device='cuda')}}, {str(path)!r})"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_FAKE_CUDA="1")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert mg.load(path, map_location="cpu")["w"].device == "cpu"
    if mg.cuda.is_available():
        assert mg.load(path)["w"].device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="saved on cuda:0.*map_location='cpu'"):
            mg.load(path)
        with pytest.raises(RuntimeError, match="cuda"):
            mg.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="map_location must be"):
        mg.load(path, map_location={"cuda": "cpu"})


# ---------------------------------------------------------------- weights trained in PyTorch


def mlp(lib):
    n = lib.nn
    return n.Sequential(
        n.Linear(6, 16), n.BatchNorm1d(16), n.ReLU(), n.Dropout(0.1), n.Linear(16, 3)
    )


def cnn(lib):
    n = lib.nn
    return n.Sequential(
        n.Conv2d(1, 4, 3, padding=1),
        n.BatchNorm2d(4),
        n.ReLU(),
        n.MaxPool2d(2),
        n.Flatten(),
        n.Linear(4 * 4 * 4, 3),
    )


def _train_in_torch(torch, build, shape):
    torch.manual_seed(0)
    model = build(torch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        x, y = torch.randn(*shape), torch.randint(0, 3, (shape[0],))
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize(("build", "shape"), [(mlp, (8, 6)), (cnn, (8, 1, 8, 8))])
@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_weights_trained_in_pytorch_load_into_the_same_architecture(
    tmp_path, build, shape, fmt, device
):
    torch = pytest.importorskip("torch")
    trained = _train_in_torch(torch, build, shape)
    sd = trained.state_dict()
    assert sd[[k for k in sd if k.endswith("num_batches_tracked")][0]].item() == 5
    path = tmp_path / f"weights.{fmt}"
    if fmt == "safetensors":
        safetensors_torch = pytest.importorskip("safetensors.torch")
        safetensors_torch.save_file(sd, path)
    else:
        np.savez(path, **{k: v.numpy() for k, v in sd.items()})

    loaded = mg.load(path, map_location=device)
    assert all(v.device == device for v in loaded.values())
    model = build(mg).to(device)
    assert model.load_state_dict(loaded) == ([], [])
    model.eval()
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    with torch.no_grad():
        expected = trained(torch.tensor(x)).numpy()
    out = model(mg.tensor(x, device=device)).detach().cpu().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_npy_and_unsupported_dtypes(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    t = mg.load(tmp_path / "a.npy")
    assert t.dtype is mg.int32 and t.shape == (2, 3)
    np.savez(tmp_path / "c.npz", z=np.ones(2, dtype=np.complex64))
    with pytest.raises(ValueError, match="'z' has dtype complex64"):
        mg.load(tmp_path / "c.npz")


def test_safetensors_missing_says_how_to_install(tmp_path, monkeypatch):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    safetensors_numpy.save_file({"w": np.ones(2, dtype=np.float32)}, str(tmp_path / "w.st"))
    assert mg.load(tmp_path / "w.st")["w"].tolist() == [1.0, 1.0]
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install safetensors"):
        mg.load(tmp_path / "w.st")


def test_save_to_and_load_from_open_files(tmp_path, device):
    with open(tmp_path / "f.mg", "wb") as f:
        mg.save([1, (2, mg.ones(2, device=device))], f)
    with open(tmp_path / "f.mg", "rb") as f:
        out = mg.load(f)
    assert out[0] == 1 and out[1][1].tolist() == [1.0, 1.0] and out[1][1].device == device


# ---------------------------------------------------------------- messages


def test_saving_into_a_missing_directory_names_the_target(tmp_path):
    target = tmp_path / "runs" / "ckpt.mg"
    with pytest.raises(FileNotFoundError) as err:
        mg.save({"w": mg.ones(2)}, target)
    msg = str(err.value)
    assert f"can't write {str(target)!r}" in msg
    assert f"the directory {str(tmp_path / 'runs')!r} does not exist" in msg
    assert "ckpt.mg." not in msg  # not the temporary file's name
    assert err.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_saving_onto_a_directory_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"can't write .*: it is a directory") as err:
        mg.save({"w": mg.ones(2)}, tmp_path)
    assert err.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone


def test_file_objects_are_named_by_their_type_not_their_address(tmp_path):
    with pytest.raises(ValueError) as err:
        mg.load(io.BytesIO(serialization.MAGIC + b"short"))
    assert "the BytesIO object is not a valid minigrad checkpoint: truncated" in str(err.value)
    assert "0x" not in str(err.value)
    path = _write(tmp_path / "named.mg", serialization.MAGIC + b"short")
    with open(path, "rb") as f, pytest.raises(ValueError, match=f"{str(path)!r} is not a valid"):
        mg.load(f)
    with pytest.raises(TypeError, match="open it in binary mode"):
        mg.load(io.StringIO("text"))
    with pytest.raises(TypeError, match="the StringIO object is open in text mode"):
        mg.save({}, io.StringIO())
    with pytest.raises(TypeError, match="f must be a path or a binary file object, got int"):
        mg.save({}, 3)


def test_loading_pytorch_tensors_says_how_to_export_them():
    torch = pytest.importorskip("torch")
    for obj in (torch.nn.Linear(2, 2).state_dict(), torch.ones(2)):
        with pytest.raises(TypeError) as err:
            mg.load(obj)
        msg = str(err.value)
        assert "got PyTorch tensors, not a file" in msg
        assert "safetensors.torch.save_file" in msg and "numpy.savez" in msg
    with pytest.raises(TypeError, match="f must be a path or a binary file object, got dict"):
        mg.load({"w": 1})


def test_foreign_weight_files_have_no_checksum_of_their_own(tmp_path):
    """What load's docstring says: a safetensors file's data is not checked (a flipped bit
    loads as another number); an .npz has only the zip format's CRC-32 per array."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    w = np.arange(64, dtype=np.float32)
    data = bytearray(safetensors_numpy.save({"w": w}))
    data[-4 * 5] ^= 0x10  # a bit of w[59]
    loaded = mg.load(io.BytesIO(bytes(data)))["w"].numpy()
    assert loaded[59] != w[59] and np.array_equal(np.delete(loaded, 59), np.delete(w, 59))
    buf = io.BytesIO()
    np.savez(buf, w=w)
    data = bytearray(buf.getvalue())
    data[data.find(w.tobytes()) + 4 * 59] ^= 0x10
    with pytest.raises(ValueError, match="Bad CRC-32"):
        mg.load(io.BytesIO(bytes(data)))
    assert "no checksum of their own" in " ".join(mg.load.__doc__.split())

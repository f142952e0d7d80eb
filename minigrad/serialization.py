"""Checkpoints without pickle: ``save`` / ``load`` for nested dicts, lists and tuples of tensors,
numbers, strings, bools and None; ``load`` also reads PyTorch weights exported as ``.npz`` or
safetensors. The format holds data only, so loading a file can never run code.

File layout (all little-endian)::

    b"MGCKPT\\x00\\x01"    8 bytes: magic and format version
    header length       8 bytes, unsigned
    SHA-256             32 bytes, of everything that follows (header and payload)
    header              JSON: the structure, and per tensor dtype, shape, device, byte range
    payload             the raw bytes of the tensors, one after the other

Weights trained in PyTorch load into the same architecture written with ``minigrad.nn`` (the
parameter names are PyTorch's)::

    # in PyTorch: either of
    safetensors.torch.save_file(model.state_dict(), "lenet.safetensors")
    numpy.savez("lenet.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
    # in minigrad
    model.load_state_dict(minigrad.load("lenet.safetensors"))
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import struct
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

from minigrad import backend, dtypes
from minigrad.tensor import Tensor

__all__ = ["save", "load"]

_np = backend.host  # host-only byte conversions
MAGIC = b"MGCKPT\x00\x01"
_PREFIX = struct.Struct("<8sQ32s")  # magic, header length, SHA-256
_SCALARS = (str, int, float, bool, type(None))

PathOrFile = str | os.PathLike | IO[bytes]


# ---------------------------------------------------------------- save


class _Encoder:
    """Turns the object into a JSON tree; tensors become ``{"T": index}``."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self._index: dict[int, int] = {}
        self._path: set[int] = set()  # containers being encoded (to refuse cycles)

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) not in self._index:  # the same tensor twice is stored once
                self._index[id(obj)] = len(self.tensors)
                self.tensors.append(obj)
            return {"T": self._index[id(obj)]}
        if isinstance(obj, backend.host_scalar_type):
            return self.encode(obj.item(), where)
        if not isinstance(obj, (list, tuple, dict)):
            raise TypeError(
                f"minigrad.save: can't save an object of type {type(obj).__name__} at {where}; "
                "supported: Tensor, dict, list, tuple, str, int, float, bool and None"
            )
        if id(obj) in self._path:
            raise ValueError(f"minigrad.save: {where} contains itself (a reference cycle)")
        self._path.add(id(obj))
        if isinstance(obj, dict):
            pairs = []
            for k, v in obj.items():
                if not isinstance(k, _SCALARS) or (isinstance(k, float) and not math.isfinite(k)):
                    raise TypeError(
                        f"minigrad.save: dict key {k!r} at {where} is not supported; keys must "
                        "be str, int, finite float, bool or None"
                    )
                pairs.append([k, self.encode(v, f"{where}[{k!r}]")])
            out: Any = {"odict" if isinstance(obj, OrderedDict) else "dict": pairs}
        else:
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            out = {"tuple": items} if isinstance(obj, tuple) else items
        self._path.discard(id(obj))
        return out


def _host_bytes(t: Tensor):
    """The tensor's values as a contiguous little-endian host array (a copy for CUDA)."""
    arr = backend.to_host(t._data)
    arr = arr if arr.flags.c_contiguous else arr.copy(order="C")  # keeps 0-d arrays 0-d
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False)


def _serialize(obj: Any) -> list:
    """The file's parts: prefix, header, then one host array per tensor."""
    enc = _Encoder()
    tree = enc.encode(obj, "obj")
    arrays, entries, offset = [], [], 0
    for t in enc.tensors:
        arr = _host_bytes(t)
        entries.append(
            {
                "dtype": t.dtype.name,
                "shape": list(arr.shape),
                "offset": offset,
                "nbytes": int(arr.nbytes),
                "device": str(t.device),
                "requires_grad": bool(t.requires_grad),
            }
        )
        arrays.append(arr)
        offset += arr.nbytes
    header = {"format": "minigrad", "version": 1, "payload_size": offset}
    header.update(tensors=entries, tree=tree)
    header_bytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    digest = hashlib.sha256(header_bytes)
    for arr in arrays:
        digest.update(arr.reshape(-1).view(_np.uint8))
    prefix = _PREFIX.pack(MAGIC, len(header_bytes), digest.digest())
    return [prefix, header_bytes, *arrays]


def _write_parts(f: IO[bytes], parts: list) -> None:
    for part in parts:
        f.write(part if isinstance(part, bytes) else part.reshape(-1).view(_np.uint8).data)


def _save_error(e: OSError, path: str, directory: str) -> OSError:
    """``e`` (raised for the temporary file) restated about the file the caller asked for."""
    if isinstance(e, FileNotFoundError) and not os.path.isdir(directory):
        reason = f"the directory {directory!r} does not exist (create it first)"
    elif os.path.isdir(path):
        reason = "it is a directory; give a file name inside it"
    else:
        reason = e.strerror or str(e)
    return type(e)(e.errno, f"minigrad.save: can't write {path!r}: {reason}", path)


def _atomic_write(path: str, parts: list) -> None:
    """Write to a temporary file next to ``path``, fsync, then rename it over ``path``: a crash
    at any moment leaves either the old file or the new one, never a mix."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    except OSError as e:
        raise _save_error(e, path, directory) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give the usual mode
        with os.fdopen(fd, "wb") as f:
            _write_parts(f, parts)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise _save_error(e, path, directory) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (not on Windows)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` (e.g. ``{"model": model.state_dict(), "optim": opt.state_dict(),
    "epoch": 3}``) to a path, atomically, or to a binary file object. CUDA tensors are
    written from host copies and remember their device."""
    if hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise TypeError(
                f"minigrad.save: {_describe(f)} is open in text mode; open it in binary mode "
                "('wb') or pass a path"
            )
        _write_parts(f, _serialize(obj))
    elif isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(os.fsdecode(f), _serialize(obj))
    else:
        raise TypeError(
            f"minigrad.save: f must be a path or a binary file object, got {type(f).__name__}"
        )


# ---------------------------------------------------------------- load


def _describe(f: Any) -> str:
    """How messages name a file object: its file name if it has one, else its type (the
    default repr's address says nothing to the reader)."""
    name = getattr(f, "name", None)
    if isinstance(name, (str, bytes)):
        return repr(os.fsdecode(name))
    return f"the {type(f).__name__} object"


def _is_torch_tensor(v: Any) -> bool:
    return type(v).__module__.split(".")[0] == "torch" and hasattr(v, "detach")


def _read(f: PathOrFile) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        data, name = f.read(), _describe(f)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"minigrad.load: {name} gave {type(data).__name__}, not bytes; open it in "
                "binary mode ('rb')"
            )
        return bytes(data), name
    if not isinstance(f, (str, bytes, os.PathLike)):
        values = f.values() if isinstance(f, Mapping) else [f]
        if any(_is_torch_tensor(v) for v in values):
            raise TypeError(
                "minigrad.load: got PyTorch tensors, not a file; minigrad reads them from a "
                f"file. {_EXPORT_HINT} Then: model.load_state_dict(minigrad.load(path))."
            )
        raise TypeError(
            f"minigrad.load: f must be a path or a binary file object, got {type(f).__name__}"
        )
    path = os.fspath(f)
    with open(path, "rb") as fh:
        return fh.read(), repr(path)


def _kind(data: bytes) -> str:
    """What the file is, from its first bytes."""
    if data.startswith(MAGIC):
        return "minigrad"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(b"\x93NUMPY"):
        return "npy"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if len(data) >= 10 and data[8:9] == b"{":
        (n,) = struct.unpack("<Q", data[:8])
        if n <= len(data) - 8:
            return "safetensors"
    return "unknown"


def load(f: PathOrFile, map_location: str | backend.Device | None = None) -> Any:
    """Load what ``save`` wrote, checking its SHA-256 first; or a PyTorch state dict exported as
    ``.npz`` (``numpy.savez``) or safetensors, as a dict of tensors named as in PyTorch.

    ``map_location`` ("cpu", "cuda" or a Device) places the tensors; ``None`` keeps the device
    recorded in the file (CPU for foreign formats).

    Only minigrad's own files carry a checksum of the whole file. PyTorch weights exported
    as ``.npz``, ``.npy`` or safetensors have no checksum of their own: an ``.npz`` has just
    the zip format's CRC-32 per array (it catches accidental damage, not a deliberate edit),
    an ``.npy`` or safetensors file nothing, so a flipped bit in their data loads silently as
    a different number. Keep a digest (e.g. ``sha256sum``) next to such files if that
    matters, or re-save them with ``minigrad.save``."""
    target = None
    if map_location is not None:
        if not isinstance(map_location, (str, backend.Device)):
            raise TypeError(
                "minigrad.load: map_location must be 'cpu', 'cuda', a minigrad device or None, "
                f"got {map_location!r}"
            )
        target = backend.device(map_location)
        backend.get_xp(target)  # a clear error now if that device is missing
    data, name = _read(f)
    kind = _kind(data)
    if kind == "minigrad":
        return _load_minigrad(data, name, target)
    if kind in ("zip", "npy"):
        return _load_numpy(data, name, target or backend.CPU)
    if kind == "safetensors":
        return _load_safetensors(data, name, target or backend.CPU)
    if kind == "pickle":
        raise ValueError(
            f"minigrad.load: {name} is a pickle file; minigrad never unpickles (it can run "
            f"arbitrary code). {_EXPORT_HINT}"
        )
    raise ValueError(
        f"minigrad.load: {name} is not a minigrad checkpoint, an .npz/.npy file or a "
        f"safetensors file (it starts with {data[:8]!r})"
    )


_EXPORT_HINT = (
    "Export PyTorch weights with safetensors.torch.save_file(model.state_dict(), path) or "
    "numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})."
)


def _corrupt(name: str, what: str) -> ValueError:
    return ValueError(f"minigrad.load: {name} is not a valid minigrad checkpoint: {what}")


def _load_minigrad(data: bytes, name: str, target: backend.Device | None) -> Any:
    if len(data) < _PREFIX.size:
        raise _corrupt(name, f"truncated ({len(data)} bytes, shorter than the file prefix)")
    _, header_len, digest = _PREFIX.unpack_from(data)
    body = memoryview(data)[_PREFIX.size :]
    if header_len > len(body):
        raise _corrupt(
            name,
            f"truncated or corrupted (the header length field says {header_len} bytes, but "
            f"only {len(body)} bytes follow the prefix)",
        )
    if hashlib.sha256(body).digest() != digest:
        expected = _expected_size(bytes(body[:header_len]))
        if expected is not None and len(data) < expected:
            raise _corrupt(name, f"truncated ({len(data)} bytes; the header says {expected})")
        raise _corrupt(name, "SHA-256 checksum mismatch (the file is corrupted or was modified)")
    try:
        header = json.loads(bytes(body[:header_len]))
        payload = body[header_len:]
        if header.get("format") != "minigrad" or header.get("version") != 1:
            raise ValueError("unknown format or version")
        if header.get("payload_size") != len(payload):
            raise ValueError("payload size does not match the header")
        tensors = [_tensor(e, payload, target) for e in header["tensors"]]
        return _decode(header["tree"], tensors)
    except RuntimeError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as e:
        raise _corrupt(name, f"malformed header ({e})") from None


def _expected_size(header: bytes) -> int | None:
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        h = json.loads(header)
        return _PREFIX.size + len(header) + int(h["payload_size"])
    return None


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _tensor(entry: dict, payload: memoryview, target: backend.Device | None) -> Tensor:
    dt = dtypes.as_dtype(entry["dtype"])
    shape, offset, nbytes = entry["shape"], entry["offset"], entry["nbytes"]
    if not (isinstance(shape, list) and all(_is_count(s) for s in shape)):
        raise ValueError(f"bad shape {shape!r}")
    if not (_is_count(offset) and _is_count(nbytes)) or offset + nbytes > len(payload):
        raise ValueError(f"bad byte range {offset}+{nbytes}")
    if nbytes != math.prod(shape) * dt.itemsize:
        raise ValueError(f"{nbytes} bytes do not fit shape {shape} of {dt.name}")
    arr = _np.frombuffer(
        payload, dtype=dt.np.newbyteorder("<"), count=math.prod(shape), offset=offset
    )
    arr = arr.reshape(shape).astype(dt.np)  # a native-order copy that owns its memory
    dev = target or _saved_device(entry["device"])
    t = Tensor._make(backend.from_host(arr, dev), dev, False, None, None, None)
    if entry.get("requires_grad") is True:
        t.requires_grad = True
    return t


def _saved_device(spec: str) -> backend.Device:
    dev = backend.device(spec)
    if dev.type == "cuda" and not backend.cuda_is_available():
        raise RuntimeError(
            f"minigrad.load: the checkpoint holds tensors saved on {spec}, but CUDA is not "
            "available here; pass map_location='cpu' to load them on the CPU"
        )
    return dev


def _decode(node: Any, tensors: list[Tensor]) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(x, tensors) for x in node]
    if isinstance(node, dict) and len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "T" and _is_count(value):
            return tensors[value]
        if tag == "tuple" and isinstance(value, list):
            return tuple(_decode(x, tensors) for x in value)
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag in ("dict", "odict") and isinstance(value, list):
            out = OrderedDict() if tag == "odict" else {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ValueError("bad dict entry")
                if not isinstance(pair[0], _SCALARS):
                    raise ValueError(f"bad dict key {pair[0]!r}")
                out[pair[0]] = _decode(pair[1], tensors)
            return out
    raise ValueError(f"unknown node {str(node)[:60]}")


# ---------------------------------------------------------------- weights from PyTorch


def _from_host(arr, key: str, name: str, dev: backend.Device) -> Tensor:
    try:
        dt = dtypes.from_np(arr.dtype)
    except TypeError:
        raise ValueError(
            f"minigrad.load: {name}: array {key!r} has dtype {arr.dtype}, which minigrad does "
            "not support (convert it to float32 before exporting)"
        ) from None
    arr = arr.astype(dt.np, order="C", copy=True)  # owned, writable, native byte order
    return Tensor._make(backend.from_host(arr, dev), dev, False, None, None, None)


def _load_numpy(data: bytes, name: str, dev: backend.Device) -> Any:
    """``.npz`` gives an ordered dict of tensors; ``.npy`` one tensor. Never unpickles."""
    if data.startswith(b"PK"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as e:
            raise ValueError(f"minigrad.load: {name} is a damaged zip/npz file ({e})") from None
        if any(n.endswith(".pkl") for n in names) or not all(n.endswith(".npy") for n in names):
            raise ValueError(
                f"minigrad.load: {name} looks like a PyTorch torch.save checkpoint (a zip of "
                f"pickles), which minigrad does not read. {_EXPORT_HINT}"
            )
    try:
        loaded = _np.load(io.BytesIO(data), allow_pickle=False)
        if not hasattr(loaded, "files"):
            return _from_host(loaded, "array", name, dev)
        with loaded:
            return OrderedDict((k, _from_host(loaded[k], k, name, dev)) for k in loaded.files)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"minigrad.load: can't read {name} as .npz/.npy: {e}") from None


def _load_safetensors(data: bytes, name: str, dev: backend.Device) -> Any:
    try:
        from safetensors.numpy import load as load_safetensors
    except ImportError:
        raise ImportError(
            f"minigrad.load: {name} is a safetensors file; reading it needs the safetensors "
            "package: pip install safetensors"
        ) from None
    try:
        arrays = load_safetensors(data)
    except Exception as e:  # the library raises its own error types
        raise ValueError(f"minigrad.load: can't read {name} as safetensors: {e}") from None
    return OrderedDict((k, _from_host(a, k, name, dev)) for k, a in arrays.items())

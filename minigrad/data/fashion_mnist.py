"""Fashion-MNIST read from its IDX files (gzipped or not), found in ``root``, ``$MINIGRAD_DATA``
or the Debian package's directory; nothing is ever downloaded."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path

from minigrad.backend import host as np  # data files live on the host
from minigrad.data.dataset import ArrayImageDataset

__all__ = ["FashionMNIST", "read_idx"]

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
ENV_VAR = "MINIGRAD_DATA"
FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
HOW_TO_GET = (
    "minigrad never downloads data. On Debian/Ubuntu: apt-get install dataset-fashion-mnist "
    f"(it puts the files in {DEFAULT_ROOT}/); anywhere else, pass root=DIR (or set "
    f"{ENV_VAR}=DIR) for a directory containing train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
    "(gzipped or not), e.g. from https://github.com/zalandoresearch/fashion-mnist"
)

# IDX element types: the third byte of the magic number -> big-endian dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_cache: dict = {}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array in an IDX file (gzipped or not), read-only, in native byte order.

    The header is checked: two zero bytes, a known type code, the number of dimensions, then one
    big-endian uint32 per dimension, and exactly as many data bytes as those dimensions need."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # the gzip magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path} is a damaged gzip file ({e}); fetch it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"{path} is not an IDX file: its magic number is {raw[:4].hex() or 'missing'}, "
            "expected 0000TTNN (TT the element type 08..0e, NN the number of dimensions)"
        )
    ndim, dtype = raw[3], np.dtype(_IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header needs {header} bytes, has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != need:
        raise ValueError(
            f"{path} is damaged: its header says shape {dims} ({need} data bytes) but it holds "
            f"{len(raw) - header}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _find(root, train: bool) -> tuple[Path, Path]:
    if root is not None:
        bases = [Path(root)]
    else:
        bases = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
        bases.append(DEFAULT_ROOT)
    # a directory itself, or the layouts of the Debian package and of torchvision
    dirs = [d for b in bases for d in (b, b / "fashion-mnist", b / "FashionMNIST" / "raw")]
    for d in dirs:
        found = []
        for stem in FILES[train]:
            hits = [p for p in (d / f"{stem}.gz", d / stem) if p.is_file()]
            found += hits[:1]
        if len(found) == 2:
            return found[0], found[1]
    looked = ", ".join(str(d) for d in dirs)
    raise FileNotFoundError(
        f"FashionMNIST: no {' / '.join(FILES[train])} files (.gz or plain) in {looked}. "
        + HOW_TO_GET
    )


def _load(path: Path) -> np.ndarray:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _cache:
        array = read_idx(path)
        array.setflags(write=False)  # shared by every instance
        _cache[key] = array
    return _cache[key]


class FashionMNIST(ArrayImageDataset):
    """Zalando's Fashion-MNIST: 28x28 grey clothing pictures in 10 balanced classes.

    ``FashionMNIST(root=None, train=True)`` has 60000 (train) or 10000 (test) samples. ``data`` is
    the file's uint8 array (N, 28, 28), read-only and shared between instances; ``targets`` the
    int64 labels (N,). Samples and batches are float32 (1, 28, 28) in [0, 1]; ``mean`` and
    ``std`` are the training pixels' statistics on that scale, for
    ``transform=Normalize(FashionMNIST.mean, FashionMNIST.std)``.

    The files are looked up in ``root``; without it in ``$MINIGRAD_DATA`` then
    ``/usr/share/datasets/fashion-mnist`` (each directory itself, its ``fashion-mnist/`` and
    torchvision's ``FashionMNIST/raw/``). ``download=True`` is refused: nothing is fetched."""

    classes = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    mean = 0.2860  # of the 60000 training images, pixels scaled to [0, 1]
    std = 0.3530

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ):
        if download:
            raise ValueError(f"FashionMNIST: download=True is not supported. {HOW_TO_GET}")
        self.train = bool(train)
        image_path, label_path = _find(root, self.train)
        self.root = image_path.parent
        images, labels = _load(image_path), _load(label_path)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(
                f"{image_path}: expected uint8 images of shape (N, 28, 28), got {images.dtype} "
                f"{images.shape}"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8 or len(labels) != len(images):
            raise ValueError(
                f"{label_path}: expected {len(images)} uint8 labels (one per image in "
                f"{image_path.name}), got {labels.dtype} {labels.shape}"
            )
        if len(labels) and int(labels.max()) >= len(self.classes):
            raise ValueError(f"{label_path}: label {int(labels.max())} is not a class 0..9")
        super().__init__(
            images, labels.astype(np.int64), 1.0 / 255.0, transform, target_transform, (1, 28, 28)
        )

    def extra_repr(self) -> str:
        return f"{'train' if self.train else 'test'}, root='{self.root}'"

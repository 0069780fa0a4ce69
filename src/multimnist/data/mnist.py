"""MNIST digit sources: the archive vendored in the package, a folder of IDX files, a Keras mnist.npz,
or a fresh download from a public mirror."""

from __future__ import annotations

import gzip
import hashlib
import logging
import struct
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from multimnist.errors import REASONS, UserError
from multimnist.files import atomic_path, sha256_arrays, sha256_file

import numpy as np

log = logging.getLogger(__name__)

VENDORED = "mnist.npz"  # its SHA-256 is in mnist.sha256 beside it; PROVENANCE.md says where it came from

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the uncompressed IDX files of real MNIST (they equal the vendored archive's arrays).
IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"


@dataclass(frozen=True)
class Digits:
    """The 70,000 MNIST digits: uint8 (N, 28, 28) images and uint8 labels 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @cached_property
    def sha256(self) -> str:
        """Content hash of the four arrays: the same digits give the same hash, however stored."""
        return sha256_arrays(self.x_train, self.y_train, self.x_test, self.y_test)


def load_mnist(path: str | Path | None = None) -> Digits:
    """Load MNIST from the vendored archive (path None), an IDX folder, or a Keras-style .npz file."""
    if path is None:
        return load_vendored()
    path = Path(path)
    if not path.exists():
        raise UserError(f"MNIST source not found: {path}")
    if path.is_dir():
        return load_idx_folder(path)
    if path.suffix == ".npz":
        return load_npz(path)
    raise UserError(f"MNIST source must be a folder of IDX files or a .npz file, got {path}")


def load_vendored() -> Digits:
    assets = resources.files("multimnist.data") / "assets"
    expected = (assets / "mnist.sha256").read_text().split()[0]
    with resources.as_file(assets / VENDORED) as path:
        digest = sha256_file(path)
        if digest != expected:
            raise UserError(f"vendored MNIST archive is corrupt: SHA-256 {digest}, expected {expected}")
        digits = load_npz(path)
    return Digits(digits.x_train, digits.y_train, digits.x_test, digits.y_test, source="vendored")


def load_npz(path: Path) -> Digits:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in IDX_FILES if k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    missing = sorted(set(IDX_FILES) - set(arrays))
    if missing:
        raise UserError(f"{path} lacks {', '.join(missing)} (a Keras mnist.npz has x_train, y_train, x_test, y_test)")
    return _checked(arrays, source=str(path))


def load_idx_folder(folder: Path) -> Digits:
    arrays = {}
    for key, name in IDX_FILES.items():
        candidates = [folder / name, folder / f"{name}.gz", folder / name.replace("-idx", ".idx")]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise UserError(f"{folder} has no {name} or {name}.gz")
        arrays[key] = read_idx(found)
    return _checked(arrays, source=str(folder))


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (raw or gzip): big-endian header with the dimensions, then uint8 data."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    if len(raw) < 4 or raw[0:2] != b"\0\0" or raw[2] != 0x08:
        raise UserError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise UserError(f"{path} is truncated or padded: {len(raw)} bytes, header says {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _checked(arrays: dict[str, np.ndarray], source: str) -> Digits:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise UserError(f"{source}: x_{split} must be (N, 28, 28) images, got shape {x.shape}")
        if y.shape != (len(x),):
            raise UserError(f"{source}: y_{split} has shape {y.shape}, expected ({len(x)},)")
        if x.dtype != np.uint8:
            raise UserError(f"{source}: x_{split} must be uint8 pixels, got {x.dtype}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
            raise UserError(f"{source}: y_{split} must hold digit labels 0..9")
        missing = sorted(set(range(10)) - set(np.unique(y).tolist()))
        if missing:
            raise UserError(f"{source}: y_{split} has no images of digit(s) {missing}")
    return Digits(
        x_train=np.ascontiguousarray(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.uint8),
        x_test=np.ascontiguousarray(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.uint8),
        source=source,
    )


def download_mnist(dest: str | Path, mirror: str = DEFAULT_MIRROR, progress: bool = True) -> Path:
    """Fetch the four gzipped IDX files into `dest`, check each against the known SHA-256, write atomically.

    Files already present and correct are kept. Returns `dest`, ready for `load_mnist(dest)`.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, digest in IDX_SHA256.items():
        target = dest / f"{name}.gz"
        if target.is_file() and _gz_sha256(target) == digest:
            continue
        url = mirror.rstrip("/") + f"/{name}.gz"
        with atomic_path(target) as tmp:
            _fetch(url, tmp, progress)
            got = _gz_sha256(tmp)
            if got != digest:
                raise UserError(f"{url} failed its checksum: SHA-256 {got}, expected {digest}")
        log.info("  %s.gz -> %s (SHA-256 checked)", name, target)
    return dest


def _gz_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    except (OSError, EOFError, gzip.BadGzipFile):
        return "not a gzip file"


def _fetch(url: str, out: Path, progress: bool) -> None:
    """Download `url` into `out`: a bar that redraws itself on a terminal, one line per file in a log."""
    bar = progress and sys.stderr.isatty()
    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(out, "wb") as f:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while block := resp.read(1 << 16):
                f.write(block)
                done += len(block)
                if bar:
                    _progress_bar(url.rsplit("/", 1)[-1], done, total)
        if bar:
            print(file=sys.stderr)
    except OSError as e:
        if e.errno in REASONS and not isinstance(e, urllib.error.URLError):
            raise  # disk full, permission denied: atomic_path names the file
        raise UserError(f"download of {url} failed: {getattr(e, 'reason', e)}") from None


def _progress_bar(name: str, done: int, total: int, width: int = 30) -> None:
    """Redraw one line in place (only on a terminal: a log would fill with carriage returns)."""
    if total:
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r  {name} [{bar}] {done / 1e6:5.1f}/{total / 1e6:.1f} MB", end="", file=sys.stderr)
    else:
        print(f"\r  {name} {done / 1e6:5.1f} MB", end="", file=sys.stderr)

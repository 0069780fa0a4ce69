"""MNIST digit sources: the vendored archive, IDX folders (raw and .gz), Keras npz, downloads, bad files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import logging
import shutil
import threading
from functools import partial
from pathlib import Path

from multimnist.cli import main
from multimnist.data import mnist
from multimnist.data.mnist import IDX_FILES, IDX_SHA256, download_mnist, load_mnist
from multimnist.errors import UserError

import numpy as np
import pytest
from conftest import idx_bytes, write_idx

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- the vendored archive -------------------------------------------------------------------------------------


def test_vendored_shapes_and_dtypes(digits):
    assert digits.x_train.shape == (60000, 28, 28) and digits.x_train.dtype == np.uint8
    assert digits.x_test.shape == (10000, 28, 28) and digits.x_test.dtype == np.uint8
    assert digits.y_train.shape == (60000,) and digits.y_test.shape == (10000,)
    assert digits.source == "vendored"


def test_vendored_is_real_mnist(digits):
    assert np.bincount(digits.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(digits.y_test, minlength=10).tolist() == TEST_COUNTS
    assert digits.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert digits.x_train.mean() / 255 == pytest.approx(0.1307, abs=5e-5)
    assert digits.x_train.max() == 255 and digits.x_train.min() == 0


def test_vendored_sha_check_fails_on_corrupted_copy(tmp_path, monkeypatch):
    assets = Path(str(mnist.resources.files("multimnist.data") / "assets"))
    fake = tmp_path / "pkg"
    shutil.copytree(assets, fake / "assets")
    data = bytearray((fake / "assets" / "mnist.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (fake / "assets" / "mnist.npz").write_bytes(bytes(data))
    monkeypatch.setattr(mnist.resources, "files", lambda package: fake)
    with pytest.raises(UserError, match="vendored MNIST archive is corrupt"):
        load_mnist()


# --- IDX folders ----------------------------------------------------------------------------------------------


def _small_arrays(seed=0, n_train=30, n_test=20):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test, dtype=np.uint8) * 3) % 10,
    }


def _write_idx_folder(folder: Path, arrays, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_FILES.items():
        write_idx(folder / (name + ".gz" if gz else name), arrays[key], gz=gz)
    return folder


def _assert_same(digits, arrays):
    for key in IDX_FILES:
        np.testing.assert_array_equal(getattr(digits, key), arrays[key])
    assert digits.x_train.dtype == np.uint8 and digits.y_train.dtype == np.uint8


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_idx_folder_loads(tmp_path, gz):
    arrays = _small_arrays()
    digits = load_mnist(_write_idx_folder(tmp_path / "idx", arrays, gz=gz))
    _assert_same(digits, arrays)
    assert digits.source == str(tmp_path / "idx")


def test_idx_folder_accepts_dotted_names(tmp_path):
    """Some mirrors spell the files 'train-images.idx3-ubyte'."""
    arrays = _small_arrays(1)
    for key, name in IDX_FILES.items():
        write_idx(tmp_path / name.replace("-idx", ".idx"), arrays[key])
    _assert_same(load_mnist(tmp_path), arrays)


def test_real_mnist_as_idx_roundtrip(digits, tmp_path):
    """The vendored arrays written as IDX files are byte-identical to the official files, and load back."""
    for key, name in IDX_FILES.items():
        data = idx_bytes(getattr(digits, key))
        assert hashlib.sha256(data).hexdigest() == IDX_SHA256[name], name
        (tmp_path / name).write_bytes(data)
    again = load_mnist(tmp_path)
    assert again.sha256 == digits.sha256


def test_idx_missing_file(tmp_path):
    folder = _write_idx_folder(tmp_path / "idx", _small_arrays())
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(UserError, match="has no t10k-labels-idx1-ubyte"):
        load_mnist(folder)


def test_idx_truncated(tmp_path):
    folder = _write_idx_folder(tmp_path / "idx", _small_arrays())
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(UserError, match="truncated"):
        load_mnist(folder)


def test_idx_bad_magic(tmp_path):
    folder = _write_idx_folder(tmp_path / "idx", _small_arrays())
    (folder / "train-labels-idx1-ubyte").write_bytes(b"PK\x03\x04 this is a zip, not IDX")
    with pytest.raises(UserError, match="not an unsigned-byte IDX file"):
        load_mnist(folder)


def test_idx_corrupt_gzip(tmp_path):
    folder = _write_idx_folder(tmp_path / "idx", _small_arrays(), gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # cut mid-stream
    with pytest.raises(UserError, match="cannot read"):
        load_mnist(folder)


def test_idx_label_count_mismatch(tmp_path):
    arrays = _small_arrays()
    arrays["y_test"] = arrays["y_test"][:-1]
    with pytest.raises(UserError, match="y_test has shape"):
        load_mnist(_write_idx_folder(tmp_path / "idx", arrays))


def test_idx_labels_out_of_range(tmp_path):
    arrays = _small_arrays()
    arrays["y_train"] = arrays["y_train"].copy()
    arrays["y_train"][0] = 10
    with pytest.raises(UserError, match="0..9"):
        load_mnist(_write_idx_folder(tmp_path / "idx", arrays))


def test_idx_missing_digit_class(tmp_path):
    arrays = _small_arrays()
    arrays["y_test"] = np.where(arrays["y_test"] == 7, 1, arrays["y_test"]).astype(np.uint8)
    with pytest.raises(UserError, match=r"no images of digit\(s\) \[7\]"):
        load_mnist(_write_idx_folder(tmp_path / "idx", arrays))


# --- Keras-style npz and paths --------------------------------------------------------------------------------


def test_keras_npz_loads(tmp_path):
    arrays = _small_arrays(2)
    arrays["y_train"] = arrays["y_train"].astype(np.int64)  # Keras stores uint8, others int64: both fine
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    _assert_same(load_mnist(tmp_path / "mnist.npz"), arrays)


def test_keras_npz_missing_arrays(tmp_path):
    arrays = _small_arrays()
    del arrays["y_test"]
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(UserError, match="lacks y_test"):
        load_mnist(tmp_path / "mnist.npz")


def test_keras_npz_corrupt(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file at all" * 10)
    with pytest.raises(UserError, match="cannot read"):
        load_mnist(tmp_path / "mnist.npz")


def test_keras_npz_truncated(tmp_path):
    np.savez(tmp_path / "mnist.npz", **_small_arrays())
    data = (tmp_path / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(data[: len(data) // 2])  # still starts like a zip file
    with pytest.raises(UserError, match="cannot read"):
        load_mnist(tmp_path / "mnist.npz")


def test_keras_npz_pickled_objects_refused(tmp_path):
    arrays = _small_arrays()
    arrays["y_train"] = arrays["y_train"].astype(object)
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(UserError, match="cannot read"):
        load_mnist(tmp_path / "mnist.npz")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("x_train", np.zeros((30, 28, 27), np.uint8), r"\(N, 28, 28\)"),
        ("x_test", np.zeros((20, 28, 28), np.float32), "uint8"),
        ("y_train", np.linspace(0, 9, 30), "0..9"),
    ],
    ids=["shape", "dtype", "float-labels"],
)
def test_keras_npz_bad_arrays(tmp_path, key, value, message):
    arrays = _small_arrays() | {key: value}
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(UserError, match=message):
        load_mnist(tmp_path / "mnist.npz")


def test_missing_source(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_mnist(tmp_path / "nowhere")


def test_unknown_file_kind(tmp_path):
    (tmp_path / "mnist.csv").write_text("1,2,3\n")
    with pytest.raises(UserError, match="folder of IDX files or a .npz"):
        load_mnist(tmp_path / "mnist.csv")


# --- download from a local mirror ------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def real_gz(digits):
    """The four real MNIST files, gzipped (level 1: fast), by file name."""
    return {f"{name}.gz": gzip.compress(idx_bytes(getattr(digits, key)), compresslevel=1)
            for key, name in IDX_FILES.items()}


@pytest.fixture
def serve(monkeypatch):
    """Start a bounded HTTP server on 127.0.0.1 for a folder; returns its base URL. Stopped after the test."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    servers = []

    def start(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _mirror(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.slow
def test_download_verifies_and_loads(tmp_path, serve, real_gz, digits, capsys, caplog):
    url = serve(_mirror(tmp_path / "mirror", real_gz))
    with caplog.at_level(logging.INFO, logger="multimnist"):
        dest = download_mnist(tmp_path / "dl", mirror=url, progress=True)
    assert sorted(p.name for p in dest.iterdir()) == sorted(real_gz)
    assert load_mnist(dest).sha256 == digits.sha256
    assert "train-images-idx3-ubyte.gz" in caplog.text  # progress is logged, one line per file
    assert "\r" not in capsys.readouterr().err  # not a terminal: no bar redrawn with carriage returns
    # Files present and correct are kept: a dead mirror is never asked.
    assert download_mnist(dest, mirror="http://127.0.0.1:9/", progress=False) == dest


def test_download_corrupted_file_fails_and_leaves_nothing(tmp_path, serve, real_gz):
    bad = dict(real_gz)
    raw = bytearray(gzip.decompress(bad["t10k-labels-idx1-ubyte.gz"]))
    raw[100] = (raw[100] + 1) % 10
    bad["t10k-labels-idx1-ubyte.gz"] = gzip.compress(bytes(raw), compresslevel=1)
    url = serve(_mirror(tmp_path / "mirror", bad))
    dest = tmp_path / "dl"
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz failed its checksum"):
        download_mnist(dest, mirror=url, progress=False)
    assert not (dest / "t10k-labels-idx1-ubyte.gz").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_download_missing_file_on_mirror(tmp_path, serve, real_gz):
    url = serve(_mirror(tmp_path / "mirror", {"train-images-idx3-ubyte.gz": real_gz["train-images-idx3-ubyte.gz"]}))
    with pytest.raises(UserError, match="download of .*train-labels-idx1-ubyte.gz failed"):
        download_mnist(tmp_path / "dl", mirror=url, progress=False)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_cli_download(tmp_path, serve, real_gz, digits, capsys):
    url = serve(_mirror(tmp_path / "mirror", real_gz))
    assert main(["data", "download", "--out", str(tmp_path / "dl"), "--mirror", url]) == 0
    assert "verified" in capsys.readouterr().out
    assert load_mnist(tmp_path / "dl").sha256 == digits.sha256

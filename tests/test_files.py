"""Atomic writes (umask permissions, strict JSON, one-line errors naming the file), reproducible npz files,
output-folder locks."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
import time
import zipfile
from pathlib import Path

from multimnist.errors import FileError
from multimnist.files import (
    atomic_path,
    lock_folder,
    lock_path,
    sha256_arrays,
    sha256_file,
    write_bytes,
    write_json,
    write_npz,
)

import numpy as np
import pytest


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_bytes(b"done")
        assert not target.exists()  # nothing under the final name until the block succeeds
    assert target.read_bytes() == b"done"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(TypeError, match="not JSON serializable"):
        write_json(target, {"bad": object()})  # not serializable: fails before anything is renamed
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_json_numpy_values(tmp_path):
    write_json(tmp_path / "m.json", {"acc": np.float32(0.5), "n": np.int64(3), "v": np.arange(3),
                                     "p": tmp_path})
    assert json.loads((tmp_path / "m.json").read_text()) == {"acc": 0.5, "n": 3, "v": [0, 1, 2], "p": str(tmp_path)}


def test_write_npz_same_arrays_same_bytes(tmp_path):
    arrays = {"x": np.arange(1092 * 3, dtype=np.uint8).reshape(3, 28, 39), "y": np.array([1, 2, 3])}
    write_npz(tmp_path / "a.npz", **arrays)
    time.sleep(1.1)  # a zip timestamp taken from the clock would now differ
    write_npz(tmp_path / "b.npz", **arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["x", "y"]
        np.testing.assert_array_equal(f["x"], arrays["x"])
        np.testing.assert_array_equal(f["y"], arrays["y"])


def test_write_npz_handles_non_contiguous(tmp_path):
    x = np.arange(24).reshape(4, 6)[:, ::2]
    write_npz(tmp_path / "a.npz", x=x)
    with np.load(tmp_path / "a.npz") as f:
        np.testing.assert_array_equal(f["x"], x)


def test_write_npz_refuses_objects_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_npz(tmp_path / "a.npz", x=np.arange(3), y=np.array([1, None], dtype=object))
    assert list(tmp_path.iterdir()) == []


def test_hashes(tmp_path):
    write_bytes(tmp_path / "f", b"abc")
    assert sha256_file(tmp_path / "f") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert sha256_arrays(a) == sha256_arrays(np.asfortranarray(a))  # content, not memory layout
    # The digest recorded in meta.json and metrics.json files: the same as before it stopped copying the bytes.
    assert sha256_arrays(a) == "3b7da4473fa12306d01c327038c1c551246c266cfce526672ae3678dddc47434"
    assert sha256_arrays(a) != sha256_arrays(a.astype(np.int64))
    assert sha256_arrays(a) != sha256_arrays(a.reshape(4, 3))
    assert sha256_arrays(a, a) != sha256_arrays(a)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_get_the_umask_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_bytes(tmp_path / "a.bin", b"x")
        write_json(tmp_path / "a.json", {"a": 1})
        write_npz(tmp_path / "a.npz", x=np.arange(3))
    finally:
        os.umask(old)
    for name in ("a.bin", "a.json", "a.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_write_json_is_strict_nan_and_infinity_become_null(tmp_path):
    write_json(tmp_path / "m.json", {"loss": float("nan"), "gap": np.float32("inf"), "curve": np.array([1.0, -np.inf]),
                                     "nested": [{"v": float("-inf")}, (2.5, np.nan)], "ok": 0.5})

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    text = (tmp_path / "m.json").read_text()
    assert json.loads(text, parse_constant=refuse) == {"loss": None, "gap": None, "curve": [1.0, None],
                                                       "nested": [{"v": None}, [2.5, None]], "ok": 0.5}


def _raise(err_no):
    def fail(*args, **kwargs):
        raise OSError(err_no, os.strerror(err_no))
    return fail


@pytest.mark.parametrize("writer, patch", [
    (lambda p: write_bytes(p, b"new"), (Path, "write_bytes")),
    (lambda p: write_json(p, {"new": 1}), (Path, "write_bytes")),
    (lambda p: write_npz(p, x=np.arange(3)), (zipfile.ZipFile, "writestr")),
], ids=["bytes", "json", "npz"])
@pytest.mark.parametrize("err_no, words", [(errno.ENOSPC, "disk full"), (errno.EACCES, "permission denied"),
                                           (errno.EROFS, "read-only file system")])
def test_a_failed_write_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch, writer, patch, err_no, words):
    target = tmp_path / "out.dat"
    target.write_bytes(b"old")
    monkeypatch.setattr(*patch, _raise(err_no))
    with pytest.raises(FileError) as e:
        writer(target)
    assert str(e.value) == f"{words}: cannot write {target}" and e.value.exit_code == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out.dat"] and target.read_bytes() == b"old"


def test_lock_folder_refuses_a_second_holder_and_cleans_up(tmp_path):
    out = tmp_path / "runs" / "study"
    with lock_folder(out, "multimnist reproduce --out runs/study") as folder:
        assert folder == out and not out.exists()  # the lock is beside the folder: the command makes the folder
        assert lock_path(out) == tmp_path / "runs" / ".study.lock"
        holder = json.loads(lock_path(out).read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "multimnist reproduce --out runs/study"
        # Another spelling of the same folder is the same lock (flock conflicts between descriptors, even in
        # one process).
        with pytest.raises(FileError, match=rf"is in use by pid {os.getpid()} on .* \(multimnist reproduce"), \
                lock_folder(tmp_path / "runs" / "." / "study", "second"):
            pass
    assert list((tmp_path / "runs").iterdir()) == []
    with lock_folder(out, "third"):  # free again
        pass


def test_lock_folder_waits_for_the_holder_when_asked(tmp_path):
    """With wait=True a second holder blocks until the first lets go (the dataset store), and a lock of
    another name beside the same folder is independent of the command lock."""
    out = tmp_path / "data"
    got = threading.Event()

    def second():
        with lock_folder(out, "second", wait=True, name="dataset.lock"):
            got.set()

    with lock_folder(out, "first", wait=True, name="dataset.lock"):
        assert lock_path(out, "dataset.lock") == tmp_path / ".data.dataset.lock"
        with lock_folder(out, "the command's own lock"):  # another file: no conflict
            pass
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not got.wait(0.3)  # blocked while the first holds it
    waiter.join(10)
    assert got.is_set() and list(tmp_path.iterdir()) == []

"""Atomic writes and reproducible npz files."""

from __future__ import annotations

import json
import time

from multimnist.files import atomic_path, sha256_arrays, sha256_file, write_bytes, write_json, write_npz

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
    assert sha256_arrays(a) != sha256_arrays(a.astype(np.int64))
    assert sha256_arrays(a) != sha256_arrays(a.reshape(4, 3))
    assert sha256_arrays(a, a) != sha256_arrays(a)

"""Shared fixtures: the vendored MNIST digits (loaded once) and a small generated dataset on disk."""

from __future__ import annotations

import gzip
import struct

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset

import numpy as np
import pytest

SMALL_TRAIN = 1000  # small enough to keep the suite fast, large enough to hold all 50 study classes


def idx_bytes(arr: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x00000803/0x00000801, big-endian dimensions, then the bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)


@pytest.fixture(scope="session")
def digits():
    return load_mnist()


@pytest.fixture(scope="session")
def small_config():
    return GeneratorConfig(train_size=SMALL_TRAIN)


@pytest.fixture(scope="session")
def small_dataset(digits, small_config):
    return make_dataset(digits, small_config, seed=0)


@pytest.fixture(scope="session")
def small_dataset_dir(small_dataset, tmp_path_factory):
    return save_dataset(small_dataset, tmp_path_factory.mktemp("small_dataset"))

"""From a dataset to network inputs, as in the study's section 2: flatten to 1092, scale to [0, 1], hold out a
seeded random 20% of the training images for validation, one-hot labels (label 1 -> index 0 for 1..50)."""

from __future__ import annotations

from dataclasses import dataclass

from multimnist.data.config import FLAT
from multimnist.data.generate import Dataset
from multimnist.errors import UserError

import numpy as np


@dataclass
class Prepared:
    """Flat float32 inputs in [0, 1] and one-hot targets; `*_idx` say which training images went where."""

    x_train: np.ndarray  # (N_train, 1092)
    y_train: np.ndarray  # (N_train, n_classes) one-hot
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    train_idx: np.ndarray  # positions in the dataset's training set
    val_idx: np.ndarray


def prepare(ds: Dataset, val_fraction: float = 0.2, seed: int = 0) -> Prepared:
    if not 0.0 <= val_fraction < 1.0:
        raise UserError(f"validation fraction must be in [0, 1), got {val_fraction}")
    train_idx, val_idx = split_indices(len(ds.x_train), val_fraction, seed)
    x_train, x_test = to_inputs(ds.x_train), to_inputs(ds.x_test)
    k = len(ds.classes)
    y_train = one_hot(encode_labels(ds.y_train, ds.classes), k)
    y_test = one_hot(encode_labels(ds.y_test, ds.classes), k)
    return Prepared(x_train[train_idx], y_train[train_idx], x_train[val_idx], y_train[val_idx],
                    x_test, y_test, tuple(ds.classes), train_idx, val_idx)


def split_indices(n: int, val_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): a seeded random `val_fraction` of n positions held out, both sorted."""
    if not 0.0 <= val_fraction < 1.0:
        raise UserError(f"validation fraction must be in [0, 1), got {val_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def to_inputs(x: np.ndarray) -> np.ndarray:
    """(N, 28, 39) uint8 or float images -> (N, 1092) float32 in [0, 1]."""
    flat = x.reshape(len(x), FLAT)
    return flat.astype(np.float32) / 255.0 if x.dtype == np.uint8 else flat.astype(np.float32)


def encode_labels(y: np.ndarray, classes) -> np.ndarray:
    """Labels -> class indices 0..K-1 (for the study's 1..50 this is label - 1)."""
    classes = np.asarray(classes)
    idx = np.searchsorted(classes, y)
    bad = (idx >= len(classes)) | (classes[np.minimum(idx, len(classes) - 1)] != y)
    if bad.any():
        raise UserError(f"labels {sorted(set(np.asarray(y)[bad].tolist()))[:10]} are not among the classes")
    return idx


def decode_labels(idx: np.ndarray, classes) -> np.ndarray:
    """The exact inverse of encode_labels: class indices (or one-hot/probability rows) -> labels."""
    idx = np.asarray(idx)
    if idx.ndim == 2:
        idx = idx.argmax(axis=1)
    return np.asarray(classes)[idx]


def one_hot(idx: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[idx]

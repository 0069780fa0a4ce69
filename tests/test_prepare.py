"""Network inputs as in the study: flat 1092 columns in [0, 1], a seeded 20% validation split, one-hot labels."""

from __future__ import annotations

from multimnist.data import Dataset, decode_labels, encode_labels, prepare
from multimnist.data.prepare import one_hot, to_inputs
from multimnist.errors import UserError

import numpy as np
import pytest


@pytest.fixture(scope="module")
def prepared(small_dataset):
    return prepare(small_dataset, val_fraction=0.2, seed=0)


def test_flat_scaled_inputs(prepared, small_dataset):
    p, ds = prepared, small_dataset
    assert p.x_train.shape == (800, 1092) and p.x_val.shape == (200, 1092) and p.x_test.shape == (200, 1092)
    assert p.x_train.dtype == np.float32 and p.x_train.min() >= 0.0 and p.x_train.max() == 1.0
    # (N, 28, 39) -> (N, 1092) row by row, each pixel / 255
    np.testing.assert_array_equal(p.x_train, ds.x_train[p.train_idx].reshape(-1, 1092) / np.float32(255))
    np.testing.assert_array_equal(p.x_val[:, 39:78], ds.x_train[p.val_idx, 1, :] / np.float32(255))


def test_validation_split_is_disjoint_and_covers_all(prepared, small_dataset):
    n = len(small_dataset.x_train)
    assert len(prepared.val_idx) == round(0.2 * n)
    assert not set(prepared.val_idx.tolist()) & set(prepared.train_idx.tolist())
    np.testing.assert_array_equal(np.sort(np.concatenate([prepared.train_idx, prepared.val_idx])), np.arange(n))


def test_validation_split_is_random_not_the_tail(prepared, small_dataset):
    """Not Keras' validation_split (the last 20%): drawn across the whole training set."""
    n = len(small_dataset.x_train)
    assert prepared.val_idx.min() < n // 10 and prepared.val_idx.max() >= n - n // 10
    assert len(set(prepared.val_idx.tolist()) & set(range(n - len(prepared.val_idx), n))) < len(prepared.val_idx)


def test_split_is_deterministic_by_seed(prepared, small_dataset):
    same = prepare(small_dataset, 0.2, seed=0)
    np.testing.assert_array_equal(same.val_idx, prepared.val_idx)
    np.testing.assert_array_equal(same.x_train, prepared.x_train)
    other = prepare(small_dataset, 0.2, seed=1)
    assert not np.array_equal(other.val_idx, prepared.val_idx)


def test_one_hot_with_label_minus_one_offset(prepared, small_dataset):
    p, ds = prepared, small_dataset
    assert p.y_train.shape == (800, 50) and p.y_train.dtype == np.float32
    assert (p.y_train.sum(axis=1) == 1).all() and set(np.unique(p.y_train).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(p.y_train.argmax(axis=1), ds.y_train[p.train_idx] - 1)
    np.testing.assert_array_equal(p.y_test.argmax(axis=1), ds.y_test - 1)
    assert p.classes == tuple(range(1, 51))


def test_decode_is_the_exact_inverse(prepared, small_dataset):
    p, ds = prepared, small_dataset
    np.testing.assert_array_equal(decode_labels(p.y_train, p.classes), ds.y_train[p.train_idx])
    np.testing.assert_array_equal(decode_labels(p.y_val, p.classes), ds.y_train[p.val_idx])
    labels = np.arange(1, 51)
    np.testing.assert_array_equal(encode_labels(labels, p.classes), labels - 1)
    np.testing.assert_array_equal(decode_labels(encode_labels(labels, p.classes), p.classes), labels)
    probabilities = np.full((1, 50), 0.01)
    probabilities[0, 42] = 0.5
    assert decode_labels(probabilities, p.classes).tolist() == [43]


@pytest.mark.parametrize("classes", [tuple(range(100)), (3, 7, 42, 99)])
def test_encode_other_class_sets(classes):
    labels = np.array(classes[::-1] + classes)
    idx = encode_labels(labels, classes)
    np.testing.assert_array_equal(np.asarray(classes)[idx], labels)
    np.testing.assert_array_equal(decode_labels(one_hot(idx, len(classes)), classes), labels)


def test_encode_unknown_label():
    with pytest.raises(UserError, match=r"labels \[4, 100\] are not among the classes"):
        encode_labels(np.array([3, 4, 100]), (3, 7, 42))


def test_float_images_are_not_rescaled():
    x = np.random.default_rng(0).random((10, 28, 39), dtype=np.float32)
    np.testing.assert_array_equal(to_inputs(x), x.reshape(10, 1092))
    ds = Dataset(x, np.arange(10) % 5 + 1, x[:4], np.arange(4) + 1, classes=(1, 2, 3, 4, 5))
    p = prepare(ds, val_fraction=0.0)
    assert len(p.x_val) == 0 and p.x_train.max() <= 1.0
    np.testing.assert_array_equal(p.x_train, x.reshape(10, 1092))


@pytest.mark.parametrize("fraction", [1.0, -0.1, 1.5])
def test_bad_validation_fraction(small_dataset, fraction):
    with pytest.raises(UserError, match="validation fraction"):
        prepare(small_dataset, val_fraction=fraction)

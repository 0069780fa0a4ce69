"""Algorithm 1 (class rebalancing by augmentation): counts per class, the transformations, and that only the
training part of the split is ever augmented."""

from __future__ import annotations

from multimnist.data import prepare
from multimnist.data.augment import AugmentConfig, augment_images, new_sample_counts, rebalance
from multimnist.errors import UserError
from multimnist.experiments.classifier import classifier_inputs, load_classifier_config

import numpy as np
import pytest


def test_counts_follow_algorithm_1():
    labels = np.repeat([0, 1, 2, 3], [100, 55, 91, 100])
    # m = 100: floor((100 - v) / 10)
    assert new_sample_counts(labels, p=10) == {0: 0, 1: 4, 2: 0, 3: 0}
    assert new_sample_counts(labels, p=1) == {0: 0, 1: 45, 2: 9, 3: 0}


@pytest.mark.parametrize("method", ["noise", "shift", "rotation"])
def test_rebalance_adds_the_counted_samples_of_each_class(method):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [60, 20, 5])
    x = rng.uniform(size=(len(labels), 1092)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[labels]
    x2, y2 = rebalance(x, y, AugmentConfig(methods=(method,), p=10), np.random.default_rng(1))
    expected = np.bincount(labels) + np.array([0, 4, 5])  # floor(40 / 10), floor(55 / 10)
    assert x2.shape == (len(labels) + 9, 1092) and x2.dtype == np.float32
    assert np.array_equal(np.bincount(y2.argmax(1)), expected)
    assert 0.0 <= x2.min() and x2.max() <= 1.0
    # every original sample is still there, unchanged
    kept = {r.tobytes() for r in x2}
    assert all(r.tobytes() in kept for r in x)


def test_no_methods_means_no_augmentation():
    x, y = np.zeros((4, 1092), np.float32), np.array([0, 0, 0, 1])
    x2, y2 = rebalance(x, y, AugmentConfig(), np.random.default_rng(0))
    assert x2 is x and y2 is y


def test_shift_moves_pixels_and_fills_with_zero():
    img = np.zeros((1, 28, 39), np.float32)
    img[0, 10:15, 10:15] = 1.0
    out = augment_images(img, AugmentConfig(methods=("shift",), max_shift=2), np.random.default_rng(3))
    assert out.sum() == img.sum()  # a whole-pixel shift of an interior blob keeps every pixel
    ys, xs = np.nonzero(out[0])
    assert 8 <= ys.min() <= 12 and 8 <= xs.min() <= 12


def test_rotation_fills_with_zero_and_never_reflects():
    img = np.ones((20, 28, 39), np.float32)
    out = augment_images(img, AugmentConfig(methods=("rotation",), max_angle=20), np.random.default_rng(0))
    corners = out[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners < 1.0).all()  # rotated-in corners are fill (0), not reflected ink
    assert np.all(out[:, 14, 19] > 0.99)  # the centre stays


def test_noise_is_gaussian_with_the_given_std_then_clipped():
    img = np.full((50, 28, 39), 0.5, np.float32)
    out = augment_images(img, AugmentConfig(methods=("noise",), noise_std=0.1), np.random.default_rng(0))
    assert abs(out.std() - 0.1) < 0.01 and 0.0 <= out.min() and out.max() <= 1.0


def test_bad_methods_are_user_errors():
    with pytest.raises(UserError, match="augmentation methods"):
        AugmentConfig(methods=("flip",))
    with pytest.raises(UserError, match="positive"):
        AugmentConfig(methods=("noise",), p=0)


def test_only_the_training_part_is_augmented(small_dataset):
    cfg = load_classifier_config("aug_rotation", seed=3)
    inputs = classifier_inputs(small_dataset, cfg)
    arrays = inputs.arrays
    plain = prepare(small_dataset, 0.2, seed=3)
    counts = new_sample_counts(plain.y_train.argmax(1), p=10)
    assert inputs.added == sum(counts.values()) > 0
    assert len(inputs.x_fit) == len(plain.x_train) + inputs.added == len(inputs.y_fit)
    # the split stays as it was: its training part still matches train_idx
    np.testing.assert_array_equal(arrays.x_train, plain.x_train)
    np.testing.assert_array_equal(arrays.train_idx, plain.train_idx)
    np.testing.assert_array_equal(arrays.x_val, plain.x_val)
    np.testing.assert_array_equal(arrays.y_val, plain.y_val)
    np.testing.assert_array_equal(arrays.x_test, plain.x_test)
    np.testing.assert_array_equal(arrays.y_test, plain.y_test)
    np.testing.assert_array_equal(arrays.val_idx, plain.val_idx)
    # deterministic in the seed
    again = classifier_inputs(small_dataset, cfg)
    np.testing.assert_array_equal(again.x_fit, inputs.x_fit)

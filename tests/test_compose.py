"""Two-digit composition: image shape, the 11-pixel shift and 17-column overlap, labels, blend rules."""

from __future__ import annotations

from multimnist.data.compose import compose, split_label

import numpy as np
import pytest

ONES = np.ones(1, np.float32)


def _flat(value: int, n: int = 1) -> np.ndarray:
    return np.full((n, 28, 28), value, np.uint8)


def test_shape_and_dtype(digits):
    out = compose(digits.x_train[:5], digits.x_train[5:10], np.full(5, 0.7), np.full(5, 0.9))
    assert out.shape == (5, 28, 39) and out.dtype == np.uint8


def test_right_digit_shifted_11_columns(digits):
    left, right = digits.x_train[:3], digits.x_train[3:6]
    zeros = np.zeros_like(left)
    only_right = compose(zeros, right, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(only_right[:, :, 11:], right)
    assert not only_right[:, :, :11].any()
    only_left = compose(left, zeros, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(only_left[:, :, :28], left)
    assert not only_left[:, :, 28:].any()


def test_17_columns_overlap():
    out = compose(_flat(100), _flat(100), ONES, ONES, blend="sum")[0]
    overlap = np.flatnonzero((out == 200).all(axis=0))
    assert overlap.tolist() == list(range(11, 28))  # 17 shared columns
    assert (out[:, :11] == 100).all() and (out[:, 28:] == 100).all()


def test_other_offset_changes_width():
    out = compose(_flat(50), _flat(50), ONES, ONES, blend="sum", offset=5)
    assert out.shape == (1, 28, 33)
    assert ((out[0] == 100).all(axis=0)).sum() == 23


@pytest.mark.parametrize(
    "blend, intensities, expected",
    [
        # left 200, right 100 at full intensity; alpha: R + L (1 - R/255) = 100 + 200 * 155/255 = 221.57
        ("max", (1.0, 1.0), 200),
        ("sum", (1.0, 1.0), 255),
        ("alpha", (1.0, 1.0), 222),
        # at half intensity: left 100, right 50; alpha: 50 + 100 * 205/255 = 130.39
        ("max", (0.5, 0.5), 100),
        ("sum", (0.5, 0.5), 150),
        ("alpha", (0.5, 0.5), 130),
        # a dim left digit under a bright right one: max keeps the right
        ("max", (0.25, 1.0), 100),
    ],
)
def test_blend_rules(blend, intensities, expected):
    lo, hi = intensities
    out = compose(_flat(200), _flat(100), np.array([lo]), np.array([hi]), blend=blend)[0]
    assert (out[:, 11:28] == expected).all()  # where both digits lie
    assert (out[:, :11] == round(200 * lo)).all()  # left digit alone
    assert (out[:, 28:] == round(100 * hi)).all()  # right digit alone


def test_alpha_brightens_overlaps_without_saturating():
    out = compose(_flat(250), _flat(250), ONES, ONES, blend="alpha")[0, :, 11:28]
    assert (out == 255).all()  # 250 + 250 * 5/255 = 254.9: brighter than max, never past 255
    dim = compose(_flat(100), _flat(100), ONES, ONES, blend="alpha")[0, :, 11:28]
    assert (dim == 161).all()  # 100 + 100 * 155/255 = 160.8, unlike sum's 200


def test_unknown_blend():
    with pytest.raises(ValueError, match="blend"):
        compose(_flat(1), _flat(1), ONES, ONES, blend="xor")


def test_split_label():
    labels = np.arange(100)
    tens, units = split_label(labels)
    np.testing.assert_array_equal(10 * tens + units, labels)
    assert tens.max() == 9 and units.max() == 9 and tens.min() == 0
    assert [int(v) for v in split_label(7)] == [0, 7]
    assert [int(v) for v in split_label(43)] == [4, 3]


def test_per_image_offsets_keep_the_width_and_place_each_right_digit(digits):
    left, right = np.zeros((3, 28, 28), np.uint8), digits.x_train[:3]
    out = compose(left, right, ONES.repeat(3), ONES.repeat(3), offset=np.array([0, 5, 11]), width=39)
    assert out.shape == (3, 28, 39)
    for i, off in enumerate((0, 5, 11)):
        np.testing.assert_array_equal(out[i, :, off:off + 28], right[i])
        assert not out[i, :, off + 28:].any() and not out[i, :, :off].any()
    with pytest.raises(ValueError, match="offsets"):
        compose(left, right, ONES.repeat(3), ONES.repeat(3), offset=np.array([0, 5, 12]), width=39)


def test_row_shift_moves_a_digit_and_fills_with_zeros():
    digit = np.zeros((1, 28, 28), np.uint8)
    digit[0, 10, 3] = 200
    zeros = np.zeros_like(digit)
    down = compose(digit, zeros, ONES, ONES, shift=np.array([[2, 0]]))
    up = compose(digit, zeros, ONES, ONES, shift=np.array([[-3, 0]]))
    assert down[0, 12, 3] == 200 and down.sum() == 200
    assert up[0, 7, 3] == 200 and up.sum() == 200

"""Two MNIST digits side by side, overlapping, each at its own intensity: one Multi-MNIST image."""

from __future__ import annotations

import numpy as np

BLENDS = ("max", "sum", "alpha")
DIGIT = 28


def compose(
    left: np.ndarray,
    right: np.ndarray,
    left_intensity: np.ndarray,
    right_intensity: np.ndarray,
    blend: str = "max",
    offset: int | np.ndarray = 11,
    width: int | None = None,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """Combine (N, 28, 28) uint8 left (tens) and right (units) digits into (N, 28, width) uint8 images.

    The right digit starts `offset` columns after the left one, so they share 28 - offset columns (17 for the
    default 11, giving the study's 28x39 images). `offset` may also be one column per image ((N,) integers,
    each in 0..width-28): the right digit then sits at its own column and the columns after it stay empty, so
    every image keeps the same width (default 28 + the largest offset). `shift` ((N, 2) integers, optional)
    moves the left and right digit down (positive) or up by that many rows, filling with zeros.

    Each digit is scaled by its intensity in [0, 1], then: `max` keeps the brighter pixel, `sum` adds and
    clips at 255, `alpha` composites the right digit over the left with each digit's ink as its own opacity
    (premultiplied "over": out = R + L * (1 - R/255)); for grey ink this is symmetric in the two digits (the
    "screen" blend): overlaps brighten without saturating.
    """
    if blend not in BLENDS:
        raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
    n = len(left)
    offsets = np.broadcast_to(np.asarray(offset, dtype=np.int64), (n,))
    width = DIGIT + int(offsets.max(initial=0)) if width is None else width
    if offsets.size and (offsets.min() < 0 or offsets.max() > width - DIGIT):
        raise ValueError(f"offsets must lie in 0..{width - DIGIT} for width {width}")
    left = left * np.asarray(left_intensity, np.float32)[:, None, None]  # (N, 28, 28) float32
    right = right * np.asarray(right_intensity, np.float32)[:, None, None]
    if shift is not None:
        left, right = _shift_rows(left, shift[:, 0]), _shift_rows(right, shift[:, 1])
    canvas_l = np.zeros((n, DIGIT, width), np.float32)
    canvas_r = np.zeros((n, DIGIT, width), np.float32)
    canvas_l[:, :, :DIGIT] = left
    for off in np.unique(offsets):  # at most width - 27 distinct columns: one slice assignment each
        rows = np.flatnonzero(offsets == off)
        canvas_r[rows, :, off:off + DIGIT] = right[rows]
    if blend == "max":
        out = np.maximum(canvas_l, canvas_r)
    elif blend == "sum":
        out = np.minimum(canvas_l + canvas_r, 255.0)
    else:
        out = canvas_r + canvas_l * (1.0 - canvas_r / 255.0)
    return np.rint(out).astype(np.uint8)


def _shift_rows(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Move each (28, 28) image down by dy[i] rows (up if negative), zero-filled: (N, 28, 28) -> same."""
    out = np.zeros_like(x)
    for d in np.unique(dy):
        rows = np.flatnonzero(dy == d)
        if d >= 0:
            out[rows, d:] = x[rows, :DIGIT - d]
        else:
            out[rows, :d] = x[rows, -d:]
    return out


def split_label(label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number -> (tens digit, units digit): 7 -> (0, 7), 43 -> (4, 3)."""
    label = np.asarray(label)
    return label // 10, label % 10

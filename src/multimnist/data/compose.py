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
    offset: int = 11,
) -> np.ndarray:
    """Combine (N, 28, 28) uint8 left (tens) and right (units) digits into (N, 28, 28 + offset) uint8 images.

    The right digit starts `offset` columns after the left one, so they share 28 - offset columns (17 for the
    default 11, giving the study's 28x39 images). Each digit is scaled by its intensity in [0, 1], then:
    `max` keeps the brighter pixel, `sum` adds and clips at 255, `alpha` composites the right digit over the
    left with each digit's ink as its own opacity (premultiplied "over": out = R + L * (1 - R/255)); for grey
    ink this is symmetric in the two digits (the "screen" blend): overlaps brighten without saturating.
    """
    if blend not in BLENDS:
        raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
    n = len(left)
    width = DIGIT + offset
    canvas_l = np.zeros((n, DIGIT, width), np.float32)
    canvas_r = np.zeros((n, DIGIT, width), np.float32)
    canvas_l[:, :, :DIGIT] = left * np.asarray(left_intensity, np.float32)[:, None, None]
    canvas_r[:, :, offset:] = right * np.asarray(right_intensity, np.float32)[:, None, None]
    if blend == "max":
        out = np.maximum(canvas_l, canvas_r)
    elif blend == "sum":
        out = np.minimum(canvas_l + canvas_r, 255.0)
    else:
        out = canvas_r + canvas_l * (1.0 - canvas_r / 255.0)
    return np.rint(out).astype(np.uint8)


def split_label(label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number -> (tens digit, units digit): 7 -> (0, 7), 43 -> (4, 3)."""
    label = np.asarray(label)
    return label // 10, label % 10

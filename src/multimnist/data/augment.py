"""Class rebalancing by augmentation, the study's Algorithm 1 (section 4.2.1).

For each class with v training samples, floor((m - v) / p) new samples are made (m: the largest class's
count), each from a random training sample of that class, by Gaussian noise, a random shift or a random
rotation (or several of these, applied in that order). Call it on the training part only, after the
validation split: validation and test images must stay untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from multimnist.data.config import HEIGHT, WIDTH
from multimnist.errors import UserError

import numpy as np
from scipy import ndimage

METHODS = ("noise", "shift", "rotation")


@dataclass
class AugmentConfig:
    """Which transformations make the new samples, and how many are made."""

    methods: tuple[str, ...] = ()  # any of noise, shift, rotation; empty: no augmentation
    p: int = 10  # each class closes 1/p of its gap to the largest class (the study's p = 10)
    noise_std: float = 0.5  # N(0, 0.5): 0.5 read as the standard deviation, as in Keras' GaussianNoise
    max_shift: int = 2  # pixels, each axis, either direction
    max_angle: float = 20.0  # degrees, either direction

    def __post_init__(self):
        if isinstance(self.methods, str):
            self.methods = (self.methods,)
        self.methods = tuple(self.methods or ())
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise UserError(f"augmentation methods must be among {', '.join(METHODS)}, got {', '.join(unknown)}")
        if self.p < 1:
            raise UserError(f"augmentation p must be a positive integer, got {self.p}")
        if self.noise_std < 0 or self.max_shift < 0 or self.max_angle < 0:
            raise UserError("noise_std, max_shift and max_angle must be >= 0")


def new_sample_counts(labels: np.ndarray, p: int = 10) -> dict[int, int]:
    """Algorithm 1's counts: {class index: floor((m - v) / p)} for every class present in `labels`."""
    classes, counts = np.unique(labels, return_counts=True)
    m = counts.max()
    return {int(k): int((m - v) // p) for k, v in zip(classes, counts, strict=True)}


def rebalance(x: np.ndarray, y: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator):
    """Algorithm 1: append the new samples to (x, y) and shuffle.

    x: (N, 1092) or (N, 28, 39) float images in [0, 1]; y: class indices (N,) or one-hot rows (N, K).
    Returns (x, y) in the same layouts, longer by sum(new_sample_counts(...).values()).
    """
    if not cfg.methods:
        return x, y
    new_x, new_y = new_samples(x, y, cfg, rng)
    order = rng.permutation(len(x) + len(new_x))
    return np.concatenate([x, new_x])[order], np.concatenate([y, new_y])[order]


def new_samples(x: np.ndarray, y: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator):
    """Algorithm 1's new samples alone: (new_x, new_y) in the layouts of x and y (empty without methods)."""
    if not cfg.methods:
        return x[:0], y[:0]
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    picks = [rng.choice(np.flatnonzero(labels == k), size=g) for k, g in new_sample_counts(labels, cfg.p).items()]
    src = np.concatenate(picks) if picks else np.empty(0, dtype=np.int64)
    images = x[src].reshape(len(src), HEIGHT, WIDTH)  # (n, 1092) -> (n, 28, 39)
    new = augment_images(images, cfg, rng).reshape((len(src), *x.shape[1:]))
    return new.astype(x.dtype), y[src]


def augment_images(images: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Transform each (28, 39) float image by the configured methods; values stay in [0, 1]."""
    out = np.array(images, dtype=np.float32, copy=True)
    for i in range(len(out)):
        if "rotation" in cfg.methods:  # fill with 0 (black), never reflect; bilinear, same size
            angle = rng.uniform(-cfg.max_angle, cfg.max_angle)
            out[i] = ndimage.rotate(out[i], angle, reshape=False, order=1, mode="constant", cval=0.0)
        if "shift" in cfg.methods:  # whole pixels, the vacated border is 0
            dy, dx = rng.integers(-cfg.max_shift, cfg.max_shift + 1, size=2)
            out[i] = ndimage.shift(out[i], (dy, dx), order=0, mode="constant", cval=0.0)
    if "noise" in cfg.methods:
        out += rng.normal(0.0, cfg.noise_std, size=out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0)

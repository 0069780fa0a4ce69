"""Drawing Multi-MNIST datasets from MNIST digits: `make_dataset` and the `Dataset` it returns.

A dataset is a pure function of (digit source, generator config, seed): the same three give the same
bytes. Train images use only MNIST train digits and test images only MNIST test digits, and every image
records the indices of its two source digits (`src`) and their intensities.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from multimnist._version import __version__
from multimnist.data.compose import compose, split_label
from multimnist.data.config import HEIGHT, LABELS, WIDTH, GeneratorConfig, matching_preset, preset_config
from multimnist.data.mnist import Digits
from multimnist.data.plans import load_plan, plan_stats, scale_plan
from multimnist.errors import whole_number
from multimnist.files import sha256_arrays

import numpy as np


@dataclass(repr=False)
class Dataset:
    """Images (N, 28, 39) as uint8 0..255 or float32 0..1, integer labels, and what made them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    src_train: np.ndarray | None = None  # (N, 2) indices of the tens and units digits in MNIST train
    src_test: np.ndarray | None = None  # (N, 2) indices in MNIST test
    intensity_train: np.ndarray | None = None  # (N, 2) brightness of each digit
    intensity_test: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    placement_train: np.ndarray | None = None  # (N, 3) right digit's column, row shifts; only if drawn per image
    placement_test: np.ndarray | None = None

    def __repr__(self) -> str:
        """A few lines of counts and settings instead of the arrays (a printed dataset fits on a screen)."""
        shape = "x".join(str(d) for d in self.x_train.shape[1:])
        lines = [f"Dataset: {len(self.x_train):,} train and {len(self.x_test):,} test images, "
                 f"{shape} {self.x_train.dtype}",
                 f"    classes: {len(self.classes)} ({_span(self.classes)})"]
        generator = self.meta.get("generator")
        if generator is not None:
            settings = ", ".join(f"{k}={v}" for k, v in generator.items() if v is not None)
            lines.append(f"    made with seed {self.meta.get('seed')}: {settings}")
        if "mnist" in self.meta:
            lines.append(f"    MNIST: {self.meta['mnist'].get('source')}")
        return "\n".join(lines)


def _span(classes) -> str:
    """(1, 2, ..., 50) -> '1..50'; a set with holes is listed, shortened when long."""
    classes = list(classes)
    if not classes:
        return "none"
    if classes == list(range(classes[0], classes[-1] + 1)):
        return f"{classes[0]}..{classes[-1]}"
    return ", ".join(str(c) for c in classes[:8]) + (", ..." if len(classes) > 8 else "")


def make_dataset(digits: Digits, config: GeneratorConfig | None = None, seed: int = 0) -> Dataset:
    """Draw train and test sets from `digits` following `config` (None: the default preset); deterministic in
    `seed`. meta records the settings, the seed, the MNIST digits and a hash of the arrays (`sha256`, what the
    dataset store checks files against)."""
    config = config or preset_config()
    seed = whole_number(seed, "seed")
    plan = load_plan(config.plan, config.classes)
    if config.train_size is not None:
        plan = scale_plan(plan, config.train_size)
    test_plan = scale_plan(plan, max(len(plan), round(sum(plan.values()) * config.test_fraction)))
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    pool = len(digits.x_train) if config.train_pool is None else min(config.train_pool, len(digits.x_train))
    x_tr, y_tr, src_tr, int_tr, place_tr = _draw(digits.x_train[:pool], digits.y_train[:pool], plan, config,
                                                 train_rng, distinct=config.train_distinct)
    x_te, y_te, src_te, int_te, place_te = _draw(digits.x_test, digits.y_test, test_plan, config, test_rng)
    meta = {
        "generator": asdict(config),
        "preset": matching_preset(config),
        "seed": seed,
        "labels": LABELS,
        "classes": list(plan),
        "train": plan_stats(plan),
        "test": plan_stats(test_plan),
        "mnist": {"source": digits.source, "sha256": digits.sha256},
        "multimnist_version": __version__,
        "sha256": sha256_arrays(x_tr, y_tr, x_te, y_te),
    }
    return Dataset(x_tr, y_tr, x_te, y_te, tuple(plan), src_tr, src_te, int_tr, int_te, meta,
                   place_tr, place_te)


def _draw(x_digits, y_digits, plan, config, rng, distinct=None, chunk=8192):
    """Labels, source digits, intensities and (when a placement knob is on) placements, then the images.

    Draws happen in a fixed order and a knob left at its default draws nothing, so the default settings give
    the same bytes as before the knobs existed.
    """
    labels = np.repeat(np.array(list(plan), dtype=np.int64), list(plan.values()))
    labels = labels[rng.permutation(len(labels))]
    n = len(labels)
    src = np.empty((n, 2), dtype=np.int64)
    pools = [np.flatnonzero(y_digits == d) for d in range(10)]
    for col, digit_of in enumerate(split_label(labels)):
        for d in range(10):
            where = np.flatnonzero(digit_of == d)
            src[where, col] = pools[d][rng.integers(len(pools[d]), size=len(where))]
    if config.intensity_mode == "shared":
        intensity = np.repeat(rng.uniform(*config.intensity, size=(n, 1)), 2, axis=1).astype(np.float32)
    else:
        intensity = rng.uniform(*config.intensity, size=(n, 2)).astype(np.float32)
    placement = None  # (N, 3): the right digit's column, the left and right digits' row shifts
    if config.offset_min is not None or config.jitter:
        placement = np.empty((n, 3), dtype=np.int64)
        low = config.offset if config.offset_min is None else config.offset_min
        placement[:, 0] = rng.integers(low, config.offset + 1, size=n)
        placement[:, 1:] = rng.integers(-config.jitter, config.jitter + 1, size=(n, 2))
    if distinct is not None and distinct < n:
        _repeat_within_classes(labels, distinct, rng, src, intensity, placement)
    x = np.empty((n, HEIGHT, WIDTH), dtype=np.uint8)
    for s in range(0, n, chunk):
        sl = slice(s, s + chunk)
        offset = config.offset if placement is None else placement[sl, 0]
        shift = None if placement is None else placement[sl, 1:]
        x[sl] = compose(
            x_digits[src[sl, 0]], x_digits[src[sl, 1]], intensity[sl, 0], intensity[sl, 1],
            blend=config.blend, offset=offset, width=WIDTH, shift=shift,
        )
    return x, labels, src, intensity, placement


def _repeat_within_classes(labels, distinct, rng, *draws) -> None:
    """Keep ~`distinct` distinct compositions, each class its share (at least one): every other image of a
    class becomes an exact copy (same sources, intensities, placement) of one of its class's kept ones."""
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        keep = max(1, round(len(where) * distinct / len(labels)))
        copies, originals = where[keep:], where[rng.integers(keep, size=len(where) - keep)]
        for arr in draws:
            if arr is not None:
                arr[copies] = arr[originals]

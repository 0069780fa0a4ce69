"""Looking at a dataset before training on it (study section 1): which samples to show, class statistics,
and which images are hard to read.

Hardness is measured as *ink overlap*: the share of the fainter digit's ink that lies under the other
digit's ink, sum(min(L, R)) / min(sum(L), sum(R)), with L and R the two digits as drawn (scaled by their
intensities) on the 28x39 canvas. 0 means the digits do not touch; near 1 the fainter digit is buried in the
other and, with the default `max` blend, invisible where they cross. It needs the source digits, so it uses
the dataset's `src` and `intensity` arrays with the MNIST digits whose hash the dataset's meta records.
Without them (a user's own dataset) the fallback is the share of all ink inside the 17 shared columns.
"""

from __future__ import annotations

from multimnist.data.compose import DIGIT
from multimnist.data.generate import Dataset
from multimnist.data.mnist import Digits
from multimnist.data.plans import plan_stats

import numpy as np


def class_stats(y: np.ndarray, classes) -> dict:
    counts = {int(c): int((y == c).sum()) for c in classes}
    return plan_stats(counts)


def first_unique(y: np.ndarray, k: int = 16) -> np.ndarray:
    """Positions of the first `k` samples with distinct labels, in dataset order (study figure 1)."""
    _, first = np.unique(y, return_index=True)
    return np.sort(first)[:k]


def ink_overlap(ds: Dataset, digits: Digits, offset: int = 11, chunk: int = 8192) -> np.ndarray:
    """Ink overlap of every test image (see the module docstring), in [0, 1]."""
    src, intensity = ds.src_test, ds.intensity_test
    out = np.empty(len(src), dtype=np.float32)
    shared = DIGIT - offset
    for s in range(0, len(src), chunk):
        sl = slice(s, s + chunk)
        left = digits.x_test[src[sl, 0]].astype(np.float32) * intensity[sl, 0, None, None]
        right = digits.x_test[src[sl, 1]].astype(np.float32) * intensity[sl, 1, None, None]
        # Only the shared columns can overlap: the left digit's last 17, the right digit's first 17.
        both = np.minimum(left[:, :, offset:], right[:, :, :shared]).sum(axis=(1, 2))
        fainter = np.minimum(left.sum(axis=(1, 2)), right.sum(axis=(1, 2)))
        out[sl] = both / np.maximum(fainter, 1.0)
    return out


def band_ink_share(x: np.ndarray, offset: int = 11) -> np.ndarray:
    """Share of each image's ink inside the shared columns: the fallback hardness without source digits."""
    x = x.astype(np.float32)
    band = x[:, :, offset:DIGIT].sum(axis=(1, 2))
    return band / np.maximum(x.sum(axis=(1, 2)), 1.0)


def hardness(ds: Dataset, digits: Digits | None) -> tuple[np.ndarray, str]:
    """(score per test image, name of the measure): ink overlap when the sources are known, else band share."""
    recorded = ds.meta.get("mnist", {}).get("sha256")
    if ds.src_test is not None and ds.intensity_test is not None and digits is not None \
            and recorded == digits.sha256:
        return ink_overlap(ds, digits), "ink overlap (share of the fainter digit's ink under the other digit)"
    return band_ink_share(ds.x_test), "share of ink in the 17 shared columns (source digits unknown)"

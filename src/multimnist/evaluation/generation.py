"""Scores for generated two-digit images, read by the digit-pair reader.

Given the reader's probabilities and features for a set of images: how many it reads with confidence, which
numbers, how varied they are, how far their feature distribution lies from real test images (Frechet
distance), and how close each image is to its nearest training image (a copy would be at ~0).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from sklearn.metrics import pairwise_distances_argmin_min

CONFIDENT = 0.9  # both heads at least this sure: the image is "readable"
STUDY_RANGE = (1, 50)  # the numbers the study's data holds


def read_numbers(tens: np.ndarray, units: np.ndarray, threshold: float = CONFIDENT):
    """Reader probabilities (N, 10) x 2 -> (numbers (N,), readable (N,) bool): readable when both heads >= threshold."""
    numbers = 10 * tens.argmax(axis=1) + units.argmax(axis=1)
    readable = (tens.max(axis=1) >= threshold) & (units.max(axis=1) >= threshold)
    return numbers, readable


def number_histogram(numbers: np.ndarray) -> np.ndarray:
    """Counts of each number 0..99."""
    return np.bincount(np.asarray(numbers, dtype=np.int64), minlength=100)[:100]


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a count vector; log2(100) ~ 6.64 for all numbers equally often."""
    p = np.asarray(counts, dtype=float)
    p = p[p > 0] / p.sum() if p.sum() else p[:0]
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: no -0.0 for an empty distribution


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between Gaussians fitted on two feature sets."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((S_a S_b)^1/2) from the eigenvalues of the symmetric S_a^1/2 S_b S_a^1/2: stable when the covariances
    # are singular, as they are for ReLU features with units that never fire.
    w, v = linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(linalg.eigvalsh(root_a @ s_b @ root_a), 0.0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_covmean)


def nearest_distances(images: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each flat image (N, 1092) in [0, 1]: (index of its nearest reference image, RMS pixel distance to it)."""
    idx, dist = pairwise_distances_argmin_min(images, reference, metric="euclidean")
    return idx, dist / np.sqrt(images.shape[1])


def generation_scores(tens, units, features, real_features, nn_dist, copy_below: float | None = None) -> dict:
    """One row of the sampler table from the reader's outputs on N images.

    `real_features` are the reader features of real test images; `nn_dist` the RMS distance of each image to
    its nearest training image; `copy_below` a distance under which an image counts as a near-copy.
    """
    numbers, readable = read_numbers(tens, units)
    read = numbers[readable]
    counts = number_histogram(read)
    lo, hi = STUDY_RANGE
    outside = (read < lo) | (read > hi)
    top = np.argsort(-counts, kind="stable")[:3]
    return {
        "n": int(len(numbers)),
        "readable_share": float(readable.mean()),
        "outside_1_50_share": float(outside.mean()) if len(read) else float("nan"),  # of the readable ones
        "distinct_numbers": int((counts > 0).sum()),
        "entropy_bits": entropy_bits(counts),
        "frechet_distance": frechet_distance(features, real_features),
        "nn_distance_mean": float(np.mean(nn_dist)),
        "near_copy_share": float(np.mean(nn_dist < copy_below)) if copy_below is not None else float("nan"),
        "top_numbers": " ".join(f"{n:02d}:{counts[n]}" for n in top if counts[n] > 0),
        "histogram": counts.tolist(),
    }

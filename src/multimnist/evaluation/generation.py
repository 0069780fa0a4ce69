"""Scores for generated two-digit images, read by the digit-pair reader, and how to compare them beyond noise.

Given the reader's probabilities and features for a set of images: how many it reads with confidence, which
numbers, how varied they are, how far their feature distribution lies from real test images (Frechet
distance), and how close each image is to its nearest training image (a copy would be at ~0).

Image sets are compared on equal footing. A share (readable, read outside 1..50) gets a Wilson interval and two
shares a Fisher exact test. Diversity (distinct numbers, entropy) grows with the number of images read, so it is
measured on the same number of readable images for every set and every run (DIVERSITY_N, fixed: a figure that
the seeds of a run can be compared on): the mean over random subsets of that size, with the 2.5-97.5
percentiles of the subsets as its interval, and two sets are compared with a permutation test.

Images drawn of a requested number (a conditional sampler), and the reconstructions and real images with their
own numbers, get the share read as that number (`as_requested`): readable and read as the number asked, averaged
over the numbers asked. Memorization: each image's distance to its nearest training image, and its code's to
the nearest training code, against the same distances of held-out real images (`memorization`): a sampler that
draws training codes sits closer than held-out images do, beyond noise. Decoded images are blurred, which alone
brings them nearer the training images than sharp held-out images come, so the images are also compared with
the reconstructions of unseen test images (`nn_vs_reconstruction`).
"""

from __future__ import annotations

import zlib

from multimnist.evaluation.noise import ALPHA, LEVEL, proportion_test, wilson_interval

import numpy as np
from scipy import linalg, stats
from sklearn.metrics import pairwise_distances_argmin_min

CONFIDENT = 0.9  # both heads at least this sure: the image is "readable"
STUDY_RANGE = (1, 50)  # the numbers the study's data holds
DRAWS = 200  # random subsets per diversity figure, and permutations per diversity test
DIVERSITY_N = 20  # readable images per diversity figure, for every set and run (uniform reads 31-52 of 1,000 on
# the study preset); a set with fewer readable images has no diversity figure
INTERVAL = "95%: Wilson for shares, 2.5-97.5 percentiles of the subsample draws for diversity and entropy"
BASELINE = "gaussian"  # the study's Algorithm 2, which the better samplers must beat
REAL = "real"  # the row of real held-out images: what the reader makes of images the decoder did not draw
RECONSTRUCTION = "reconstruction"  # test images through the autoencoder: the ceiling of any sampler on it
ROW_KEYS = ("sampler", "kind", "fitted", "n", "readable", "readable_share", "readable_share_ci", "distinct_numbers",
            "distinct_numbers_ci", "entropy_bits", "entropy_bits_ci", "diversity_note", "outside_1_50",
            "outside_1_50_share", "outside_1_50_ci", "frechet_distance", "nn_distance_mean", "near_copy_share",
            "nn_ratio", "nn_closer_p", "nn_vs_reconstruction", "nn_vs_reconstruction_p", "code_nn_ratio",
            "code_closer_p", "as_requested_share",
            "as_requested_numbers", "numbers_below_half", "top_numbers")  # a table row, in column order; each
# *_ci is [lo, hi] or None


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


def outside_study_range(read: np.ndarray) -> np.ndarray:
    """Which read numbers lie outside 1..50, the numbers the study's images hold."""
    lo, hi = STUDY_RANGE
    return (read < lo) | (read > hi)


def memorization(nn: np.ndarray, held_out: np.ndarray) -> dict:
    """How close a set's images (or codes) sit to their nearest training neighbour, against held-out real ones:
    the ratio of the median distances (below 1: closer than unseen real images are) and the one-sided
    Mann-Whitney p-value of "no closer than held-out" (small: closer, as copies of training data are)."""
    nn, held_out = np.asarray(nn, dtype=float), np.asarray(held_out, dtype=float)
    ref = float(np.median(held_out))
    ratio = float(np.median(nn) / ref) if ref > 0 else (1.0 if not np.median(nn) else float("inf"))
    p = float(stats.mannwhitneyu(nn, held_out, alternative="less").pvalue)
    return {"ratio": ratio, "p_closer": p}


def as_requested(numbers: np.ndarray, readable: np.ndarray, asked: np.ndarray) -> dict[int, list[int]]:
    """{number asked: [images read as it (readable, that number), images asked]} per number asked."""
    hit = readable & (numbers == asked)
    return {int(k): [int(hit[asked == k].sum()), int((asked == k).sum())] for k in np.unique(asked)}


def requested_share(by_number: dict) -> float | None:
    """The share read as the number asked, averaged over the numbers asked (each number weighs the same)."""
    shares = [h / n for h, n in by_number.values() if n]
    return float(np.mean(shares)) if shares else None


def below_half(by_number: dict, reference: dict, min_images: int = 5) -> int | None:
    """How many numbers read as asked less than half as often as in `reference` (the reconstructions read as
    their own number), among the numbers with at least `min_images` images in both."""
    common = [k for k in by_number if k in reference and by_number[k][1] >= min_images
              and reference[k][1] >= min_images]
    if not common:
        return None
    return sum(by_number[k][0] / by_number[k][1] < 0.5 * reference[k][0] / reference[k][1] for k in common)


def generation_scores(tens, units, features, real_features, nn_dist, copy_below: float | None = None,
                      real_nn=None, code_nn=None, real_code_nn=None, asked=None) -> dict:
    """One row of the sampler table from the reader's outputs on N images, less its diversity (see `equal_footing`).

    `real_features` are the reader features of real test images; `nn_dist` the RMS distance of each image to
    its nearest training image; `copy_below` a distance under which an image counts as a near-copy; `real_nn`,
    `code_nn` and `real_code_nn` the held-out images' distances and the codes' (see `memorization`); `asked`
    the number asked of each image (None: no number asked). The out-of-range share is of the readable images,
    and None when none is readable.
    """
    numbers, readable = read_numbers(tens, units)
    read = numbers[readable]
    counts = number_histogram(read)
    by_number = as_requested(numbers, readable, np.asarray(asked)) if asked is not None else {}
    outside = int(outside_study_range(read).sum())
    top = np.argsort(-counts, kind="stable")[:3]
    return {
        "n": int(len(numbers)),
        "readable": int(readable.sum()),
        "readable_share": float(readable.mean()),
        "readable_share_ci": wilson_interval(int(readable.sum()), len(numbers)),
        "outside_1_50": outside,
        "outside_1_50_share": outside / len(read) if len(read) else None,
        "outside_1_50_ci": wilson_interval(outside, len(read)),
        "frechet_distance": frechet_distance(features, real_features),
        "nn_distance_mean": float(np.mean(nn_dist)),
        "near_copy_share": float(np.mean(nn_dist < copy_below)) if copy_below is not None else float("nan"),
        **_memorization_row("nn", nn_dist, real_nn), **_memorization_row("code", code_nn, real_code_nn),
        "as_requested_share": requested_share(by_number) if asked is not None else None,
        "as_requested_numbers": len(by_number) if asked is not None else None,
        "numbers_below_half": None,  # set by `score_table` against the reconstructions
        "as_requested": by_number,
        "top_numbers": " ".join(f"{n:02d}:{counts[n]}" for n in top if counts[n] > 0),
        "histogram": counts.tolist(),
    }


def _memorization_row(prefix: str, nn, held_out) -> dict:
    names = ("nn_ratio", "nn_closer_p") if prefix == "nn" else ("code_nn_ratio", "code_closer_p")
    if nn is None or held_out is None:
        return dict.fromkeys(names)
    m = memorization(nn, held_out)
    return dict(zip(names, (m["ratio"], m["p_closer"]), strict=True))


# --- comparing image sets beyond noise ---

def intervals_overlap(a: list[float] | None, b: list[float] | None) -> bool | None:
    """Whether two [lo, hi] intervals share a point; None when either is missing. Overlap is a coarse check:
    use the tests above to decide whether two sets differ."""
    if a is None or b is None:
        return None
    return a[0] <= b[1] and b[0] <= a[1]


def row_seed(seed: int, name: str) -> np.random.SeedSequence:
    """A seed for one image set's draws: the same set gets the same draws whatever other sets are scored."""
    return np.random.SeedSequence([seed, zlib.crc32(name.encode())])


def diversity(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read numbers (D, m), one subset per row -> (distinct numbers (D,), entropy in bits (D,)) of each subset."""
    samples = np.asarray(samples, dtype=np.int64)
    d = len(samples)
    # (D, m) -> (D, 100) counts: number k of subset i lands in bin 100 i + k
    counts = np.bincount((samples + 100 * np.arange(d)[:, None]).ravel(), minlength=100 * d).reshape(d, 100)
    p = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    plogp = np.zeros_like(p)
    np.log2(p, out=plogp, where=p > 0)
    return (counts > 0).sum(axis=1), -(p * plogp).sum(axis=1) + 0.0  # + 0.0: no -0.0


def subsets(read: np.ndarray, m: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """`draws` random subsets of m of the read numbers, each without replacement: (draws, m)."""
    read = np.asarray(read)
    return np.stack([read[rng.choice(len(read), m, replace=False)] for _ in range(draws)])


def subsample_diversity(read: np.ndarray, m: int, draws: int = DRAWS, seed=0) -> dict:
    """Distinct numbers and entropy (bits) of m of the read numbers: mean and 2.5-97.5 percentiles over `draws`
    random subsets of m. The interval is how much the figure depends on which m images are kept; it is [x, x]
    when m is all of them, so compare two sets with `diversity_test`, not with these intervals."""
    distinct, entropy = diversity(subsets(read, m, draws, np.random.default_rng(seed)))
    tail = 100 * (1 - LEVEL) / 2
    return {"distinct_numbers": float(distinct.mean()),
            "distinct_numbers_ci": np.percentile(distinct, [tail, 100 - tail]).tolist(),
            "entropy_bits": float(entropy.mean()),
            "entropy_bits_ci": np.percentile(entropy, [tail, 100 - tail]).tolist()}


def equal_footing(reads: dict[str, np.ndarray], draws: int = DRAWS, seed: int = 0,
                  min_readable: int = DIVERSITY_N) -> tuple[int | None, dict[str, dict]]:
    """Diversity of every image set on the same number of readable images: (equal_n, {name: figures}).

    `reads` holds each set's read numbers (of its readable images only). equal_n is `min_readable` (fixed, so
    that every run and seed measures diversity on the same number of images); a set with fewer readable
    images gets None figures and a `diversity_note` saying why, rather than a number from fewer images.
    equal_n is None when no set has enough.
    """
    m = min_readable if any(len(r) >= min_readable for r in reads.values()) else None
    figures = {}
    for name, read in reads.items():
        if m is None or len(read) < min_readable:
            figures[name] = {"distinct_numbers": None, "distinct_numbers_ci": None, "entropy_bits": None,
                             "entropy_bits_ci": None, "diversity_note": f"only {len(read)} readable images, "
                                                                         f"fewer than the {min_readable} needed"}
        else:
            figures[name] = {**subsample_diversity(read, m, draws, row_seed(seed, name)), "diversity_note": None}
    return m, figures


def diversity_test(read_a: np.ndarray, read_b: np.ndarray, m: int, draws: int = DRAWS, seed=0) -> dict:
    """Do two sets of read numbers differ in diversity beyond noise, on m readable images each?

    For each of `draws` rounds: a random subset of m from each set (without replacement) gives one difference
    a - b; the pooled 2m numbers, shuffled and split in two halves of m, give one difference under the null
    hypothesis that both sets read numbers from the same distribution. The observed difference is the mean of
    the rounds' differences, and its two-sided p-value the share of null differences at least as large in size
    ((1 + count) / (1 + draws)). Averaging the observed rounds only narrows them, so the test errs on the side of
    "within noise". Returns {"distinct_numbers": {"difference", "p_value"}, "entropy_bits": {...}}.
    """
    rng = np.random.default_rng(seed)
    a, b = subsets(read_a, m, draws, rng), subsets(read_b, m, draws, rng)  # (draws, m) each
    shuffled = rng.permuted(np.concatenate([a, b], axis=1), axis=1)  # (draws, 2m), each row shuffled
    observed = np.subtract(diversity(a), diversity(b))  # (2, draws): distinct numbers, entropy
    null = np.subtract(diversity(shuffled[:, :m]), diversity(shuffled[:, m:]))
    out = {}
    for name, obs, nul in zip(("distinct_numbers", "entropy_bits"), observed, null, strict=True):
        d = float(obs.mean())
        extreme = int((np.abs(nul) >= abs(d) - 1e-9).sum())  # 1e-9: equal entropies computed in another order
        out[name] = {"difference": d, "p_value": (1 + extreme) / (1 + draws)}
    return out


# --- the scores table ---

def score_table(scored: dict, n: int, seed: int = 0, draws: int = DRAWS) -> dict:
    """The scores.json table (less histograms and provenance) from the scored image sets (each with .row,
    .numbers, .readable: experiments/generation.py's Scored); no I/O.

    Adds each row's diversity on equal footing (`equal_footing`: the same number of readable images for every
    row, `draws` random subsets seeded by `seed` and the row's name) and the comparisons `compare_rows` makes.
    Same inputs and seed, same table.
    """
    reads = {k: s.numbers[s.readable] for k, s in scored.items()}
    equal_n, figures = equal_footing(reads, draws, seed)
    reference = scored[RECONSTRUCTION].row.get("as_requested") if RECONSTRUCTION in scored else None
    for s in scored.values():
        if reference and s.row.get("as_requested") and s.row["kind"] == "sampler":
            s.row["numbers_below_half"] = below_half(s.row["as_requested"], reference)
        # decoder outputs against decoder outputs: blur brings every decoded image nearer some training image
        # than sharp held-out images come, so the reconstructions of unseen test images are the fair reference
        m = memorization(s.nn_distance, scored[RECONSTRUCTION].nn_distance) if RECONSTRUCTION in scored else None
        s.row["nn_vs_reconstruction"], s.row["nn_vs_reconstruction_p"] = (m["ratio"], m["p_closer"]) if m \
            else (None, None)
    merged = [{**s.row, **figures[name]} for name, s in scored.items()]
    rows = [{k: r[k] for k in ROW_KEYS} for r in merged]
    return {"readable_threshold": CONFIDENT, "n": n, "equal_n": equal_n, "min_readable": DIVERSITY_N,
            "draws": draws, "interval": INTERVAL, "alpha": ALPHA, "rows": rows,
            "as_requested": {k: {str(n): v for n, v in s.row["as_requested"].items()} for k, s in scored.items()
                             if s.row.get("as_requested")},
            "comparisons": compare_rows(rows, reads, equal_n, draws, seed)}


def compare_rows(rows: list[dict], reads: dict[str, np.ndarray] | None = None, equal_n: int | None = None,
                 draws: int = DRAWS, seed: int = 0, against=(BASELINE, REAL, RECONSTRUCTION)) -> list[dict]:
    """Every sampler row against each row named in `against` (Algorithm 2, the real images), measure by measure.

    Shares (readable of all images, outside 1..50 of the readable ones) by Fisher's exact test; distinct
    numbers and entropy by `diversity_test` on equal_n readable images each, when `reads` (each row's read
    numbers) are given and both rows have a diversity figure. Each record: sampler, against, measure,
    difference (sampler minus against), p_value, test, beyond_noise (p < ALPHA).
    """
    by = {r["sampler"]: r for r in rows}
    out = []

    def record(r, ref, measure, difference, p, test):
        out.append({"sampler": r["sampler"], "against": ref, "measure": measure, "difference": difference,
                    "p_value": p, "test": test, "beyond_noise": bool(p < ALPHA)})

    for ref in (a for a in against if a in by):
        b = by[ref]
        for r in (r for r in rows if r["kind"] == "sampler" and r["sampler"] != ref):
            record(r, ref, "readable_share", r["readable_share"] - b["readable_share"],
                   proportion_test(r["readable"], r["n"], b["readable"], b["n"]), "Fisher exact")
            if r["readable"] and b["readable"]:
                record(r, ref, "outside_1_50_share", r["outside_1_50_share"] - b["outside_1_50_share"],
                       proportion_test(r["outside_1_50"], r["readable"], b["outside_1_50"], b["readable"]),
                       "Fisher exact")
            if reads is not None and equal_n and r["distinct_numbers"] is not None \
                    and b["distinct_numbers"] is not None:
                tests = diversity_test(reads[r["sampler"]], reads[ref], equal_n, draws,
                                       row_seed(seed, f"{r['sampler']} vs {ref}"))
                for measure, t in tests.items():
                    record(r, ref, measure, t["difference"], t["p_value"], f"permutation on {equal_n} readable "
                                                                            "images each")
    return out


def csv_row(row: dict) -> dict:
    """A table row for scores.csv: each [lo, hi] interval as two columns, NAME_lo and NAME_hi."""
    flat = {}
    for k, v in row.items():
        if k.endswith("_ci"):
            flat[f"{k}_lo"], flat[f"{k}_hi"] = v if v is not None else (None, None)
        else:
            flat[k] = v
    return flat

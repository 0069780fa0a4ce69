"""Is a difference beyond seed noise? The tests every comparison of the study's numbers goes through.

A difference between two configurations counts only with at least MIN_SEEDS seeds on each side and Welch's
t-test rejecting equal means at 1 - ALPHA (two-sided): one or two seeds make no noise estimate, and seed
spread (0.2-0.5 accuracy points here) is as large as many of the differences the study reads. Shares (of
generated images a reader can read, say) get a Wilson interval and are compared with Fisher's exact test.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05  # two-sided tests at 95%
MIN_SEEDS = 3  # fewer seeds on a side: no noise estimate, so no difference counts
LEVEL = 1 - ALPHA  # every interval


@dataclass(frozen=True)
class Welch:
    """Welch's t-test of mean(a) - mean(b). `diff` is None when a side is empty; `p` None with < MIN_SEEDS."""

    diff: float | None
    se: float | None
    p: float | None
    n: tuple[int, int]

    @property
    def enough(self) -> bool:
        return min(self.n) >= MIN_SEEDS

    def sign(self, alpha: float = ALPHA) -> int:
        """+1: a is higher beyond noise, -1: lower beyond noise, 0: within noise (or too few seeds)."""
        if self.p is None or self.p >= alpha or not self.diff:
            return 0
        return 1 if self.diff > 0 else -1

    def why(self, alpha: float = ALPHA) -> str:
        """Why the difference does or does not count, in words: the seeds, or the p-value against alpha."""
        if not self.enough:
            return f"fewer than {MIN_SEEDS} seeds a side ({self.n[0]} v {self.n[1]})"
        return f"{p_text(self.p)} {'<' if self.p < alpha else '>='} {alpha:g}"


def p_text(p: float) -> str:
    """'p = 0.042', 'p = 2e-05' below 0.001, 'p = 0' for identical seeds apart."""
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.0e}" if p > 0 else "p = 0"


def welch(a, b) -> Welch:
    a, b = _finite(a), _finite(b)
    n = (len(a), len(b))
    if not len(a) or not len(b):
        return Welch(None, None, None, n)
    diff = float(a.mean() - b.mean())
    if min(n) < MIN_SEEDS:
        return Welch(diff, None, None, n)
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    with warnings.catch_warnings():  # identical seeds on one side: scipy warns, the test stands
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_ind(a, b, equal_var=False).pvalue) if se > 0 else (0.0 if diff else 1.0)
    return Welch(diff, se, p, n)


def gain_test(after, before, alpha: float = ALPHA) -> dict:
    """Mean gain after - before, its standard error, Welch's p-value and the verdict: helps, hurts or within
    noise (and n/a with fewer than MIN_SEEDS seeds on either side: one or two seeds make no noise estimate)."""
    t = welch(after, before)
    if t.p is None:
        return {"gain_mean": t.diff, "gain_se": None, "p_value": None, "verdict": "n/a"}
    verdict = {1: "helps", -1: "hurts", 0: "within noise"}[t.sign(alpha)]
    return {"gain_mean": t.diff, "gain_se": t.se, "p_value": t.p, "verdict": verdict}


def mean_interval(values, level: float = 1 - ALPHA) -> tuple[float, float] | None:
    """Student's t interval of the mean of `values`; None with fewer than MIN_SEEDS values."""
    v = _finite(values)
    if len(v) < MIN_SEEDS:
        return None
    half = float(stats.t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()) - half, float(v.mean()) + half


def summarize(values) -> dict:
    """{"mean", "std", "n"} of the finite values: std (ddof 1) None for fewer than 2, mean None for none."""
    v = _finite(values)
    return {"mean": float(v.mean()) if len(v) else None, "std": float(v.std(ddof=1)) if len(v) > 1 else None,
            "n": int(len(v))}


def _finite(values) -> np.ndarray:
    """The finite numbers among `values` (None, NaN and anything not a number are left out)."""
    v = np.asarray([x for x in values if isinstance(x, (int, float, np.number)) and not isinstance(x, bool)],
                   dtype=float)
    return v[np.isfinite(v)]


# --- shares: k of n ---

def wilson_interval(k: int, n: int, level: float = LEVEL) -> list[float] | None:
    """Wilson score interval [lo, hi] of a share of k in n; None when n is 0 (there is no share).

    Wilson rather than share +- 2 standard errors: it stays inside [0, 1] and keeps its coverage for the few
    out-of-range reads among hundreds compared here, where the normal interval of 0 of n is [0, 0].
    """
    if n == 0:
        return None
    ci = stats.binomtest(int(k), int(n)).proportion_ci(level, method="wilson")
    return [float(ci.low), float(ci.high)]


def proportion_test(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided p-value of "k1 of n1 and k2 of n2 are the same share": Fisher's exact test on the 2x2 table.

    Exact rather than the two-proportion z-test, whose normal approximation fails for the counts compared here
    (a handful of out-of-range reads, or none). A small p (< ALPHA) separates the two shares beyond noise;
    None when either n is 0 (there is no share to compare).
    """
    if n1 == 0 or n2 == 0:
        return None
    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)

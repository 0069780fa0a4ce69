"""Is a difference beyond seed noise, and is it the size a claim says? The tests every comparison goes through.

A comparison counts only with at least MIN_SEEDS seeds on each side: one or two seeds make no noise estimate,
and seed spread (0.2-0.5 accuracy points here) is as large as many of the differences the study reads. An
`Estimate` (a difference of two means by Welch, or one mean) carries its standard error and degrees of freedom,
so it gives its 95% interval, the p-value against any hypothesised value (zero, or the effect a claim states),
and the smallest difference the design could detect at its n. Shares (of generated images a reader can read,
say) get a Wilson interval and are compared with Fisher's exact test. `holm` corrects a family of p-values.

Spread is the sample standard deviation (ddof 1) everywhere; differences are given with their standard error or
their interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05  # two-sided tests at 95%
MIN_SEEDS = 3  # fewer seeds on a side: no noise estimate, so no difference counts
LEVEL = 1 - ALPHA  # every interval
POWER = 0.8  # the power at which `Estimate.detectable` states the smallest detectable difference


@dataclass(frozen=True)
class Estimate:
    """A mean (one sample) or a difference of means (Welch) with its standard error and degrees of freedom.

    `value` is None when a side is empty; `se` and `df` are None with fewer than MIN_SEEDS values on a side.
    """

    value: float | None
    se: float | None
    df: float | None
    n: tuple[int, ...]

    @property
    def enough(self) -> bool:
        return bool(self.n) and min(self.n) >= MIN_SEEDS and bool(self.se)

    def _t(self, q: float) -> float:
        return float(stats.t.ppf(q, self.df)) if math.isfinite(self.df) else float(stats.norm.ppf(q))

    def interval(self, level: float = LEVEL) -> tuple[float, float] | None:
        """The two-sided t interval; None without enough values."""
        if not self.enough:
            return None
        half = self._t((1 + level) / 2) * self.se
        return self.value - half, self.value + half

    def p_above(self, x: float) -> float | None:
        """One-sided p-value of "the true value is at most x" (small: it lies above x)."""
        if not self.enough:
            return None
        t = (self.value - x) / self.se
        return float(stats.t.sf(t, self.df) if math.isfinite(self.df) else stats.norm.sf(t))

    def p_below(self, x: float) -> float | None:
        """One-sided p-value of "the true value is at least x" (small: it lies below x)."""
        if not self.enough:
            return None
        t = (x - self.value) / self.se
        return float(stats.t.sf(t, self.df) if math.isfinite(self.df) else stats.norm.sf(t))

    def p_at(self, x: float) -> float | None:
        """Two-sided p-value of "the true value is x": below ALPHA exactly when the 95% interval excludes x."""
        if not self.enough:
            return None
        return min(1.0, 2 * min(self.p_above(x), self.p_below(x)))

    def detectable(self, alpha: float = ALPHA, power: float = POWER) -> float | None:
        """The smallest true difference (from any hypothesised value) this design detects with `power` at a
        two-sided `alpha`: (t_{1-alpha/2} + t_{power}) x se, with the estimate's own df."""
        if not self.enough:
            return None
        return (self._t(1 - alpha / 2) + self._t(power)) * self.se

    # the names the difference of two means is known by
    @property
    def diff(self) -> float | None:
        return self.value

    @property
    def p(self) -> float | None:
        """Two-sided p-value against zero (Welch's t-test for a difference)."""
        return self.p_at(0.0)

    def sign(self, alpha: float = ALPHA) -> int:
        """+1: above zero beyond noise, -1: below beyond noise, 0: within noise (or too few seeds)."""
        if self.p is None or self.p >= alpha or not self.value:
            return 0
        return 1 if self.value > 0 else -1

    def why(self, alpha: float = ALPHA) -> str:
        """Why the difference does or does not count, in words: the seeds, or the p-value against alpha."""
        if not self.enough:
            return f"fewer than {MIN_SEEDS} seeds a side ({' v '.join(map(str, self.n))})"
        return f"{p_text(self.p)} {'<' if self.p < alpha else '>='} {alpha:g}"


Welch = Estimate  # the difference of two means, as `welch` returns it


def p_text(p: float) -> str:
    """'p = 0.042', 'p = 2e-05' below 0.001, 'p = 0' for identical seeds apart."""
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.0e}" if p > 0 else "p = 0"


def welch(a, b, resolution: float = 0.0) -> Estimate:
    """mean(a) - mean(b) with Welch's standard error and Welch-Satterthwaite degrees of freedom.

    `resolution`: the smallest step the quantity is read in (one epoch, one image); each side's standard deviation
    is taken as at least that (`spread`), so equal integers (30/30/30) do not make a zero-width interval. A side
    with no spread at all and no resolution gives no noise estimate (se None): it decides nothing, never p = 0.
    """
    a, b = _finite(a), _finite(b)
    n = (len(a), len(b))
    if not len(a) or not len(b):
        return Estimate(None, None, None, n)
    diff = float(a.mean() - b.mean())
    if min(n) < MIN_SEEDS:
        return Estimate(diff, None, None, n)
    sa, sb = spread(a, resolution), spread(b, resolution)
    if not sa and not sb:
        return Estimate(diff, None, None, n)
    va, vb = sa ** 2 / len(a), sb ** 2 / len(b)
    se = float(np.sqrt(va + vb))
    df = float((va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)))
    return Estimate(diff, se, df, n)


def one_mean(values, resolution: float = 0.0) -> Estimate:
    """The mean of `values` with its standard error and n - 1 degrees of freedom (the spread floored at
    `resolution`, as in `welch`; no spread and no resolution: no noise estimate)."""
    v = _finite(values)
    if not len(v):
        return Estimate(None, None, None, (0,))
    s = spread(v, resolution) if len(v) >= MIN_SEEDS else 0.0
    if not s:
        return Estimate(float(v.mean()), None, None, (len(v),))
    return Estimate(float(v.mean()), float(s / np.sqrt(len(v))), float(len(v) - 1), (len(v),))


def spread(values, resolution: float = 0.0) -> float:
    """The sample standard deviation (ddof 1), at least `resolution`: a quantity read in whole steps (epochs,
    counts) that agrees over a few seeds has not shown zero noise, only noise below its step (the stopping epochs
    of docs/notes/training-paths.md move by 5-8 between training paths), so one step is the least spread assumed."""
    v = _finite(values)
    varies = len(v) > 1 and np.ptp(v) > 0  # equal values: no spread (not the rounding residue of std)
    return max(float(v.std(ddof=1)) if varies else 0.0, float(resolution))


def pooled_spread(samples, resolution: float = 0.0) -> tuple[float, int] | None:
    """The seed noise of a quantity pooled over several configurations: sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1))
    with its degrees of freedom sum (n_i - 1), each s_i floored at `resolution`; None without two values anywhere.
    A design-based figure: the noise of one configuration's three seeds is itself noise (the true sigma can be
    0.5-6x the estimate), the pool over the family's configurations much less so."""
    groups = [g for g in (_finite(s) for s in samples) if len(g) > 1]
    df = sum(len(g) - 1 for g in groups)
    if not df:
        return None
    var = sum((len(g) - 1) * spread(g, resolution) ** 2 for g in groups) / df
    return (float(np.sqrt(var)), df) if var > 0 else None


def detectable_at(sd: float, df: float, n: int, sides: int = 2, alpha: float = ALPHA,
                  power: float = POWER) -> float:
    """The smallest true difference a design detects with `power` at two-sided `alpha`, for seed noise `sd`
    (with `df` degrees of freedom) and n seeds a side: (t_{1-alpha/2} + t_power) x sd x sqrt(sides / n);
    sides 1 for one configuration's mean against a number."""
    t = stats.t if math.isfinite(df) else None
    q = (lambda x: float(t.ppf(x, df))) if t else (lambda x: float(stats.norm.ppf(x)))
    return (q(1 - alpha / 2) + q(power)) * sd * math.sqrt(sides / n)


def seeds_needed(a, b, effect: float, alpha: float = ALPHA, power: float = POWER, cap: int = 1000) -> int | None:
    """How many seeds a side would detect a true difference `effect` with `power` at `alpha`, if each side kept
    the spread (ddof 1) it has now; None when a side has fewer than 2 values or no spread is needed."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2 or not effect:
        return None
    va, vb = a.var(ddof=1), b.var(ddof=1)
    if not va + vb:
        return None
    for n in range(MIN_SEEDS, cap + 1):  # Welch-Satterthwaite df with n a side
        est = Estimate(0.0, float(np.sqrt((va + vb) / n)), (n - 1) * (va + vb) ** 2 / (va ** 2 + vb ** 2), (n, n))
        if est.detectable(alpha, power) <= abs(effect):
            return n
    return None


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values of one family (None stays None and is not counted in the family).

    Written out (six lines) rather than taken from statsmodels, which the project does not otherwise need:
    the i-th smallest of m p-values is multiplied by m - i, and the adjusted values are made non-decreasing.
    """
    ranked = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - rank) * p))
        out[i] = running
    return out


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
    return one_mean(values).interval(level)


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

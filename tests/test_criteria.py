"""The verdict rules by themselves: estimates and intervals against scipy, Holm's correction, the four verdicts of
a comparison separated by the interval alone, and how a claim's parts combine."""

from __future__ import annotations

from multimnist.evaluation.noise import holm, one_mean, seeds_needed, welch
from multimnist.evaluation.sequential import Design
from multimnist.report.criteria import (
    TEST,
    TRAIN,
    All,
    Effect,
    Level,
    Margin,
    NotLinear,
    Outcome,
    Quantity,
    combine,
    judge,
)

import numpy as np
import pytest
from scipy import stats

BASE = [0.900, 0.902, 0.904]


def around(mean: float, spread: float, n: int = 3) -> list[float]:
    """n values with this mean and sample std (ddof 1) `spread`: [m - s, m, m + s] for n = 3."""
    if n == 2:
        return [mean - spread / 2 ** 0.5, mean + spread / 2 ** 0.5]
    z = np.linspace(-1.0, 1.0, n)
    return list(mean + spread * z / z.std(ddof=1))


def test_estimates_match_scipy():
    a, b = [0.91, 0.93, 0.925, 0.94], [0.90, 0.902, 0.899]
    w, ref = welch(a, b), stats.ttest_ind(a, b, equal_var=False)
    assert w.p == pytest.approx(ref.pvalue) and w.interval() == pytest.approx(tuple(ref.confidence_interval()))
    assert w.df == pytest.approx(ref.df)
    one, ref1 = one_mean(a), stats.ttest_1samp(a, 0.92)
    assert one.p_at(0.92) == pytest.approx(ref1.pvalue)
    assert one.interval() == pytest.approx(tuple(ref1.confidence_interval()))
    # the interval excludes x exactly when p_at(x) < 0.05
    lo, hi = w.interval()
    assert w.p_at(lo - 1e-6) < 0.05 < w.p_at(lo + 1e-6) and w.p_at(hi + 1e-6) < 0.05
    assert welch(a, [0.9]).interval() is None and welch(a, []).value is None


def test_the_smallest_detectable_difference_and_the_seeds_that_would_detect_it():
    w = welch(around(0.91, 0.004), around(0.90, 0.004))
    t, tp = stats.t.ppf(0.975, w.df), stats.t.ppf(0.8, w.df)
    assert w.detectable() == pytest.approx((t + tp) * w.se)
    need = seeds_needed(around(0.91, 0.004), around(0.90, 0.004), 0.005)
    assert need > 3
    bigger = welch(around(0.905, 0.004, need), around(0.90, 0.004, need))  # same spread, `need` seeds a side
    assert bigger.detectable() <= 0.005 * 1.15  # the estimate's own Welch df is a little under 2 (n - 1)


def test_holm_matches_the_textbook_example():
    # Holm (1979) by hand: sorted 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1, made non-decreasing
    assert holm([0.04, 0.01, 0.03, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, None]) == [0.5, None] and holm([]) == []


# --- refuted, inconclusive and untestable told apart by the interval alone ---

CLAIM = Effect("a", "b", TEST, 0.03)  # the study's +3 points


def _records(samples: dict) -> dict:
    """Plain lists of numbers as one record per run with the test accuracy (records pass through)."""
    return {k: [v if isinstance(v, dict) else {"test_accuracy": v} for v in vals] for k, vals in samples.items()}


def _judged(criterion, samples):
    return judge(criterion, _records(samples))


def _verdict(criterion, samples) -> str:
    return _judged(criterion, samples).verdict


def test_only_the_interval_separates_refuted_inconclusive_and_untestable():
    b = around(0.90, 0.001)
    refuted = {"a": around(0.9025, 0.003), "b": b}  # +0.25 points, tight: the interval excludes +3
    inconclusive = {"a": around(0.915, 0.008), "b": b}  # +1.5, wide enough to hold 0 and +3, n detects +3
    untestable = {"a": around(0.915, 0.016), "b": b}  # +1.5, so wide that n = 3 cannot detect +3
    for samples in (refuted, inconclusive, untestable):  # none differs from zero beyond noise
        assert welch(samples["a"], samples["b"]).p >= 0.05
    assert _verdict(CLAIM, refuted) == "no"
    assert _verdict(CLAIM, inconclusive) == "within noise"
    assert _verdict(CLAIM, untestable) == "untestable"
    why = _judged(CLAIM, untestable).why
    assert "smallest difference detectable at n = 3" in why and "seeds a side would detect it" in why
    assert _verdict(CLAIM, {"a": around(0.93, 0.001), "b": b}) == "yes"
    assert _verdict(CLAIM, {"a": around(0.93, 0.001, 2), "b": b}) == "untestable"  # two seeds
    assert _judged(CLAIM, {"a": around(0.93, 0.001, 2), "b": b}).why.endswith("needs >= 3 seeds a side")
    assert _verdict(CLAIM, {"b": b}) == "n/a"


def test_a_smaller_effect_beyond_noise_still_refutes_a_stated_size():
    b = around(0.90, 0.001)
    assert _verdict(CLAIM, {"a": around(0.91, 0.001), "b": b}) == "no"  # +1 point, clearly, where +3 is claimed
    at_least = Effect("a", "b", TEST, 0.005, "at least")
    assert _verdict(at_least, {"a": around(0.93, 0.001), "b": b}) == "yes"  # more than the least is fine
    assert _verdict(at_least, {"a": around(0.901, 0.0005), "b": b}) == "no"  # beyond noise, but too small


def test_margins_and_levels():
    b = around(0.90, 0.001)
    similar, not_worse = Margin("a", "b", TEST, 0.005), Margin("a", "b", TEST, 0.005, "not worse")
    assert _verdict(similar, {"a": around(0.901, 0.001), "b": b}) == "yes"
    assert _verdict(similar, {"a": around(0.92, 0.001), "b": b}) == "no"
    assert _verdict(similar, {"a": around(0.905, 0.001), "b": b}) == "within noise"  # on the margin
    assert _verdict(not_worse, {"a": around(0.93, 0.001), "b": b}) == "yes"
    assert _verdict(not_worse, {"a": around(0.88, 0.001), "b": b}) == "no"
    level = Level("a", TEST, 0.88, 0.90)
    assert _verdict(level, {"a": around(0.89, 0.001)}) == "yes"
    assert _verdict(level, {"a": around(0.95, 0.001)}) == "no"
    assert _verdict(level, {"a": around(0.90, 0.002)}) == "within noise"  # straddles a bound, fits the range
    assert _verdict(level, {"a": around(0.89, 0.02)}) == "untestable"  # wider than the range
    assert "cannot fit inside" in _judged(level, {"a": around(0.89, 0.02)}).why


def test_a_line_and_a_curve():
    mse = Quantity("test_mse", "test MSE", scale=1, digits=5, unit="", diff_unit="")
    labels = tuple(f"cf {f}" for f in (20, 22, 24, 26))
    crit = NotLinear(labels, mse, 0.0003)

    def samples(values, spread):
        return {lb: [{"test_mse": v} for v in around(m, spread)] for lb, m in zip(labels, values, strict=True)}

    assert _verdict(crit, samples([0.010, 0.013, 0.014, 0.0145], 0.0001)) == "yes"  # bends
    assert _verdict(crit, samples([0.010, 0.011, 0.012, 0.013], 0.00005)) == "no"  # a line within 0.0003
    # the power check: seed noise this wide could not tell a deviation of the margin from a line
    noisy = _judged(crit, samples([0.010, 0.011, 0.012, 0.013], 0.0008))
    assert noisy.verdict == "untestable" and "smallest deviation from the line detectable at n = 3" in noisy.why
    assert _verdict(crit, {lb: v[:2] for lb, v in samples([0.01] * 4, 0.0001).items()}) == "untestable"


# --- a claim's parts: one family, combined by the claim's wording ---

class Fixed:
    """A test with fixed p-values, to see the family's correction at work."""

    def __init__(self, p_yes, p_no=1.0):
        self.p_yes, self.p_no = p_yes, p_no

    def describe(self):
        return "fixed"

    def labels(self):
        return ()

    def test(self, samples, look=None):
        return Outcome("fixed", {"x": 3}, self.p_yes, self.p_no)


def test_holm_within_a_family_changes_the_verdict():
    assert _verdict(Fixed(0.03), {}) == "yes"  # alone, p = 0.03 < 0.05
    family = All((Fixed(0.03), Fixed(0.03)))
    assert judge(family, {}).verdict == "within noise"  # Holm: both 0.06
    assert "(Holm)" in judge(family, {}).why
    assert judge(All((Fixed(0.01), Fixed(0.04))), {}).verdict == "yes"  # 0.02 and 0.04
    assert judge(All((Fixed(1.0, 0.03), Fixed(1.0, 0.03))), {}).verdict == "within noise"  # refutations too
    assert judge(All((Fixed(1.0, 0.001), Fixed(0.001))), {}).verdict == "no"


@pytest.mark.parametrize(("parts", "independent", "verdict"), [
    (["yes", "yes"], False, "yes"), (["yes", "no"], False, "no"), (["yes", "within noise"], False, "within noise"),
    (["yes", "untestable"], False, "untestable"), (["untestable", "within noise"], False, "within noise"),
    (["yes", "n/a"], False, "n/a"), (["no", "n/a"], False, "no"),
    (["yes", "yes"], True, "yes"), (["yes", "within noise"], True, "partly"), (["yes", "untestable"], True, "partly"),
    (["yes", "no"], True, "no"), (["within noise", "untestable"], True, "within noise"),
    (["untestable", "untestable"], True, "untestable"), (["partly", "yes"], True, "partly"),
])
def test_combining_parts(parts, independent, verdict):
    assert combine(parts, independent) == verdict


def test_nested_families_correct_over_every_leaf():
    inner = All((Fixed(0.02), Fixed(0.02)))  # alone: both 0.04, yes
    assert judge(inner, {}).verdict == "yes"
    outer = All((inner, Fixed(0.5)), independent=True)  # three leaves: 0.06, 0.06, 0.5
    assert judge(outer, {}).verdict == "within noise"
    assert np.isclose(holm([0.02, 0.02, 0.5])[0], 0.06)


# --- no degenerate decisions; untestable from the design; the looks of a sequential design ---

EPOCH = Quantity("best_epoch", "kept epoch", scale=1, digits=1, unit="", diff_unit=" epochs", resolution=1.0)


def test_equal_integers_give_no_zero_width_interval_and_no_p_of_zero():
    """Kept epoch 30/30/30: one epoch of resolution is the least spread assumed, so the interval is 30 +- t(2) x
    1 / sqrt(3) = [27.5, 32.5], and p against the claimed 15-20 is small but not 0."""
    est = one_mean([30, 30, 30], resolution=1.0)
    lo, hi = est.interval()
    assert hi - lo == pytest.approx(2 * stats.t.ppf(0.975, 2) / np.sqrt(3)) and lo == pytest.approx(27.52, abs=0.01)
    assert 0 < est.p_at(20.0) < 0.05
    j = judge(Level("a", EPOCH, 15, 20), {"a": [{"best_epoch": 30}] * 3})
    assert j.verdict == "no" and "p = 0 " not in j.why + " " and j.estimates[0]["interval"][0] < 30
    w = welch([19, 19, 19], [22, 22, 22], resolution=1.0)
    assert w.se == pytest.approx(np.sqrt(2 / 3)) and w.p > 0


def test_a_zero_spread_sample_is_never_decided_at_p_zero():
    """Seeds that agree exactly on a quantity without resolution steps give no noise estimate: untestable."""
    assert welch([0.9, 0.9, 0.9], [0.8, 0.8, 0.8]).p is None
    share = Quantity("share", "a share without steps")
    j = judge(Effect("a", "b", share, 0.03), {"a": [{"share": 0.93}] * 3, "b": [{"share": 0.90}] * 3})
    assert j.verdict == "untestable" and "the seeds agree exactly" in j.why
    # an accuracy is read to 0.01 points: 100% on every seed is at least 98%, decided, not at p = 0
    j = judge(Level("a", TRAIN, lo=0.98), {"a": [{"train_accuracy": 1.0}] * 3})
    assert j.verdict == "yes" and "p = 0 " not in j.why + " "


def test_untestable_uses_the_noise_pooled_over_the_family_and_never_when_the_interval_excludes_zero():
    b = around(0.90, 0.003)
    a = around(0.909, 0.002)  # +0.9 points, its interval excludes zero
    crit = Effect("a", "b", TEST, 0.005, "at least")
    j = judge(crit, _records({"a": a, "b": b}))
    assert welch(a, b).interval()[0] > 0  # excludes zero
    assert j.verdict in ("yes", "within noise") and j.verdict != "untestable"
    # the same pair in a family whose other configurations are noisy: the pooled noise, not this pair's, says
    # what the design can detect
    quiet = Effect("c", "d", TEST, 0.005, "at least")
    noisy = {"a": around(0.90, 0.02), "b": around(0.90, 0.02), "c": around(0.902, 0.001), "d": around(0.90, 0.001)}
    j = judge(All((Effect("a", "b", TEST, 0.005, "at least"), quiet)), _records(noisy))
    assert "pooled over 4 configurations" in j.why and "untestable" in j.why


def test_the_looks_of_a_sequential_design():
    """At 3, 5, 10 seeds a side (O'Brien-Fleming): a claim decided at look k keeps that verdict, one still open at
    the cap is undecided there, and one open before the cap asks for the next look."""
    design = Design()
    crit = Effect("a", "b", TEST, 0.005, "at least")
    rng = np.random.default_rng(0)
    base = list(0.90 + 0.003 * rng.standard_normal(10))
    huge = {"a": [x + 0.10 for x in base[::-1]], "b": base}  # +10 points, noise 0.3: decided at 3 seeds
    j = judge(crit, _records(huge), design)
    assert j.verdict == "yes" and j.sequential["look"] == 1 and j.sequential["status"].startswith("decided at look 1")
    assert j.sequential["level"] == pytest.approx(design.level(0)) and j.n == {"a": 3, "b": 3}
    # half the claimed effect under seed noise of a point: 10 seeds hold both zero and the claim
    null = {"a": list(0.9025 + 0.01 * rng.standard_normal(10)), "b": list(0.90 + 0.01 * rng.standard_normal(10))}
    j = judge(crit, _records(null), design)
    assert j.sequential["status"] == "undecided at the cap" and j.sequential["seeds"] == 10
    j = judge(crit, _records({k: v[:4] for k, v in null.items()}), design)
    assert j.sequential["status"] == "open: more seeds (next look at 5 a side)" and j.n == {"a": 3, "b": 3}
    # look 1's interval is the repeated confidence interval at its nominal level: wider than the 95% one
    lo, hi = j.estimates[0]["interval"]
    w = welch(null["a"][:3], null["b"][:3])
    assert hi - lo > np.diff(w.interval())[0] * 2


def test_a_verdict_reached_at_a_look_is_kept():
    design = Design((3, 5))
    crit = Effect("a", "b", TEST, 0.005, "at least")
    b = [0.900, 0.901, 0.899, 0.95, 0.95]  # the last two seeds would erase the difference
    a = [0.960, 0.961, 0.959, 0.90, 0.90]
    j = judge(crit, _records({"a": a, "b": b}), design)
    assert j.verdict == "yes" and j.sequential["look"] == 1

"""The group-sequential rule (evaluation/sequential.py): boundaries, levels, Holm at each look, and its error rates
in simulated experiments of a family of claims (numpy-vectorized: seconds)."""

import math

from multimnist.evaluation.sequential import Design, boundaries, holm_at_look, more_seeds, next_look, spent

import numpy as np
import pytest
from scipy import stats


def test_one_look_is_the_fixed_test_and_the_first_look_spends_its_share():
    assert boundaries((1.0,), 0.05) == pytest.approx((1.959964,), abs=1e-3)
    assert Design.fixed(3).level(0) == pytest.approx(0.05, abs=1e-4)
    c = boundaries((0.3, 0.5, 1.0), 0.05)
    assert c[0] == pytest.approx(stats.norm.ppf(1 - 0.05 / 2) / math.sqrt(0.3), abs=1e-3)  # O'Brien-Fleming type
    assert c[0] > c[1] > c[2] > 1.96  # little spent early, the last look near the fixed test


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_each_look_spends_what_the_spending_function_allows(spending):
    """Brownian paths under the null: the share first crossing at each look is the error spent there."""
    fractions = (0.3, 0.5, 1.0)
    c = np.array(boundaries(fractions, 0.05, spending))
    rng = np.random.default_rng(1)
    t = np.array(fractions)
    z = np.cumsum(rng.standard_normal((400_000, 3)) * np.sqrt(np.diff(np.r_[0, t])), axis=1) / np.sqrt(t)
    crossed = np.abs(z) >= c
    first = np.where(crossed.any(1), crossed.argmax(1), -1)
    increments = np.diff([0.0, *(spent(x, 0.05, spending) for x in fractions)])
    for k in range(3):
        se = math.sqrt(increments[k] / len(z))
        assert abs((first == k).mean() - increments[k]) < 4 * se + 1e-5
    assert (first >= 0).mean() == pytest.approx(0.05, abs=0.002)


def test_designs_from_a_profile():
    assert Design.up_to(3, None).looks == (3,)
    assert Design.up_to(3, 10).looks == (3, 5, 10)
    assert Design.up_to(3, 8).looks == (3, 5, 8)
    d = Design()
    assert (d.look_at(2), d.look_at(3), d.look_at(4), d.look_at(5), d.look_at(12)) == (None, 0, 0, 1, 2)
    assert (next_look(d, 3), next_look(d, 5), next_look(d, 10)) == (5, 10, None)
    assert "O'Brien-Fleming" in d.describe() and "Jennison & Turnbull" in d.describe()
    with pytest.raises(ValueError, match="increasing"):
        Design((5, 3))


def test_holm_at_a_look_steps_down_and_keeps_earlier_rejections():
    d = Design.fixed(3)
    assert holm_at_look([0.001, 0.02, 0.04, None], d, 0) == [True, True, True, False]  # 0.05/3, /2, /1
    assert holm_at_look([0.001, 0.03, 0.04], d, 0) == [True, False, False]  # 0.03 > 0.05/2 stops the steps
    # a hypothesis rejected earlier frees its alpha: the other two face 0.05/2 and 0.05
    assert holm_at_look([0.5, 0.03, 0.04], d, 0, rejected_before=[True, False, False]) == [True, False, False]
    assert holm_at_look([0.5, 0.02, 0.04], d, 0, rejected_before=[True, False, False]) == [True, True, True]


def test_more_seeds_names_each_open_claims_configurations_once():
    configs = {"a": ("unregularized", "dropout_0.1"), "b": ("unregularized", "regularized"), "c": ("depth-2",)}
    assert more_seeds(["a", "b"], configs) == ["unregularized", "dropout_0.1", "regularized"]
    assert more_seeds([], configs) == []


def _welch_p(a, b):
    """Two-sided Welch p-values over the last axis (seeds) of arrays (..., n)."""
    va, vb = a.var(-1, ddof=1) / a.shape[-1], b.var(-1, ddof=1) / b.shape[-1]
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.shape[-1] - 1) + vb ** 2 / (b.shape[-1] - 1))
    return 2 * stats.t.sf(np.abs(a.mean(-1) - b.mean(-1)) / se, df)


def _simulate(effect: float, experiments: int, claims: int, design: Design, seed: int) -> np.ndarray:
    """(experiments, claims) the look (0-based) at which each claim was decided, -1 when undecided at the cap:
    each claim a Welch difference of two configurations with seed noise 1, judged at every look on its first n_k
    seeds, Holm over the family at each look, decided claims stopped."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((experiments, claims, design.cap)) + effect
    b = rng.standard_normal((experiments, claims, design.cap))
    decided_at = np.full((experiments, claims), -1)
    for k, n in enumerate(design.looks):
        p = _welch_p(a[..., :n], b[..., :n])
        for e in range(experiments):
            before = decided_at[e] >= 0
            now = holm_at_look(list(p[e]), design, k, rejected_before=list(before))
            decided_at[e][np.array(now) & ~before] = k
    return decided_at


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])  # the paper profile spends Pocock's way
def test_under_the_null_the_familys_false_decision_rate_stays_within_alpha(spending):
    """2,000 experiments of a family of 4 claims with no effect, looked at 3, 5 and 10 seeds: the share of
    experiments with any decision (each a false one) is at most 5% plus its Monte-Carlo error, and not far below
    it (the rule spends what it is allowed)."""
    design, n = Design(spending=spending), 2_000
    decided = _simulate(0.0, n, 4, design, seed=7)
    rate = (decided >= 0).any(1).mean()
    mc = math.sqrt(0.05 * 0.95 / n)
    assert rate <= 0.05 + 2 * mc, rate
    assert rate >= 0.02, rate
    # without the design (every look at 0.05, Holm alone) the same looks overshoot: the rule is what keeps it
    naive = Design.fixed(3)
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, n, 4, 10))
    hits = np.zeros(n, bool)
    for m in design.looks:
        p = _welch_p(a[..., :m], b[..., :m])
        hits |= np.array([any(holm_at_look(list(row), naive, 0)) for row in p])
    assert hits.mean() > 0.05 + 2 * mc


def test_under_a_true_effect_the_rule_decides_it():
    """An effect of 2.5 seed standard deviations in every claim is decided by the cap in nearly every experiment;
    one of 5 is decided before it in most (O'Brien-Fleming spends little early: 3 seeds decide only the huge);
    Pocock's spending decides more of them at the first look, at 3 seeds."""
    decided = _simulate(2.5, 500, 4, Design(), seed=3)
    assert (decided >= 0).mean() > 0.95
    early = _simulate(5.0, 500, 4, Design(), seed=4)
    assert ((early >= 0) & (early < 2)).mean() > 0.8
    pocock = _simulate(2.5, 500, 4, Design(spending="pocock"), seed=3)
    assert (pocock >= 0).mean() > 0.95 and (pocock == 0).mean() > (decided == 0).mean()


@pytest.mark.slow  # 2,000 judgements through the claims engine: about a minute on 2 cores
def test_the_claims_engine_keeps_the_error_rate_over_its_looks():
    """The same rule as the claims engine applies it (report/criteria.py All.judge, replaying the looks on the
    first n_k seeds): a family of three "at least +0.5" claims with no effect, seed noise 1, looks at 3/5/10.
    A "yes" is a one-sided decision, so the family's false-yes rate stays within 2.5% plus its Monte-Carlo error
    (measured: 0.0255 at seed 1)."""
    from multimnist.report.criteria import All, Effect, Quantity, judge

    q = Quantity("x", "x")
    family = All(tuple(Effect(f"a{i}", f"b{i}", q, 0.5, "at least") for i in range(3)), independent=True)
    rng, n = np.random.default_rng(1), 2_000
    false = 0
    for _ in range(n):
        samples = {f"{k}{i}": [{"x": float(v)} for v in rng.standard_normal(10)] for i in range(3) for k in "ab"}
        false += "yes" in judge(family, samples, Design()).parts
    assert false / n <= 0.025 + 2 * math.sqrt(0.025 * 0.975 / n)

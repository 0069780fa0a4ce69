"""Criteria: how a claim about measured numbers is judged, by estimation against the effect the claim states.

A criterion reads *samples*, {label: [record, ...]} with one record per run (a classifier's metrics.json with
its curves' readings, an autoencoder's, one autoencoder seed's row of generated-image scores). Each *test* (a
leaf) estimates one quantity, a difference of two configurations' means or one configuration's mean, with its
95% interval, and states the claimed effect: the size the study gives, or where it gives none, a smallest effect
of interest declared beside the sentence in report/claims.py. Every test turns into two p-values:

- `p_yes`, whose rejection supports the claim (the interval lies on the claim's side of zero, or inside the
  claimed range);
- `p_no`, whose rejection refutes it (the interval excludes the claimed effect, whether or not it excludes zero).

The tests of one claim are a *family*: both sets of p-values are Holm-adjusted within it (`All`), and then

    no            adjusted p_no < ALPHA: the interval excludes the claimed effect
    yes           adjusted p_yes < ALPHA and not refuted
    untestable    neither, and the design cannot detect the claimed effect: fewer than MIN_SEEDS seeds a side, or
                  the smallest difference detectable at its n (95%, 80% power) exceeds the claimed effect; the
                  test says how many seeds would
    within noise  neither, although the design could have told: the interval holds both zero and the claim
    n/a           the runs a test needs are absent

A claim of several tests combines them by its wording (`All`): a statement over a range ("from 1e-3 to 1e-5",
"3-5 layers") holds only where it holds across the range, so any refuted part makes it "no"; "partly" is only
for sentences making several independent statements, some confirmed and none refuted. ("by construction" and
"dependent" are given by report/claims.py, never by a criterion.) `RULES` renders these rules once, and each
criterion's `describe()` renders what it compares from the same numbers `judge()` uses. Pure: no file access.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from multimnist.evaluation.noise import (
    ALPHA,
    MIN_SEEDS,
    POWER,
    Estimate,
    detectable_at,
    holm,
    one_mean,
    p_text,
    pooled_spread,
    summarize,
    welch,
)
from multimnist.evaluation.sequential import Design, holm_at_look
from multimnist.formatting import MISSING

import numpy as np
from scipy import stats

Samples = Mapping[str, Sequence[dict]]  # label -> one record per run

RULES = (
    f"Each comparison is an estimate with its Welch interval (a single configuration's mean: its t interval), "
    f"judged against the effect the study states (or, where it states none, a declared smallest effect of "
    f"interest), with >= {MIN_SEEDS} seeds a side. A quantity read in whole steps (epochs, counts; accuracies "
    f"to 0.01 points) has a seed spread of at least one step, and seeds that agree exactly on a quantity without "
    f"steps give no noise estimate: nothing is decided from zero spread, never at p = 0. The comparisons of one "
    f"claim form a family, Holm-corrected. In a fixed design (one look) every interval is "
    f"{100 * (1 - ALPHA):.0f}%; in a sequential design (seeds added until a claim is decided, up to a cap) each "
    f"look has its nominal level from alpha spending (Pocock or O'Brien-Fleming type: the run's design says "
    f"which), the interval is that look's repeated confidence interval and Holm steps through the look's "
    f"boundaries (Jennison & Turnbull 2000; Maurer & Bretz 2013), so the error rates hold over the looks. no: the "
    f"interval excludes the claimed effect (refuted, "
    f"whether or not it excludes zero); yes: it lies on the claim's side of zero (or inside the claimed range) and "
    f"does not exclude the claimed effect; untestable: the design cannot detect the claimed effect (fewer than "
    f"{MIN_SEEDS} seeds, or a smallest detectable difference at the cap, at the level a test of the family faces "
    f"there and {100 * POWER:.0f}% power, above it, from the quantity's seed noise pooled over the configurations "
    f"of the claim's family), and never while the interval already excludes zero or the claimed effect; within "
    f"noise: the interval holds both zero and the claimed effect although the design could have told them apart. "
    f"A claim over a range holds only where every part holds; partly: some of several independent statements hold "
    f"and none is refuted.")


# --- how a measured number reads ---

@dataclass(frozen=True)
class Quantity:
    """A number read from each run's record: where (`key`, dotted for nested), its name, and how it prints."""

    key: str
    name: str
    scale: float = 100.0
    digits: int = 1
    unit: str = "%"
    diff_unit: str = " points"
    resolution: float = 0.0  # the step it is read in (1: whole epochs, counts); the least seed spread assumed

    def values(self, records: Sequence[dict]) -> list[float]:
        out = []
        for r in records:
            for part in self.key.split("."):
                r = r.get(part) if isinstance(r, dict) else None
            if isinstance(r, (int, float)) and not isinstance(r, bool) and np.isfinite(r):
                out.append(float(r))
        return out

    def value(self, v: float) -> str:
        return f"{self.scale * v:.{self.digits}f}{self.unit}"

    def diff(self, d: float) -> str:
        return f"{self.scale * d:+.{self.digits}f}{self.diff_unit}"

    def size(self, d: float) -> str:
        """A magnitude in the difference's unit, no sign: '0.5 points'."""
        return f"{self.scale * abs(d):.{self.digits}f}{self.diff_unit}"

    def text(self, values) -> str:
        """'90.1 ± 0.2% (n=3)': mean ± std (ddof 1) of the values and how many."""
        return stat_text(summarize(values), self.scale, self.digits, self.unit)

    def interval(self, ci, diff: bool = False) -> str:
        fmt = self.diff if diff else self.value
        return f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else MISSING


def stat_text(s: dict, scale: float = 100.0, digits: int = 1, unit: str = "", n: bool = True) -> str:
    """A summary {"mean", "std", "n"} as 'mean ± std (n=N)'; the bare mean for one value; '–' for none."""
    if s["mean"] is None:
        return MISSING
    text = f"{scale * s['mean']:.{digits}f}"
    if s["std"] is not None:
        text += f" ± {scale * s['std']:.{digits}f}"
    return text + unit + (f" (n={s['n']})" if n else "")


EPOCHS = {"scale": 1, "digits": 1, "unit": "", "diff_unit": " epochs", "resolution": 1.0}
# An accuracy is a count of images over thousands: equal on every seed (100% training accuracy) it has not shown
# zero noise either; the least spread assumed is 0.01 points, the precision accuracies are compared at.
ACCURACY_STEP = 1e-4
TEST = Quantity("test_accuracy", "test accuracy", resolution=ACCURACY_STEP)
BEST_VAL = Quantity("best_val_accuracy", "best validation accuracy", resolution=ACCURACY_STEP)
VAL = Quantity("val_accuracy", "validation accuracy of the kept weights", resolution=ACCURACY_STEP)
TRAIN = Quantity("train_accuracy", "training accuracy of the kept weights (inference mode)",
                 resolution=ACCURACY_STEP)
GAP = Quantity("train_val_gap", "train - validation gap (training accuracy in inference mode)", unit=" points")
GAP_RUNNING = Quantity("train_val_gap_running", "train - validation gap (training accuracy as Keras' fit logs it: the "
                                                "running training-mode mean over the epoch)", unit=" points")
VAL_TEST_GAP = Quantity("val_test_gap", "best validation - test accuracy", unit=" points")
TEST_LOSS = Quantity("test_loss", "test loss", scale=1, digits=2, unit="", diff_unit="")
RHO = Quantity("frequency_correlation.spearman_rho", "Spearman rho of per-class accuracy and class frequency",
               scale=1, digits=2, unit="", diff_unit="")
COUNT = Quantity("count", "test count", scale=1, digits=1, unit="", diff_unit="", resolution=1.0)
MSE = Quantity("test_mse", "test MSE", scale=1, digits=5, unit="", diff_unit="")
OUTSIDE_UNIT = Quantity("latent_values_outside_unit_share", "share of latent values outside [0, 1]", digits=0)
RISE = Quantity("val_loss_rise", "rise of the last validation loss over its minimum", digits=0,
                diff_unit=" points of rise")
MIN_EPOCH = Quantity("val_loss_min_epoch", "epoch of minimum validation loss", **EPOCHS)
PLATEAU = Quantity("plateau_epoch", "first epoch with validation accuracy within 1 point of its best", **EPOCHS)
DROP = Quantity("val_drop_after_plateau", "largest fall of validation accuracy below its best, from the plateau "
                                          "epoch on", unit=" points")
KEPT_EPOCH = Quantity("best_epoch", "epoch whose weights were kept", **EPOCHS)
READABLE = Quantity("readable_share", "readable share")
DISTINCT = Quantity("distinct_numbers", "distinct numbers read (on equal_n readable images)", scale=1,
                    unit="", diff_unit=" numbers", resolution=1.0)
OUTSIDE = Quantity("outside_1_50_share", "share of readable images read outside 1..50")
THREES = Quantity("digit_3_share", "share of read digits that are 3s")
AS_ASKED = Quantity("as_requested_share", "share read as the number asked (mean over the numbers asked)")


# --- tests: each estimates one quantity and states what the claim says of it ---

@dataclass(frozen=True)
class Outcome:
    """One test's outcome before the family's correction."""

    ours: str  # the numbers compared, mean ± std (n), and the estimate with its interval
    n: dict[str, int]
    p_yes: float | None = None  # rejecting it supports the claim
    p_no: float | None = None  # rejecting it refutes the claim
    untestable: str | None = None  # why the design cannot detect the claimed effect; None when it can
    missing: str | None = None  # what did not run (the test is n/a)
    estimate: dict | None = None  # the estimate in numbers (`estimate()`), for tables and figures across runs


@dataclass(frozen=True)
class Look:
    """What a test needs to know of the design at the look it is judged at (evaluation/sequential.py).

    `alpha`: this look's nominal level for one test (its interval is the (1 - alpha) repeated confidence
    interval); `cap`: seeds a side at the design's last look (None: the seeds at hand, a fixed design) and
    `cap_alpha` the level a test of the family faces there at worst (the first Holm step): a claimed effect the
    design cannot detect even at the cap, at that level, is untestable; `noise`: each quantity's seed noise pooled
    over the configurations of the claim's family, {quantity key: (sd, df, configurations)}.
    """

    alpha: float = ALPHA
    cap: int | None = None
    cap_alpha: float = ALPHA
    noise: Mapping[str, tuple[float, int, int]] = field(default_factory=dict)

    @property
    def level(self) -> float:
        return 1 - self.alpha


class Part(Protocol):
    def describe(self) -> str: ...

    def labels(self) -> tuple[str, ...]: ...

    def test(self, samples: Samples, look: Look = ...) -> Outcome: ...


def estimate(what: str, q: Quantity, est: Estimate, look: Look, claimed: float | None = None,
             diff: bool = True) -> dict | None:
    """A test's estimate as numbers in the unit it prints in (points, %, epochs): what it estimates, the value, its
    interval at the look's level (None with too few seeds) with that level, the standard error and degrees of
    freedom (for tests across runs: report/across.py), and the claimed effect (None for a level or a margin)."""
    if est.value is None:
        return None
    ci = est.interval(look.level) if est.enough else None
    return {"what": what, "quantity": q.name, "unit": (q.diff_unit if diff else q.unit).strip(),
            "value": q.scale * est.value, "interval": [q.scale * ci[0], q.scale * ci[1]] if ci else None,
            "level": look.level, "se": q.scale * est.se if est.enough else None, "df": est.df if est.enough else None,
            "claimed": None if claimed is None else q.scale * claimed}


def _not_run(labels, samples: Samples, q: Quantity | None = None) -> Outcome | None:
    """An n/a outcome naming the labels without a single value (not run, or run without this figure), or None
    when every label has some."""
    missing = [lb for lb in labels if not (q.values(samples.get(lb, ())) if q else samples.get(lb))]
    if not missing:
        return None
    absent = [lb for lb in missing if not samples.get(lb)]
    why = "; ".join(part for part in (
        "not run: " + ", ".join(absent) if absent else "",
        f"no {q.name if q else 'value'} in the runs of: " + ", ".join(lb for lb in missing if lb not in absent)
        if len(absent) < len(missing) else "") if part)
    return Outcome(MISSING, {lb: 0 for lb in missing}, missing=why)


def _few(n: Mapping[str, int]) -> str:
    if min(n.values()) >= MIN_SEEDS:
        return (f"n = {' v '.join(map(str, n.values()))}: the seeds agree exactly and the quantity has no "
                "resolution step, so there is no noise estimate (nothing is decided at p = 0)")
    return f"n = {' v '.join(map(str, n.values()))}: a comparison needs >= {MIN_SEEDS} seeds a side"


def _undetectable(q: Quantity, effect: float, look: Look, n: int, sides: int = 2, what: str = "difference",
                  a=None, b=None) -> str | None:
    """Why the design cannot detect `effect`, or None when it can: the smallest `what` detectable at the cap (n
    seeds a side in a fixed design) at the level a test of the family faces there, with the quantity's seed noise
    pooled over the family's configurations (`Look.noise`)."""
    noise = look.noise.get(q.key)
    if noise is None or not effect:
        return None
    sd, df, configs = noise
    cap = look.cap or n
    smallest = detectable_at(sd, df, cap, sides, look.cap_alpha)
    if smallest <= abs(effect):
        return None
    text = (f"the smallest {what} detectable at n = {cap} ({100 * (1 - look.cap_alpha):.3g}%, {100 * POWER:.0f}% "
            f"power; seed noise {q.size(sd)} pooled over {configs} configurations, {df} df) is {q.size(smallest)}, "
            f"above the claimed {q.size(effect)}")
    need = math.ceil(cap * (smallest / abs(effect)) ** 2)  # the detectable difference falls as 1 / sqrt(n)
    return text + (f"; about {need} seeds a side would detect it" if need > cap else "")


PAIR = "pair"  # a record's pairing key: records of two configurations with the same key were measured together


def paired_values(ra: Sequence[dict], rb: Sequence[dict], q: Quantity) -> tuple[list, list] | None:
    """The values of a and b for the pairing keys both sides have (in key order), when every record of both
    carries a PAIR key (samplers scored on one autoencoder seed); None otherwise."""
    if not ra or not rb or any(r.get(PAIR) is None for r in (*ra, *rb)):
        return None
    va = {r[PAIR]: q.values([r]) for r in ra}
    vb = {r[PAIR]: q.values([r]) for r in rb}
    keys = sorted(k for k in va if k in vb and va[k] and vb[k])
    return [va[k][0] for k in keys], [vb[k][0] for k in keys]


def _difference(a: str, b: str, q: Quantity, samples: Samples):
    """(values of a, values of b, the estimate of a - b, n per side, the numbers in words); an n/a outcome
    when a side has no value. Records paired by their PAIR key (samplers scored on the same
    autoencoder seed) give the mean of the paired differences with its t interval; others Welch's estimate."""
    missing = _not_run([a, b], samples, q)
    if missing:
        return missing
    paired = paired_values(samples[a], samples[b], q)
    if paired is not None:
        va, vb = paired
        est = one_mean(np.subtract(va, vb), q.resolution)
        return va, vb, est, {a: len(va), b: len(vb)}, (f"{a} {q.text(va)} vs {b} {q.text(vb)}, paired: "
                                                       f"{q.diff(est.value) if est.value is not None else MISSING}")
    va, vb = q.values(samples[a]), q.values(samples[b])
    est = welch(va, vb, q.resolution)
    return va, vb, est, {a: len(va), b: len(vb)}, f"{a} {q.text(va)} vs {b} {q.text(vb)}: {q.diff(est.value)}"


def _level_text(look: Look) -> str:
    return "" if abs(look.alpha - ALPHA) < 1e-12 else f" ({100 * look.level:.3g}%)"


@dataclass(frozen=True)
class Effect:
    """mean(a) - mean(b) against a claimed effect: `size` (the study's number: refuted when the interval
    excludes it on either side) or `at_least` (a smallest effect of interest in its direction: refuted when the
    interval lies wholly short of it). `relative`: the effect is a share of b's mean (-0.28: 28% fewer)."""

    a: str
    b: str
    q: Quantity
    effect: float
    kind: str = "size"  # "size" or "at least"
    relative: bool = False

    def _claimed(self, vb) -> float:
        return self.effect * float(np.mean(vb)) if self.relative else self.effect

    def _effect_text(self) -> str:
        size = f"{100 * self.effect:+.0f}% of {self.b}'s" if self.relative else self.q.diff(self.effect)
        return f"{size} ({'the study' if self.kind == 'size' else 'at least'})"

    def describe(self) -> str:
        return f"{self.a} minus {self.b}, {self.q.name}; claimed {self._effect_text()}"

    def labels(self) -> tuple[str, ...]:
        return self.a, self.b

    def test(self, samples: Samples, look: Look = Look()) -> Outcome:
        pair = _difference(self.a, self.b, self.q, samples)
        if isinstance(pair, Outcome):
            return pair
        va, vb, est, n, ours = pair
        claimed = self._claimed(vb)
        if self.relative and np.mean(vb):
            ours += f" ({100 * est.value / np.mean(vb):+.0f}%)"
        numbers = estimate(f"{self.a} - {self.b}", self.q, est, look, claimed)
        if not est.enough:
            return Outcome(ours, n, untestable=_few(n), estimate=numbers)
        ours += f" {self.q.interval(est.interval(look.level), diff=True)}{_level_text(look)}, claimed " \
                f"{self.q.diff(claimed)}"
        if not claimed:
            return Outcome(ours, n, missing=f"{self.b}'s {self.q.name} is 0: no claimed change to test")
        side = np.sign(claimed)
        p_yes = est.p_at(0.0) if np.sign(est.value) == side else 1.0
        short = side * est.value < abs(claimed)
        p_no = est.p_at(claimed) if self.kind == "size" or short else 1.0
        return Outcome(ours, n, p_yes, p_no, _undetectable(self.q, claimed, look, min(n.values()), a=va, b=vb),
                       estimate=numbers)


@dataclass(frozen=True)
class Margin:
    """mean(a) - mean(b) within a margin: `similar` (the interval inside [-margin, +margin]; refuted when
    wholly outside) or `not worse` (its lower end above -margin; refuted when its upper end is below -margin).
    `relative`: the margin is a share of b's mean (0.1: a at least 90% of b, for `not worse`)."""

    a: str
    b: str
    q: Quantity
    margin: float
    kind: str = "similar"  # or "not worse"
    relative: bool = False

    def describe(self) -> str:
        what = "within ±" if self.kind == "similar" else "no lower than -"
        size = f"{100 * self.margin:.0f}% of {self.b}'s" if self.relative else self.q.size(self.margin)
        return f"{self.a} minus {self.b}, {self.q.name}; claimed {what}{size}"

    def labels(self) -> tuple[str, ...]:
        return self.a, self.b

    def test(self, samples: Samples, look: Look = Look()) -> Outcome:
        pair = _difference(self.a, self.b, self.q, samples)
        if isinstance(pair, Outcome):
            return pair
        va, vb, est, n, ours = pair
        m = self.margin * float(np.mean(vb)) if self.relative else self.margin
        numbers = estimate(f"{self.a} - {self.b}", self.q, est, look)
        if not est.enough:
            return Outcome(ours, n, untestable=_few(n), estimate=numbers)
        ours += f" {self.q.interval(est.interval(look.level), diff=True)}{_level_text(look)}"
        if self.kind == "similar":
            p_yes = min(1.0, 2 * max(est.p_above(-m), est.p_below(m)))
            p_no = min(1.0, 2 * min(est.p_below(-m), est.p_above(m)))
        else:
            p_yes, p_no = min(1.0, 2 * est.p_above(-m)), min(1.0, 2 * est.p_below(-m))
        return Outcome(ours, n, p_yes, p_no, _undetectable(self.q, m, look, min(n.values()), a=va, b=vb),
                       estimate=numbers)


@dataclass(frozen=True)
class Level:
    """One configuration's mean against the claimed range [lo, hi] (either end may be open): yes when its
    interval lies inside, refuted when wholly outside."""

    label: str
    q: Quantity
    lo: float | None = None
    hi: float | None = None

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None:
            where = f"within {self.q.value(self.lo)}–{self.q.value(self.hi)}"
        else:
            where = f">= {self.q.value(self.lo)}" if self.lo is not None else f"<= {self.q.value(self.hi)}"
        return f"{self.label}'s mean {self.q.name}; claimed {where}"

    def labels(self) -> tuple[str, ...]:
        return (self.label,)

    def test(self, samples: Samples, look: Look = Look()) -> Outcome:
        v = self.q.values(samples.get(self.label, ()))
        if not v:
            return _not_run([self.label], samples, self.q)
        est, n = one_mean(v, self.q.resolution), {self.label: len(v)}
        ours = f"{self.label} {self.q.text(v)}"
        numbers = estimate(self.label, self.q, est, look, diff=False)
        if not est.enough:
            return Outcome(ours, n, untestable=_few(n), estimate=numbers)
        ours += f", interval {self.q.interval(est.interval(look.level))}{_level_text(look)}"
        inside = [p for p in (est.p_above(self.lo) if self.lo is not None else None,
                              est.p_below(self.hi) if self.hi is not None else None) if p is not None]
        outside = [p for p in (est.p_below(self.lo) if self.lo is not None else None,
                               est.p_above(self.hi) if self.hi is not None else None) if p is not None]
        return Outcome(ours, n, min(1.0, 2 * max(inside)), min(1.0, 2 * min(outside)), self._untestable(look, len(v)),
                       estimate=numbers)

    def _untestable(self, look: Look, n: int) -> str | None:
        """A two-ended range narrower than the interval the design gives at the cap cannot be confirmed (the
        design-based noise, `Look.noise`); an open range always can."""
        noise = look.noise.get(self.q.key)
        if noise is None or self.lo is None or self.hi is None:
            return None
        sd, df, configs = noise
        cap = look.cap or n
        width = 2 * float(stats.t.ppf(1 - look.cap_alpha / 2, df)) * sd / np.sqrt(cap)
        if width <= self.hi - self.lo:
            return None
        return (f"the interval at n = {cap} ({100 * (1 - look.cap_alpha):.3g}%; seed noise {self.q.size(sd)} pooled "
                f"over {configs} configurations, {df} df) is {self.q.size(width)} wide: it cannot fit inside the "
                f"claimed range ({self.q.size(self.hi - self.lo)} wide)")


@dataclass(frozen=True)
class NotLinear:
    """Do the means of ordered settings (labels ending in a number: 'cf 20') follow a straight line in that
    number? yes when the lack-of-fit F-test (pure error from the seeds) rejects the line; refuted when every
    setting's mean lies within ±margin of the fitted line (each interval of its deviation inside). Its power
    check: a deviation of the margin must be detectable at the cap, else "within noise of a line" would read as
    support for a line that the seeds could not have told from a curve."""

    labels_: tuple[str, ...]
    q: Quantity
    margin: float

    def describe(self) -> str:
        return (f"{self.q.name} of {self.labels_[0]}..{self.labels_[-1]} against a straight line in the setting; "
                f"claimed: not linear (some mean more than {self.q.size(self.margin)} off the line)")

    def labels(self) -> tuple[str, ...]:
        return self.labels_

    def test(self, samples: Samples, look: Look = Look()) -> Outcome:
        missing = _not_run(self.labels_, samples, self.q)
        if missing:
            return missing
        v = {lb: self.q.values(samples[lb]) for lb in self.labels_}
        n = {lb: len(x) for lb, x in v.items()}
        ours = ", ".join(f"{lb} {self.q.text(x)}" for lb, x in v.items())
        if len(v) < 3 or min(n.values()) < MIN_SEEDS:
            return Outcome(ours, n, untestable=f"needs >= 3 settings with >= {MIN_SEEDS} seeds each")
        x = np.concatenate([[float(lb.split()[-1])] * len(vals) for lb, vals in v.items()])
        y = np.concatenate(list(v.values()))
        slope, intercept = np.polyfit(x, y, 1)
        means = {lb: float(np.mean(vals)) for lb, vals in v.items()}
        fitted = {lb: slope * float(lb.split()[-1]) + intercept for lb in v}
        pure = sum(float(((np.asarray(vals) - means[lb]) ** 2).sum()) for lb, vals in v.items())
        df_pure, df_lack = len(y) - len(v), len(v) - 2
        if pure <= 0:
            return Outcome(ours, n, untestable=_few(n))
        lack = sum(len(vals) * (means[lb] - fitted[lb]) ** 2 for lb, vals in v.items())
        f = (lack / df_lack) / (pure / df_pure)
        p_yes = float(stats.f.sf(f, df_lack, df_pure))
        deviations = [Estimate(means[lb] - fitted[lb], float(np.sqrt(pure / df_pure / len(vals))), float(df_pure),
                               (len(vals),)) for lb, vals in v.items()]
        p_no = max(min(1.0, 2 * max(d.p_above(-self.margin), d.p_below(self.margin))) for d in deviations)
        worst = max(abs(d.value) for d in deviations)
        ours += f"; line {self.q.diff(slope)} per step, largest deviation {self.q.size(worst)}, lack-of-fit F {f:.2f}"
        return Outcome(ours, n, p_yes, p_no, _undetectable(self.q, self.margin, look, min(n.values()), sides=1,
                                                           what="deviation from the line"))


@dataclass(frozen=True)
class Count:
    """A figure that is what it is (the class counts of the data): yes or no with no noise to judge."""

    label: str
    holds: object  # record -> (holds: bool, ours: str)
    what: str

    def describe(self) -> str:
        return self.what

    def labels(self) -> tuple[str, ...]:
        return ()  # no seeds: the data's own figure

    def test(self, samples: Samples, look: Look = Look()) -> Outcome:
        rows = samples.get(self.label) or []
        if not rows:
            return _not_run([self.label], samples)
        ok, ours = self.holds(rows[0])
        return Outcome(ours, {self.label: len(rows)}, 0.0 if ok else 1.0, 1.0 if ok else 0.0)


# --- a claim: its tests as one family, combined by its wording, judged look by look ---

@dataclass(frozen=True)
class Judgement:
    verdict: str
    ours: str  # every number compared
    why: str  # what decided each test: adjusted p-values, too few seeds, what did not run
    n: dict[str, int] = field(default_factory=dict)
    estimates: tuple[dict, ...] = ()  # each test's estimate in numbers (`estimate()`), "part" its number in `ours`
    parts: tuple[str, ...] = ()  # each test's verdict, in the order of `estimates`' parts
    sequential: dict = field(default_factory=dict)  # the look it was judged at: `All.judge`


DECIDED = ("yes", "no")  # a test's verdicts that end its looks


def leaf_verdict(t: Outcome, yes: bool, no: bool, alpha: float = ALPHA) -> str:
    """One test's verdict from the family's rejections at this look (`yes`: its p_yes rejected, `no`: its p_no);
    untestable only where the interval at the look's level holds both zero and the claim (raw p-values at
    `alpha`): an interval that already excludes one is never untestable."""
    if t.missing:
        return "n/a"
    if no:
        return "no"
    if yes:
        return "yes"
    if t.p_yes is None:
        return "untestable"
    excludes = (t.p_yes is not None and t.p_yes < alpha) or (t.p_no is not None and t.p_no < alpha)
    return "untestable" if t.untestable and not excludes else "within noise"


def combine(verdicts: Sequence[str], independent: bool) -> str:
    """Several parts' verdicts as the claim's: a range statement holds only where every part holds; independent
    statements give partly when some hold and none is refuted."""
    vs = set(verdicts)
    if "no" in vs:
        return "no"
    if "n/a" in vs:
        return "n/a"
    if vs == {"yes"}:
        return "yes"
    if independent and vs & {"yes", "partly"}:
        return "partly"
    return "within noise" if "within noise" in vs or "partly" in vs else "untestable"


def family_noise(leaves: Sequence, samples: Samples) -> dict[str, tuple[float, int, int]]:
    """Each quantity's seed noise pooled over every configuration the family's tests read it from:
    {quantity key: (sd, df, configurations)} (noise.pooled_spread)."""
    by_q: dict[str, tuple[Quantity, dict[str, None]]] = {}
    for leaf in leaves:
        q = getattr(leaf, "q", None)
        if q is not None:
            by_q.setdefault(q.key, (q, {}))[1].update(dict.fromkeys(leaf.labels()))
    out = {}
    for key, (q, labels) in by_q.items():
        groups = [q.values(samples.get(lb, ())) for lb in labels]
        pooled = pooled_spread(groups, q.resolution)
        if pooled is not None:
            out[key] = (*pooled, sum(len(g) > 1 for g in groups))
    return out


def _truncated(samples: Samples, labels, n: int) -> dict:
    """The first n records (seeds in seed order) of each label a family reads; the other labels as they are."""
    return {**samples, **{lb: list(samples[lb])[:n] for lb in labels if lb in samples}}


@dataclass(frozen=True)
class All:
    """A claim's tests, one family: judged look by look (a sequential design, evaluation/sequential.py; one look
    in a fixed design) with Holm over the family at each look, then the verdicts combined by the claim's wording
    (`independent`: separate statements; otherwise one statement over a range)."""

    parts: tuple
    independent: bool = False

    def describe(self) -> str:
        how = ("independent statements: yes if all hold, partly if some do and none is refuted"
               if self.independent else "one statement over a range: yes only if every part holds, no if any "
                                        "is refuted")
        parts = "; ".join(f"({i}) {p.describe()}" for i, p in enumerate(self.parts, 1))
        return parts + (f". {how}; Holm over the {len(self.leaves())} tests" if len(self.leaves()) > 1 else "")

    def leaves(self) -> list:
        return [leaf for p in self.parts for leaf in (p.leaves() if isinstance(p, All) else [p])]

    def labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(lb for leaf in self.leaves() for lb in leaf.labels()))

    def judge(self, samples: Samples, design: Design | None = None) -> Judgement:
        """The claim at every look its seeds reach, in order, stopping at the first where it is decided (yes or
        no, or every test decided); a test decided at an earlier look keeps its verdict and its rejection frees
        its share of alpha (Holm). Without a design: one look at the seeds at hand, at ALPHA."""
        leaves, labels = self.leaves(), self.labels()
        seeds = [len(samples.get(lb) or ()) for lb in labels]
        n_min = min(seeds) if seeds else 0
        if design is None or design.look_at(n_min) is None:  # one look at the seeds at hand (of the labels run)
            design, looks = Design.fixed(max(min((s for s in seeds if s), default=1), 1), ALPHA), [0]
            replay = False
        else:
            looks, replay = list(range(design.look_at(n_min) + 1)), len(design.looks) > 1
        m = len(leaves)
        rejected_yes, rejected_no, kept = [False] * m, [False] * m, [None] * m
        for k in looks:
            at = _truncated(samples, labels, design.looks[k]) if replay else samples
            look = Look(design.level(k), design.cap if replay else None, design.level(len(design.looks) - 1,
                                                                                      design.alpha / max(m, 1)),
                        family_noise(leaves, at))
            tests = [leaf.test(at, look) for leaf in leaves]
            rejected_yes = holm_at_look([t.p_yes for t in tests], design, k, rejected_yes)
            rejected_no = holm_at_look([t.p_no for t in tests], design, k, rejected_no)
            verdicts = [kept[i] or leaf_verdict(t, rejected_yes[i], rejected_no[i], look.alpha)
                        for i, t in enumerate(tests)]
            kept = [v if v in DECIDED else None for v in verdicts]
            verdict = self._combine(dict(zip(map(id, leaves), verdicts, strict=True)))
            if verdict in DECIDED or all(v in (*DECIDED, "n/a") for v in verdicts):
                break
        decided = verdict in DECIDED or all(v in (*DECIDED, "n/a") for v in verdicts)
        return self._judgement(tests, verdicts, verdict, design, k, decided, look)

    def _judgement(self, tests, verdicts, verdict, design: Design, k: int, decided: bool, look: Look) -> Judgement:
        sequential = len(design.looks) > 1
        adj_yes, adj_no = holm([t.p_yes for t in tests]), holm([t.p_no for t in tests])
        whys = [_why(t, v, y, no, len(tests), look.alpha, sequential)
                for t, v, y, no in zip(tests, verdicts, adj_yes, adj_no, strict=True)]
        n: dict[str, int] = {}
        for t in tests:
            n.update(t.n)
        estimates = tuple({"part": i, **t.estimate} for i, t in enumerate(tests, 1) if t.estimate)
        seeds = design.looks[k]
        state = {"look": k + 1, "looks": len(design.looks), "seeds": seeds, "cap": design.cap,
                 "level": look.alpha, "decided": decided and verdict != "n/a",
                 "status": ("n/a" if verdict == "n/a" else f"decided at look {k + 1} ({seeds} seeds a side)" if decided
                            else "undecided at the cap" if seeds >= design.cap
                            else f"open: more seeds (next look at {design.looks[k + 1]} a side)")}
        if len(tests) == 1:
            return Judgement(verdict, tests[0].ours, whys[0], n, estimates, tuple(verdicts), state)
        return Judgement(verdict, "; ".join(f"({i}) {t.ours}" for i, t in enumerate(tests, 1)),
                         "; ".join(f"({i}) {w}" for i, w in enumerate(whys, 1)), n, estimates, tuple(verdicts),
                         state)

    def _combine(self, by_leaf: dict) -> str:
        return combine([p._combine(by_leaf) if isinstance(p, All) else by_leaf[id(p)] for p in self.parts],
                       self.independent)


def _why(t: Outcome, verdict: str, p_yes, p_no, family: int, alpha: float, sequential: bool) -> str:
    if t.missing:
        return f"n/a: {t.missing}"
    if sequential:  # the raw p-values against this look's level (Holm's steps: evaluation/sequential.py)
        ps = [f"{label} {p_text(p)}" for label, p in (("against the claim", t.p_no), ("for it", t.p_yes))
              if p is not None]
        text = f"{verdict}: " + ", ".join(ps) + (f" (look level {alpha:.2g}"
                                                 + (", Holm-stepped" if family > 1 else "") + ")" if ps else "")
    else:
        adjusted = " (Holm)" if family > 1 else ""
        ps = [f"{label} {p_text(p)}{adjusted}" for label, p in (("against the claim", p_no), ("for it", p_yes))
              if p is not None]
        text = f"{verdict}: " + ", ".join(ps) if ps else verdict
    if verdict in ("untestable", "within noise") and t.untestable:
        text += f"; {t.untestable}"
    return text


@dataclass(frozen=True)
class NotMeasured:
    """A sentence no run measures: untestable, with the reason (no number is invented for it)."""

    why: str

    def describe(self) -> str:
        return f"not measured: {self.why}"

    def labels(self) -> tuple[str, ...]:
        return ()

    def judge(self, samples: Samples = None, design: Design | None = None) -> Judgement:
        return Judgement("untestable", MISSING, f"untestable: {self.why}",
                         sequential={"status": "not measured", "decided": False})


def judge(criterion, samples: Samples, design: Design | None = None) -> Judgement:
    """Any criterion (one test, or All) judged as a family, at the looks of `design` (None: one look at ALPHA)."""
    return (criterion if isinstance(criterion, All) else All((criterion,))).judge(samples, design)


def describe(criterion) -> str:
    return criterion.describe()

"""Criteria: how a claim about measured numbers is judged, each decided and described by one object.

A criterion reads *samples*, {label: [record, ...]} with one record per run (a classifier's metrics.json, an
autoencoder's, a row of generated-image scores), and returns a Judgement: the verdict, every number it
compared (mean ± std (n), or a share with its interval), and why. `describe()` renders the rule in words from
the same thresholds `judge()` uses, so the report's text cannot drift from the decision. Pure: no file access.

Verdicts: yes, partly, no; "within noise" when the runs cannot tell (fewer than MIN_SEEDS seeds on a side, or
a test that does not reject at ALPHA); n/a when the runs a criterion needs are absent. ("by construction" is
given by the claims module, never by a criterion.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from multimnist.evaluation.noise import ALPHA, MIN_SEEDS, mean_interval, p_text, proportion_test, summarize, welch
from multimnist.formatting import MISSING

import numpy as np

Samples = Mapping[str, Sequence[dict]]  # label -> one record per run


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

    def values(self, records: Sequence[dict]) -> list[float]:
        out = []
        for r in records:
            for part in self.key.split("."):
                r = r.get(part) if isinstance(r, dict) else None
            if isinstance(r, (int, float)) and np.isfinite(r):
                out.append(float(r))
        return out

    def value(self, v: float) -> str:
        return f"{self.scale * v:.{self.digits}f}{self.unit}"

    def diff(self, d: float) -> str:
        return f"{self.scale * d:+.{self.digits}f}{self.diff_unit}"

    def text(self, values) -> str:
        """'90.1 ± 0.2% (n=3)': mean ± std of the values and how many."""
        return stat_text(summarize(values), self.scale, self.digits, self.unit)


def stat_text(s: dict, scale: float = 100.0, digits: int = 1, unit: str = "", n: bool = True) -> str:
    """A summary {"mean", "std", "n"} as 'mean ± std (n=N)'; the bare mean for one value; '–' for none."""
    if s["mean"] is None:
        return MISSING
    text = f"{scale * s['mean']:.{digits}f}"
    if s["std"] is not None:
        text += f" ± {scale * s['std']:.{digits}f}"
    return text + unit + (f" (n={s['n']})" if n else "")


TEST = Quantity("test_accuracy", "test accuracy")
BEST_VAL = Quantity("best_val_accuracy", "best validation accuracy")
VAL = Quantity("val_accuracy", "validation accuracy of the kept weights")
TRAIN = Quantity("train_accuracy", "training accuracy of the kept weights (inference mode)")
GAP = Quantity("train_val_gap", "train - validation gap", unit=" points")
RHO = Quantity("frequency_correlation.spearman_rho", "Spearman rho of per-class accuracy and class frequency",
               scale=1, digits=2, unit="", diff_unit="")
COUNT = Quantity("count", "test count", scale=1, digits=1, unit="", diff_unit="")
MSE = Quantity("test_mse", "test MSE", scale=1, digits=5, unit="", diff_unit="")
OUTSIDE_UNIT = Quantity("latent_values_outside_unit_share", "share of latent values outside [0, 1]", digits=0)
RISE = Quantity("val_loss_rise", "rise of the last validation loss over its minimum", digits=0)
MIN_EPOCH = Quantity("val_loss_min_epoch", "epoch of minimum validation loss", scale=1, digits=0, unit="",
                     diff_unit=" epochs")


# --- criteria: each decides and describes itself ---

@dataclass(frozen=True)
class Judgement:
    verdict: str
    ours: str  # every number compared, mean ± std (n) or with its interval
    why: str  # what decided: the test and its p-value, too few seeds, what did not run
    n: dict[str, int] = field(default_factory=dict)  # runs (or images) on each side


class Criterion(Protocol):
    def describe(self) -> str: ...

    def judge(self, samples: Samples) -> Judgement: ...


def _not_run(labels, samples: Samples, q: Quantity | None = None) -> Judgement | None:
    """n/a naming the labels without a single value, or None when every label has some."""
    missing = [lb for lb in labels if not (q.values(samples.get(lb, ())) if q else samples.get(lb))]
    if missing:
        return Judgement("n/a", MISSING, "not run: " + ", ".join(missing), {lb: 0 for lb in missing})
    return None


def _range_text(lo, hi, q: Quantity) -> str:
    if lo is not None and hi is not None:
        return f"within {q.value(lo)}–{q.value(hi)}"
    return f">= {q.value(lo)}" if lo is not None else f"<= {q.value(hi)}"


def _outside_text(lo, hi, q: Quantity) -> str:
    if lo is not None and hi is not None:
        return f"outside {q.value(lo)}–{q.value(hi)}"
    return f"below {q.value(lo)}" if lo is not None else f"above {q.value(hi)}"


def _inside(ci, lo, hi) -> bool:
    return (lo is None or ci[0] >= lo) and (hi is None or ci[1] <= hi)


def _outside(ci, lo, hi) -> bool:
    return (lo is not None and ci[1] < lo) or (hi is not None and ci[0] > hi)


@dataclass(frozen=True)
class InRange:
    """The mean of one configuration's runs against a fixed range, with its 95% t interval."""

    label: str
    q: Quantity
    lo: float | None = None
    hi: float | None = None
    partly_lo: float | None = None  # a wider range that counts as partly
    partly_hi: float | None = None

    def _widest(self):
        wide = self.partly_lo is not None or self.partly_hi is not None
        return (self.partly_lo, self.partly_hi) if wide else (self.lo, self.hi)

    def describe(self) -> str:
        text = (f"yes if the {100 * (1 - ALPHA):.0f}% interval of {self.label}'s mean {self.q.name} over >= "
                f"{MIN_SEEDS} seeds lies {_range_text(self.lo, self.hi, self.q)}")
        if self._widest() != (self.lo, self.hi):
            text += f", partly if {_range_text(*self._widest(), self.q)}"
        return text + f"; no if it lies wholly {_outside_text(*self._widest(), self.q)}"

    def judge(self, samples: Samples) -> Judgement:
        v = self.q.values(samples.get(self.label, ()))
        if not v:
            return _not_run([self.label], samples, self.q)
        ci, n = mean_interval(v), {self.label: len(v)}
        ours = f"{self.label} {self.q.text(v)}"
        if ci is None:
            return Judgement("within noise", ours, f"fewer than {MIN_SEEDS} seeds ({len(v)})", n)
        ours += f", interval {self.q.value(ci[0])}–{self.q.value(ci[1])}"
        if _inside(ci, self.lo, self.hi):
            return Judgement("yes", ours, f"interval {_range_text(self.lo, self.hi, self.q)}", n)
        if self._widest() != (self.lo, self.hi) and _inside(ci, *self._widest()):
            return Judgement("partly", ours, f"interval {_range_text(*self._widest(), self.q)}", n)
        if _outside(ci, *self._widest()):
            return Judgement("no", ours, f"interval {_outside_text(*self._widest(), self.q)}", n)
        return Judgement("within noise", ours, "the interval straddles a bound", n)


@dataclass(frozen=True)
class Differs:
    """Two configurations' means, Welch's t-test: is `a` higher (direction +1) or lower (-1) than `b`?"""

    a: str
    b: str
    q: Quantity
    direction: int
    at_least: float | None = None  # a smaller difference beyond noise is partly
    base_zero_na: bool = False  # n/a when b's mean is 0: nothing to cut

    def describe(self) -> str:
        way, other = ("higher", "lower") if self.direction > 0 else ("lower", "higher")
        text = f"yes if {self.a}'s {self.q.name} is {way} than {self.b}'s beyond noise ({_noise_rule()})"
        if self.at_least is not None:
            text += f" by at least {self.q.diff(self.at_least).lstrip('+')}, partly if by less"
        text += f"; no if {other} beyond noise"
        return text + (f"; n/a if {self.b}'s is 0" if self.base_zero_na else "")

    def judge(self, samples: Samples) -> Judgement:
        missing = _not_run([self.a, self.b], samples, self.q)
        if missing:
            return missing
        va, vb = self.q.values(samples[self.a]), self.q.values(samples[self.b])
        t, n = welch(va, vb), {self.a: len(va), self.b: len(vb)}
        ours = f"{self.a} {self.q.text(va)} vs {self.b} {self.q.text(vb)}: {self.q.diff(t.diff)}"
        if self.base_zero_na:
            if not np.mean(vb):
                return Judgement("n/a", ours, f"{self.b}'s {self.q.name} is 0: nothing to cut", n)
            ours += f" ({100 * t.diff / np.mean(vb):+.0f}%)"
        sign = t.sign()
        if sign == 0:
            return Judgement("within noise", ours, t.why(), n)
        if sign != self.direction:
            return Judgement("no", ours, t.why(), n)
        small = self.at_least is not None and abs(t.diff) < self.at_least
        return Judgement("partly" if small else "yes", ours, t.why(), n)


def _noise_rule() -> str:
    return f"Welch's t-test p < {ALPHA:g}, >= {MIN_SEEDS} seeds a side"


@dataclass(frozen=True)
class Rank:
    """The claimed winner among configurations: best mean, and beyond noise of the runner-up."""

    labels: tuple[str, ...]
    winner: str
    q: Quantity
    higher_better: bool = True

    def describe(self) -> str:
        best = "highest" if self.higher_better else "lowest"
        return (f"yes if {self.winner} has the {best} mean {self.q.name} of {', '.join(self.labels)} and beats the "
                f"runner-up beyond noise ({_noise_rule()}); no if another beats it beyond noise")

    def judge(self, samples: Samples) -> Judgement:
        missing = _not_run(self.labels, samples, self.q)
        if missing:
            return missing
        v = {lb: self.q.values(samples[lb]) for lb in self.labels}
        order = sorted(self.labels, key=lambda lb: np.mean(v[lb]), reverse=self.higher_better)
        ours = ", ".join(f"{lb} {self.q.text(v[lb])}" for lb in self.labels)
        n, better = {lb: len(v[lb]) for lb in self.labels}, 1 if self.higher_better else -1
        if order[0] == self.winner:
            t = welch(v[self.winner], v[order[1]])
            verdict = "yes" if t.sign() == better else "within noise"
            return Judgement(verdict, ours, f"{self.winner} best; against runner-up {order[1]} "
                                            f"{self.q.diff(t.diff)}, {t.why()}", n)
        t = welch(v[order[0]], v[self.winner])
        verdict = "no" if t.sign() == better else "within noise"
        return Judgement(verdict, ours, f"{order[0]} best, {self.q.diff(t.diff)} against {self.winner}, "
                                        f"{t.why()}", n)


@dataclass(frozen=True)
class NotMonotone:
    """Does the mean fall somewhere as the (ordered) labels go up, beyond noise?"""

    labels: tuple[str, ...]
    q: Quantity

    @property
    def alpha(self) -> float:  # Bonferroni: one test per adjacent pair
        return ALPHA / max(1, len(self.labels) - 1)

    def describe(self) -> str:
        return (f"yes if some adjacent pair of {self.labels[0]}..{self.labels[-1]} is reversed (the later has the "
                f"lower mean {self.q.name}) beyond noise: Welch's t-test p < {ALPHA:g}/{len(self.labels) - 1} "
                f"(Bonferroni over the adjacent pairs), >= {MIN_SEEDS} seeds each; no if every adjacent pair "
                "rises beyond noise")

    def judge(self, samples: Samples) -> Judgement:
        missing = _not_run(self.labels, samples, self.q)
        if missing:
            return missing
        v = {lb: self.q.values(samples[lb]) for lb in self.labels}
        tests = [(a, b, welch(v[b], v[a])) for a, b in zip(self.labels, self.labels[1:], strict=False)]
        ours = ", ".join(f"{lb} {self.q.text(v[lb])}" for lb in self.labels)
        n = {lb: len(v[lb]) for lb in self.labels}
        if len(tests) < 1:
            return Judgement("n/a", ours, "one setting: nothing to order", n)
        reversed_ = [(a, b, t) for a, b, t in tests if t.sign(self.alpha) < 0]
        if reversed_:
            a, b, t = reversed_[0]
            return Judgement("yes", ours, f"{b} below {a}: {self.q.diff(t.diff)}, {t.why(self.alpha)} "
                                          f"({len(reversed_)} reversed pair(s))", n)
        if all(t.sign(self.alpha) > 0 for _, _, t in tests):
            return Judgement("no", ours, "every adjacent pair rises beyond noise", n)
        few = [t for _, _, t in tests if not t.enough]
        why = few[0].why() if few else f"no adjacent pair reversed at p < {self.alpha:.4f}"
        return Judgement("within noise", ours, why, n)


@dataclass(frozen=True)
class Cure:
    """Does `treated` remove `base`'s overfitting: a smaller train - validation gap beyond noise, bought without a
    lower validation accuracy beyond noise (a gap closed by underfitting is not a cure)?"""

    treated: str
    base: str
    max_gap: float | None = None  # yes also needs the treated mean gap below this (else partly)
    max_ratio: float | None = None  # ... or at most this share of base's mean gap

    def _enough(self, gap: float, base_gap: float) -> bool:
        return (self.max_gap is None or gap < self.max_gap) and (self.max_ratio is None
                                                                  or gap <= self.max_ratio * base_gap)

    def describe(self) -> str:
        size = " and ".join(([f"below {GAP.value(self.max_gap)}"] if self.max_gap is not None else [])
                            + ([f"at most {self.max_ratio:g} of {self.base}'s"] if self.max_ratio is not None
                               else []))
        text = (f"yes if {self.treated}'s {GAP.name} is smaller than {self.base}'s beyond noise ({_noise_rule()}) "
                f"while its {VAL.name} is not lower beyond noise")
        if size:
            text += f", with a mean gap {size} (partly if not)"
        return text + ("; no if the gap is larger beyond noise, or smaller only with a lower validation accuracy "
                       "beyond noise (underfitting, not a cure)")

    def judge(self, samples: Samples) -> Judgement:
        labels = [self.treated, self.base]
        missing = _not_run(labels, samples, GAP) or _not_run(labels, samples, VAL)
        if missing:
            return missing
        g = {lb: GAP.values(samples[lb]) for lb in labels}
        v = {lb: VAL.values(samples[lb]) for lb in labels}
        tg, tv = welch(g[self.treated], g[self.base]), welch(v[self.treated], v[self.base])
        ours = (f"gap {self.treated} {GAP.text(g[self.treated])} vs {self.base} {GAP.text(g[self.base])}; "
                f"validation {VAL.text(v[self.treated])} vs {VAL.text(v[self.base])}")
        why = f"gap {GAP.diff(tg.diff)}, {tg.why()}; validation {VAL.diff(tv.diff)}, {tv.why()}"
        n = {lb: min(len(g[lb]), len(v[lb])) for lb in labels}
        if tg.sign() > 0:
            return Judgement("no", ours, why, n)
        if tg.sign() == 0:
            return Judgement("within noise", ours, why, n)
        if tv.sign() < 0:
            return Judgement("no", ours, why + ": underfitting, not a cure", n)
        big = not self._enough(np.mean(g[self.treated]), np.mean(g[self.base]))
        return Judgement("partly" if big else "yes", ours, why, n)


@dataclass(frozen=True)
class ClassSpread:
    """Training-set class counts against the study's mean and std (their ratio: a smaller profile scales counts)."""

    mean: float
    std: float
    rel_tol: float = 0.03

    def describe(self) -> str:
        return (f"yes if the std/mean ratio of the training class counts is within {100 * self.rel_tol:.0f}% of the "
                f"study's ({self.std:.0f}/{self.mean:.0f}; the quick profile scales the counts down)")

    def judge(self, samples: Samples) -> Judgement:
        rows = samples.get("training set") or []
        if not rows:
            return _not_run(["training set"], samples)
        m, s = rows[0]["mean"], rows[0]["std"]
        ratio, target = s / m, self.std / self.mean
        ok = abs(ratio / target - 1) <= self.rel_tol
        return Judgement("yes" if ok else "no", f"mean {m:.0f}, std {s:.0f} per class (std/mean {ratio:.3f})",
                         f"study std/mean {target:.3f}", {"classes": int(rows[0].get("n_classes", 0))})


# --- generated images: shares with intervals, counts with exact tests ---

def _row(samples: Samples, label: str) -> dict | None:
    rows = samples.get(label) or []
    return rows[0] if rows else None


def _share_text(row: dict, key: str, ci_key: str) -> str:
    share, ci = row.get(key), row.get(ci_key)
    if share is None:
        return MISSING
    interval = f" [{100 * ci[0]:.1f}–{100 * ci[1]:.1f}]" if ci else ""
    return f"{100 * share:.1f}%{interval}"


@dataclass(frozen=True)
class ShareHigher:
    """One image set's share (of `total` images, `count` hits) against another's, Fisher's exact test."""

    a: str
    b: str
    count: str = "readable"
    total: str = "n"
    share: str = "readable_share"
    name: str = "readable share"

    def describe(self) -> str:
        return (f"yes if {self.a}'s {self.name} is higher than {self.b}'s beyond noise (Fisher's exact test on the "
                f"counts, p < {ALPHA:g}); no if lower beyond noise")

    def judge(self, samples: Samples) -> Judgement:
        ra, rb = _row(samples, self.a), _row(samples, self.b)
        if ra is None or rb is None:
            return _not_run([self.a, self.b], samples)
        p = proportion_test(ra[self.count], ra[self.total], rb[self.count], rb[self.total])
        name_a = ra.get("sampler", self.a)
        ours = (f"{name_a} {_share_text(ra, self.share, self.share + '_ci')} (n={ra[self.total]}) vs {self.b} "
                f"{_share_text(rb, self.share, self.share + '_ci')} (n={rb[self.total]})")
        n = {name_a: ra[self.total], self.b: rb[self.total]}
        if p is None:
            return Judgement("n/a", ours, "no images", n)
        why = f"Fisher {p_text(p)}"
        if p >= ALPHA:
            return Judgement("within noise", ours, why + f" >= {ALPHA:g}", n)
        return Judgement("yes" if ra[self.share] > rb[self.share] else "no", ours, why, n)


@dataclass(frozen=True)
class DiversityHigher:
    """Distinct numbers read on the same number of readable images (equal_n) per set: the permutation test that
    scores.json records for the pair when it has one, else the two sets' intervals."""

    a: str
    b: str
    key: str = "distinct_numbers"
    name: str = "distinct numbers read (on equal_n readable images each)"

    def describe(self) -> str:
        return (f"yes if {self.a}'s {self.name} is higher than {self.b}'s beyond noise: the permutation test "
                f"recorded in scores.json (p < {ALPHA:g}), or where none is recorded, {self.a}'s 95% interval "
                f"wholly above {self.b}'s; no if lower beyond noise")

    def judge(self, samples: Samples) -> Judgement:
        ra, rb = _row(samples, self.a), _row(samples, self.b)
        if ra is None or rb is None:
            return _not_run([self.a, self.b], samples)
        n = {f"{self.a} readable": ra.get("readable", 0), f"{self.b} readable": rb.get("readable", 0)}
        if ra.get(self.key) is None or rb.get(self.key) is None:
            return Judgement("within noise", MISSING, "too few readable images for a diversity figure", n)
        ia, ib = ra.get(self.key + "_ci"), rb.get(self.key + "_ci")
        ours = (f"{self.a} {ra[self.key]:.1f} [{ia[0]:.1f}–{ia[1]:.1f}] vs {self.b} {rb[self.key]:.1f} "
                f"[{ib[0]:.1f}–{ib[1]:.1f}]" if ia and ib else f"{self.a} {ra[self.key]:.1f} vs {self.b} "
                                                                f"{rb[self.key]:.1f}")
        test = _recorded_test(samples.get("comparisons") or [], self.a, self.b, self.key)
        if test is not None:
            diff, p = test
            why = f"permutation test {p_text(p)}"
            if p >= ALPHA:
                return Judgement("within noise", ours, why + f" >= {ALPHA:g}", n)
            return Judgement("yes" if diff > 0 else "no", ours, why, n)
        if not (ia and ib):
            return Judgement("within noise", ours, "no interval and no recorded test", n)
        if ia[0] > ib[1]:
            return Judgement("yes", ours, "intervals apart", n)
        if ia[1] < ib[0]:
            return Judgement("no", ours, "intervals apart", n)
        return Judgement("within noise", ours, "the intervals overlap", n)


def _recorded_test(comparisons, a: str, b: str, measure: str) -> tuple[float, float] | None:
    """(difference a - b, p-value) of scores.json's recorded comparison of a and b on `measure`, if any."""
    for c in comparisons:
        if c.get("measure") != measure or c.get("p_value") is None or c.get("difference") is None:
            continue
        if (c.get("sampler"), c.get("against")) == (a, b):
            return c["difference"], c["p_value"]
        if (c.get("sampler"), c.get("against")) == (b, a):
            return -c["difference"], c["p_value"]
    return None


@dataclass(frozen=True)
class IntervalAboveRate:
    """One set's share, with its 95% interval, against another set's rate (a reference, such as real images)."""

    a: str
    b: str
    key: str  # the share
    ci: str  # its [lo, hi]
    name: str

    def describe(self) -> str:
        return (f"yes if the 95% interval of {self.a}'s {self.name} lies wholly above {self.b}'s rate; no if "
                "wholly below it; within noise if it contains it")

    def judge(self, samples: Samples) -> Judgement:
        ra, rb = _row(samples, self.a), _row(samples, self.b)
        if ra is None or rb is None:
            return _not_run([self.a, self.b], samples)
        ci, rate = ra.get(self.ci), rb.get(self.key)
        n = {f"{self.a} readable": ra.get("readable", 0), f"{self.b} readable": rb.get("readable", 0)}
        ours = f"{self.a} {_share_text(ra, self.key, self.ci)} vs {self.b} {_share_text(rb, self.key, '')}"
        if ci is None or rate is None:
            return Judgement("within noise", ours, "no readable images to count", n)
        if ci[0] > rate:
            return Judgement("yes", ours, "interval above the rate", n)
        if ci[1] < rate:
            return Judgement("no", ours, "interval below the rate", n)
        return Judgement("within noise", ours, "the interval contains the rate", n)


# --- claims of several parts ---

def combine(verdicts: Sequence[str]) -> str:
    """A claim of several parts: yes if all hold, no if none holds and one is contradicted, within noise if none is
    decided, partly if some hold; n/a if a part could not be judged."""
    vs = set(verdicts)
    if "n/a" in vs:
        return "n/a"
    for only in ("yes", "no", "within noise"):
        if vs == {only}:
            return only
    return "partly" if vs & {"yes", "partly"} else "no"


@dataclass(frozen=True)
class All:
    parts: tuple

    def describe(self) -> str:
        parts = "; ".join(f"({i}) {p.describe()}" for i, p in enumerate(self.parts, 1))
        return (f"{parts}. The claim: yes if every part is yes, partly if some are, no if none is and one is no, "
                "within noise if every part is")

    def judge(self, samples: Samples) -> Judgement:
        js = [p.judge(samples) for p in self.parts]
        n: dict[str, int] = {}
        for j in js:
            n.update(j.n)
        return Judgement(combine([j.verdict for j in js]), "; ".join(f"({i}) {j.ours}" for i, j in enumerate(js, 1)),
                         "; ".join(f"({i}) {j.verdict}: {j.why}" for i, j in enumerate(js, 1)), n)

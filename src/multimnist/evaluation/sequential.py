"""Seeds until a claim is decided: a group-sequential design whose error rates hold over repeated looks.

Three seeds a side cannot decide many of the study's claims, and looking again after adding seeds, then again,
inflates the error rate of a fixed-level test. The rule here is the standard answer (Jennison & Turnbull, *Group
Sequential Methods with Applications to Clinical Trials*, Chapman & Hall/CRC 2000):

- **A fixed look schedule** of seeds per side, `Design.looks` (3, 5, 10 by default; the last is the cap,
  `max_seeds`). The information fraction of look k is t_k = n_k / n_max.
- **Alpha spending** (Lan & DeMets, Biometrika 1983; J&T ch. 7): the two-sided error `alpha` is spent over the
  looks by a spending function, the O'Brien-Fleming type  alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))  by default
  (little spent early: three seeds decide only an overwhelming difference), or the Pocock type
  alpha(t) = alpha ln(1 + (e - 1) t) (Kim & DeMets 1987). Look k's critical value c_k is the one at which the
  probability under the null of crossing first at look k equals alpha(t_k) - alpha(t_{k-1}), computed by the
  recursive numerical integration of Armitage, McPherson & Rowe (1969; J&T ch. 19) over the joint normal
  distribution of the looks' statistics. Its **nominal level** alpha_k = 2 (1 - Phi(c_k)).
- **Unknown variance** (J&T section 11.3, the "significance level approach"): at look k each test (Welch's t, a
  one-sample t) is run at the nominal level alpha_k with its own degrees of freedom.
- **Repeated confidence intervals** (J&T ch. 9): look k's interval is the estimate's (1 - alpha_k) interval; the
  sequence keeps simultaneous coverage 1 - alpha over all looks, so a verdict read off any look's interval
  (whether it excludes zero, or the claimed effect) keeps its error rate whenever the looks stop.
- **Holm over a family at each look** (Maurer & Bretz, Statistics in Biopharmaceutical Research 2013, the
  graphical approach for group-sequential trials, Holm as its special case): each of m hypotheses gets the
  spending function at level alpha / m; once r are rejected (at this look or an earlier one, where they stay
  rejected) the rest are tested at the boundaries of level alpha / (m - r), step down.

The claims engine (report/criteria.py, report/claims.py) replays the looks on a run's seeds in seed order: at
look k it judges every claim on the first n_k seeds of each configuration it compares, at that look's levels; a
claim decided at look k keeps that verdict; one still open at the cap is "undecided at the cap".
`more_seeds` names the configurations an open claim compares, which the pipeline trains further (as one pack
each) before the next look. `tests/test_sequential.py` simulates the rule under the null and under an effect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

ALPHA = 0.05
LOOKS = (3, 5, 10)  # seeds per side at each look; the last is the cap
SPENDING = ("obrien-fleming", "pocock")


def spent(t: float, alpha: float, spending: str = "obrien-fleming") -> float:
    """The error spent by information fraction t in (0, 1] (Lan-DeMets; Kim-DeMets for the Pocock type)."""
    if t <= 0:
        return 0.0
    if spending == "obrien-fleming":
        return float(2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / math.sqrt(t)))
    if spending == "pocock":
        return float(alpha * math.log(1 + (math.e - 1) * min(t, 1.0)))
    raise ValueError(f"unknown spending function {spending!r}: one of {', '.join(SPENDING)}")


@lru_cache(maxsize=256)
def boundaries(fractions: tuple[float, ...], alpha: float, spending: str = "obrien-fleming") -> tuple[float, ...]:
    """Two-sided critical values c_k of the looks' z statistics at information fractions `fractions` (increasing,
    the last 1): the null's probability of first crossing |Z_k| >= c_k at look k is the error spent between looks.

    The density of Z_k on the paths not yet stopped is carried from look to look on a grid (the score
    S_k = Z_k sqrt(t_k) has independent normal increments of variance t_k - t_{k-1}).
    """
    grid = np.linspace(-8.0, 8.0, 1601)  # dz 0.01: critical values within ~3e-4 of a 4x finer grid
    dz = grid[1] - grid[0]
    density, previous, out = stats.norm.pdf(grid), 0.0, []
    for k, t in enumerate(fractions):
        if k:
            t0 = fractions[k - 1]
            alive = np.abs(grid) < out[-1]
            kernel = stats.norm.pdf((grid[:, None] * math.sqrt(t) - grid[None, alive] * math.sqrt(t0))
                                    / math.sqrt(t - t0)) * math.sqrt(t / (t - t0))
            density = kernel @ (density[alive] * dz)  # (grid,) the sub-density of Z_k on continuing paths
        target = spent(t, alpha, spending) - spent(previous, alpha, spending)
        previous = t
        # mass beyond +-c as c grows (trapezoid over the grid's symmetric tails)
        inside = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * dz)])
        total = inside[-1]
        tails = total - np.interp(grid, grid, inside) + np.interp(-grid, grid, inside)  # mass of |Z| >= c, c = grid
        positive = grid > 0
        c_grid, tail_grid = grid[positive], tails[positive]
        if target <= 0:
            out.append(math.inf)
            continue
        # tail mass falls as c grows: the c where it crosses the target (linear between grid points)
        out.append(float(np.interp(-target, -tail_grid, c_grid)))
    return tuple(out)


@dataclass(frozen=True)
class Design:
    """A group-sequential design: seeds per side at each look, the error rate and how it is spent.

    `Design.fixed(n)` is one look at n seeds: every test at `alpha`, as a design without further seeds.
    """

    looks: tuple[int, ...] = LOOKS
    alpha: float = ALPHA
    spending: str = "obrien-fleming"

    def __post_init__(self):
        if not self.looks or list(self.looks) != sorted(set(self.looks)) or self.looks[0] < 1:
            raise ValueError(f"looks must be increasing seed counts, got {self.looks}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        spent(1.0, self.alpha, self.spending)  # names the spending function or fails

    @classmethod
    def fixed(cls, n: int, alpha: float = ALPHA) -> Design:
        return cls((n,), alpha)

    @classmethod
    def up_to(cls, first: int, max_seeds: int | None, alpha: float = ALPHA, spending: str = "obrien-fleming",
              schedule: Sequence[int] = LOOKS) -> Design:
        """Looks at `first` seeds, then the schedule's points above it up to `max_seeds` (which is always the last
        look); a fixed design when max_seeds is None or not above `first`."""
        if not max_seeds or max_seeds <= first:
            return cls.fixed(first, alpha)
        looks = sorted({first, *(s for s in schedule if first < s < max_seeds), max_seeds})
        return cls(tuple(looks), alpha, spending)

    @property
    def cap(self) -> int:
        return self.looks[-1]

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(n / self.cap for n in self.looks)

    def level(self, look: int, alpha: float | None = None) -> float:
        """The two-sided nominal level of look `look` (0-based) for a hypothesis given `alpha` (the design's by
        default; a Holm step gives alpha / (m - r))."""
        alpha = float(self.alpha if alpha is None else alpha)
        if look == 0:  # exact: nothing is spent before the first look (one look: alpha itself)
            return spent(self.fractions[0], alpha, self.spending)
        return float(2 * stats.norm.sf(boundaries(self.fractions, alpha, self.spending)[look]))

    def levels(self, alpha: float | None = None) -> tuple[float, ...]:
        return tuple(self.level(k, alpha) for k in range(len(self.looks)))

    def look_at(self, n: int) -> int | None:
        """The last look `n` seeds a side reach (0-based), None below the first."""
        reached = [k for k, s in enumerate(self.looks) if s <= n]
        return reached[-1] if reached else None

    def describe(self) -> str:
        if len(self.looks) == 1:
            return f"a fixed design: one look at {self.looks[0]} seeds a side, two-sided alpha {self.alpha:g}"
        levels = ", ".join(f"{n} seeds: {a:.2g}" for n, a in zip(self.looks, self.levels(), strict=True))
        name = {"obrien-fleming": "O'Brien-Fleming", "pocock": "Pocock"}[self.spending]
        return (f"a group-sequential design (Lan-DeMets alpha spending, {name} type; Jennison & Turnbull 2000): "
                f"looks at {', '.join(map(str, self.looks))} seeds a side, two-sided alpha {self.alpha:g} spent "
                f"over them; nominal level per look {levels}")


def holm_at_look(pvalues: Sequence[float | None], design: Design, look: int,
                 rejected_before: Sequence[bool] | None = None) -> list[bool]:
    """Which hypotheses of one family are rejected by look `look`: Holm step-down on the group-sequential
    boundaries (Maurer & Bretz 2013). A hypothesis rejected at an earlier look stays rejected and frees its share
    of alpha; the open ones, smallest p first, are tested at look `look`'s nominal level for alpha / (m - r),
    r the rejections so far; the first that fails stops the step-down. None: no test (not counted in m)."""
    before = list(rejected_before) if rejected_before is not None else [False] * len(pvalues)
    counted = [i for i, p in enumerate(pvalues) if p is not None or before[i]]
    m = len(counted)
    rejected = [bool(before[i]) for i in range(len(pvalues))]
    r = sum(rejected[i] for i in counted)
    for p, i in sorted((pvalues[i], i) for i in counted if not rejected[i] and pvalues[i] is not None):
        if p >= design.level(look, design.alpha / (m - r)):
            break
        rejected[i], r = True, r + 1
    return rejected


def more_seeds(open_claims: Iterable[str], configs: Mapping[str, Sequence[str]]) -> list[str]:
    """The configurations to train further before the next look: every configuration an open claim (undecided
    and not at the cap) compares, each once, in order. `configs`: claim key -> the configurations it compares
    (report/claims.py `Claim.configs`)."""
    out: dict[str, None] = {}
    for key in open_claims:
        out.update(dict.fromkeys(configs.get(key, ())))
    return list(out)


def next_look(design: Design, n: int) -> int | None:
    """Seeds a side for the next look after `n`, None at or past the cap."""
    later = [s for s in design.looks if s > n]
    return later[0] if later else None

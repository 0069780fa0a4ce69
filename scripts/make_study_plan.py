"""Make the study's class plan: how many training images each class 1..50 gets.

The study (section 1, figure 2) gives four counts exactly (43: 117, 17: 130, 11: 3112, 19: 2890) and the
summary mean ~1671 and std ~1045 over 50 classes; the rest of its histogram is not published. We fill the
other 46 classes with the quantiles of a Beta(a, b) distribution stretched over (130, 2890), solve a and b
so the 50 counts hit mean 1671 and std 1045, round, and hand the 46 counts to the classes in an order drawn
with a fixed seed. The result is written to src/multimnist/data/plans/study.yaml; rerunning this script
reproduces it byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from multimnist.files import write_text
from multimnist.paper import CLASS_COUNTS

import numpy as np
from scipy import optimize, stats

FIXED = {k: v for k, v in CLASS_COUNTS.items() if isinstance(k, int)}  # the four counts the study gives
MEAN, STD, N_CLASSES, SEED = float(CLASS_COUNTS["mean"]), float(CLASS_COUNTS["std"]), 50, 2021
LO, HI = 131, 2889  # the free classes stay strictly between the study's 17 (130) and 19 (2890)
OUT = Path(__file__).resolve().parents[1] / "src" / "multimnist" / "data" / "plans" / "study.yaml"


def free_counts(a: float, b: float, n: int) -> np.ndarray:
    q = stats.beta.ppf((np.arange(n) + 0.5) / n, a, b)
    return LO + (HI - LO) * q


def plan_text() -> str:
    """The plan file's text: the same bytes on every run (tests/test_scripts.py compares it with the committed one)."""
    n_free = N_CLASSES - len(FIXED)
    fixed = np.array(list(FIXED.values()), dtype=float)

    def residual(ab: np.ndarray) -> list[float]:
        c = np.concatenate([fixed, free_counts(*np.exp(ab), n_free)])
        return [c.mean() - MEAN, c.std() - STD]

    sol = optimize.root(residual, x0=np.log([0.6, 0.6]))
    a, b = np.exp(sol.x)
    counts = np.rint(free_counts(a, b, n_free)).astype(int)
    counts[np.argmax(counts)] += int(round(MEAN * N_CLASSES)) - int(counts.sum() + fixed.sum())
    free_classes = [c for c in range(1, N_CLASSES + 1) if c not in FIXED]
    order = np.random.default_rng(SEED).permutation(n_free)
    plan = dict(FIXED)
    plan.update({cls: int(counts[i]) for cls, i in zip(free_classes, order, strict=True)})
    allc = np.array([plan[c] for c in range(1, N_CLASSES + 1)])

    lines = [
        "# The study's class plan: training images per class (test gets the same proportions).",
        "# Made by scripts/make_study_plan.py: classes 43, 17, 11 and 19 as the study gives them; the other",
        f"# 46 are Beta({a:.4f}, {b:.4f}) quantiles over ({LO}, {HI}), rounded, in an order drawn with seed {SEED},",
        f"# so that the 50 counts have mean {allc.mean():.2f} and std {allc.std():.2f} (study: ~1671 and ~1045).",
        f"# Total {allc.sum()} training images.",
        "counts:",
    ]
    lines += [f"  {c}: {plan[c]}" for c in range(1, N_CLASSES + 1)]
    return "\n".join(lines) + "\n"


def main() -> int:
    write_text(OUT, plan_text())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

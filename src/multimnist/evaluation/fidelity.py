"""How closely one training run's learning curves follow the study's unregularized network (section 3.2-3.3).

The study's text gives the curve's shape, not only its end: training accuracy near 100% ("almost memorized
the training set"), an "optimal state after 10 epochs", validation that "reached 91,5% after 14 epochs and
remained stable till the end". Each becomes a target below, read from a run's per-epoch history. Each target
has a *distance* (0 when it is met) in a unit worth about one accuracy point, times a weight; the fidelity
score is their weighted sum: lower is closer to the study, 0 is every target met and best validation exactly
91.5. docs/calibration.md explains every threshold and weight.

The study's "the validation loss kept to slightly grow after 15 epochs" is not a target: it describes the
LeakyReLU network's divergence (section 3.1), which sets it apart from the sigmoid network scored here.

Test accuracy is never an input: the score chooses data, and choosing on test accuracy would tune to it.
The targets are stated for the study's 50 epochs; a shorter history gives an indicative score only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

TRAIN_ACCURACY_MIN = 99.0  # % at the last epoch: the study's "almost memorized" (~100%)
PLATEAU_DEADLINE = 15  # epoch by which validation accuracy must be within PLATEAU_MARGIN of its best
PLATEAU_MARGIN = 1.0  # accuracy points; also how far below its best validation may fall once it plateaued
BEST_VAL_TARGET = 91.5  # % the study's best validation accuracy
BEST_VAL_TOLERANCE = 1.0  # points either side that count as met (one seed's spread is ~0.2-0.5)


@dataclass(frozen=True)
class Reading:
    """One target read on one history: its value, whether it is met, and its weighted share of the score."""

    name: str
    goal: str  # what the study asks, in words with the threshold
    value: float
    unit: str
    passed: bool
    distance: float  # 0 when met; in the target's own unit (see `Target`)
    weight: float

    @property
    def penalty(self) -> float:
        return self.weight * self.distance


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    unit: str
    weight: float
    read: Callable[[dict], tuple[float, bool, float]]  # curves -> (value, passed, distance)


def _train_fit(c):
    value = c["train_accuracy"][-1]
    return value, value >= TRAIN_ACCURACY_MIN, max(0.0, TRAIN_ACCURACY_MIN - value)


def _plateau_epoch(val: Sequence[float]) -> int:
    """The first epoch (1-based) whose validation accuracy is within PLATEAU_MARGIN of the run's best."""
    floor = max(val) - PLATEAU_MARGIN
    return next(i for i, v in enumerate(val, 1) if v >= floor)


def _plateau(c):
    """Value: the first epoch within the margin of the best. Distance: points the best reading up to the
    deadline falls short of (best - margin), so a curve that nearly makes it scores nearly 0."""
    val = c["val_accuracy"]
    floor = max(val) - PLATEAU_MARGIN
    first = _plateau_epoch(val)
    return float(first), first <= PLATEAU_DEADLINE, max(0.0, floor - max(val[:PLATEAU_DEADLINE]))


def _stable(c):
    """The study's "remained stable till the end": value and distance are the points by which validation
    accuracy falls below (best - margin) at its lowest from the plateau epoch to the last; 0 (met) if never."""
    val = c["val_accuracy"]
    drop = max(0.0, max(val) - PLATEAU_MARGIN - min(val[_plateau_epoch(val) - 1:]))
    return drop, drop == 0.0, drop


def _best_val(c):
    best = max(c["val_accuracy"])
    off = abs(best - BEST_VAL_TARGET)
    return best, off <= BEST_VAL_TOLERANCE, off


TARGETS: tuple[Target, ...] = (
    Target("train_accuracy", f"training accuracy at the last epoch >= {TRAIN_ACCURACY_MIN:g}%", "%", 1.0,
           _train_fit),
    Target("plateau_epoch", f"validation accuracy within {PLATEAU_MARGIN:g} point of its best by epoch "
           f"{PLATEAU_DEADLINE}", "epoch", 1.0, _plateau),
    Target("val_stable", f"validation accuracy within {PLATEAU_MARGIN:g} point of its best from the plateau to "
           "the last epoch", "pts", 1.0, _stable),
    Target("best_val_accuracy", f"best validation accuracy {BEST_VAL_TARGET:g}% +- {BEST_VAL_TOLERANCE:g}", "%",
           1.0, _best_val),
)


def curves(history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]],
           train_accuracy: float | None = None) -> dict:
    """Per-epoch curves in percent (accuracy) from a history: columns ({"val_accuracy": [...], ...}, as
    history.csv and FitResult hold them) or rows ([{"val_accuracy": ..}, ...]). Accuracies given as
    fractions (all <= 1) are turned into percent.

    `train_accuracy` (fraction or percent): the last epoch's training accuracy measured in inference mode
    (model.evaluate on the training split). Without it the last value of the history's `accuracy` is used:
    Keras' running average over the epoch's batches, which trails the end-of-epoch weights slightly.
    """
    if not isinstance(history, Mapping):
        history = {k: [row[k] for row in history] for k in (history[0] if history else {})}
    for key in ("val_accuracy", "val_loss"):
        if not history.get(key):
            raise ValueError(f"history has no '{key}' column")
    if train_accuracy is None and not history.get("accuracy"):
        raise ValueError("history has no 'accuracy' column and no evaluated training accuracy was given")
    as_pct = _percent(list(history.get("accuracy", [])) + list(history["val_accuracy"]))
    train = [as_pct(v) for v in history.get("accuracy", [])]
    source = "running average (Keras history)"
    if train_accuracy is not None:
        evaluated = 100.0 * train_accuracy if train_accuracy <= 1.0 else float(train_accuracy)
        train = train[:-1] + [evaluated]
        source = "evaluated (inference mode, training split)"
    out = {"train_accuracy": train, "val_accuracy": [as_pct(v) for v in history["val_accuracy"]],
           "val_loss": [float(v) for v in history["val_loss"]], "train_accuracy_source": source}
    if any(math.isnan(v) for v in out["val_accuracy"] + out["train_accuracy"]):
        raise ValueError("history holds NaN accuracies")
    return out


def _percent(values: Sequence[float]) -> Callable[[float], float]:
    scale = 100.0 if values and max(values) <= 1.0 else 1.0
    return lambda v: float(v) * scale


def fidelity(history, train_accuracy: float | None = None) -> dict:
    """Every target's reading and the weighted score for one run (see the module docstring).

    Returns {"score", "epochs", "train_accuracy_source", "targets": [Reading as dict, ...]}.
    """
    c = curves(history, train_accuracy)
    readings = []
    for t in TARGETS:
        value, passed, distance = t.read(c)
        readings.append(Reading(t.name, t.goal, float(value), t.unit, bool(passed), float(distance), t.weight))
    return {"score": float(sum(r.penalty for r in readings)), "epochs": len(c["val_loss"]),
            "train_accuracy_source": c["train_accuracy_source"],
            "passed": sum(r.passed for r in readings), "targets": [asdict(r) for r in readings]}


def summarize(results: Sequence[dict]) -> dict:
    """Mean and std over seeds of every target's value, distance and pass, and of the score. The std is the
    sample std (ddof 1), as everywhere in the project; None with one seed."""
    if not results:
        raise ValueError("no results to summarize")
    targets = []
    for i, t in enumerate(TARGETS):
        rows = [r["targets"][i] for r in results]
        values, distances = [x["value"] for x in rows], [x["distance"] for x in rows]
        targets.append({"name": t.name, "goal": t.goal, "unit": t.unit, "weight": t.weight,
                        "value_mean": float(np.mean(values)), "value_std": _std(values),
                        "distance_mean": float(np.mean(distances)),
                        "passed_share": float(np.mean([x["passed"] for x in rows]))})
    scores = [r["score"] for r in results]
    return {"score_mean": float(np.mean(scores)), "score_std": _std(scores), "n": len(results),
            "targets": targets}


def _std(values: Sequence[float]) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def _pm(mean: float, std: float | None, digits: int) -> str:
    spread = f"{std:.{digits}f}" if std is not None else "-" * (digits + 2)
    return f"{mean:7.{digits}f} +- {spread}"


def describe(summary: dict) -> list[str]:
    """Human lines for a summary: one per target (value +- std, goal, how many seeds meet it), then the score.
    With one seed there is no std: the value alone."""
    lines = []
    for t in summary["targets"]:
        met = round(t["passed_share"] * summary["n"])
        verdict = "pass" if met == summary["n"] else "FAIL" if met == 0 else f"{met}/{summary['n']} pass"
        lines.append(f"{t['name']:<20} {_pm(t['value_mean'], t['value_std'], 2)} {t['unit']:<5} "
                     f"target: {t['goal']:<62} {verdict}")
    lines.append(f"{'score':<20} {_pm(summary['score_mean'], summary['score_std'], 3)}       "
                 f"(weighted distance to the study; lower is closer, 0 meets every target)")
    return lines

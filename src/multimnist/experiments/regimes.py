"""The regime study: each of the study's regularizers on data presets that span "underfit" to "memorizing".

The study's verdict on regularization depends on how its network learns the data: a regularizer can only help
a network that overfits. Every preset gets its own dataset (data seed 0) and every config is trained on it
over the same seeds; each regularizer's gain is its test accuracy minus the unregularized network's, with
Welch's t-test deciding whether the difference is beyond seed noise. The cells of one preset's row are a family:
their p-values are Holm-adjusted within it before a gain counts.

    OUT/PRESET/data/               the preset's dataset
    OUT/PRESET/CONFIG/seed-S/      one classifier run folder each
    OUT/regimes.json, regimes.csv  one row per (preset, config): test accuracy, gain, noise test, curves' readings
"""

from __future__ import annotations

import logging
from pathlib import Path

from multimnist.data import ensure_dataset
from multimnist.data.config import PRESETS as DATA_PRESETS
from multimnist.data.config import preset_config
from multimnist.evaluation.noise import ALPHA, gain_test, holm
from multimnist.executor import Executor
from multimnist.experiments.classifier import load_classifier_config, run_classifiers
from multimnist.files import write_json, write_text
from multimnist.formatting import csv_text
from multimnist.layout import HISTORY, METRICS, read_history, read_metrics
from multimnist.report.figures import regime_curves_figure, regime_gain_figure

import numpy as np

log = logging.getLogger(__name__)

PRESETS = tuple(DATA_PRESETS)  # every preset, the default (the calibrated one) first: it matters most
BASELINE = "unregularized"
REGULARIZERS = ("dropout_0.1", "early_stopping", "l1_1e-5", "l2_1e-5", "aug_shift", "regularized")
CONFIGS = (BASELINE, *REGULARIZERS)
SEEDS = (0, 1, 2)
DATA_SEED = 0


def run_regimes(out, presets=PRESETS, configs=CONFIGS, seeds=SEEDS, epochs: int | None = None,
                train_size: int | None = None, n_jobs: int = 1, executor: Executor | None = None,
                replace: bool = False, pack: int | None = None) -> list[dict]:
    """Make each preset's data, train every config over `seeds` on it, then write the table; returns its rows.

    `replace`: runs of an edited config are trained anew instead of refused (see open_run)."""
    out = Path(out)
    for preset in presets:  # a preset whose settings changed since its runs were made is one clear error
        ensure_dataset(out / preset / "data", preset_config(preset, train_size=train_size), DATA_SEED)
    log.info("regime study: %d presets x %d configs x %d seeds under %s", len(presets), len(configs), len(seeds), out)
    for preset in presets:
        runs = [load_classifier_config(name, seed=s, epochs=epochs) for name in configs for s in seeds]
        run_classifiers(runs, out / preset / "data", [out / preset / r.name / f"seed-{r.seed}" for r in runs], n_jobs,
                        executor, replace, pack)
    rows = regime_rows(out, presets, configs)
    write_regime_files(out, rows, presets, configs, seeds)
    return rows


def write_regime_files(out: Path, rows: list[dict], presets, configs, seeds) -> None:
    """regimes.json, regimes.csv, regime_gain.png (each regularizer's gain per preset) and regime_curves.png
    (the unregularized network's mean curves per preset: what explains the gains)."""
    write_json(out / "regimes.json", {"rows": rows, "alpha": ALPHA, "seeds": list(seeds), "presets": list(presets),
                                      "configs": list(configs)})
    write_text(out / "regimes.csv", csv_text([{k: v for k, v in r.items() if not isinstance(v, list)} for r in rows]))
    by = {(r["preset"], r["config"]): r for r in rows}
    series = {name: ([_points(by[p, name]["gain_mean"]) for p in presets],
                     [_points(by[p, name]["gain_se"]) for p in presets])
              for name in configs if name != BASELINE}
    regime_gain_figure(list(presets), series, out / "regime_gain.png",
                       f"Test accuracy gain of each regularizer (mean over seeds {', '.join(map(str, seeds))}, "
                       "± standard error)")
    curves = {p: _mean_curves(out / p / BASELINE) for p in presets}
    regime_curves_figure({p: c for p, c in curves.items() if c is not None}, out / "regime_curves.png",
                         "Unregularized network per preset: mean train and validation accuracy")


def _points(v):
    return None if v is None else 100 * v


def _mean_curves(folder: Path):
    histories = [read_history(p) for p in sorted(folder.glob(f"seed-*/{HISTORY}"))]
    if not histories:
        return None
    n = min(len(h["accuracy"]) for h in histories)
    return (np.mean([h["accuracy"][:n] for h in histories], axis=0),
            np.mean([h["val_accuracy"][:n] for h in histories], axis=0))


def regime_rows(out, presets, configs) -> list[dict]:
    """One row per (preset, config) from the finished run folders."""
    rows = []
    for preset in presets:
        runs = {name: [read_metrics(p.parent) for p in sorted((Path(out) / preset / name).glob(f"seed-*/{METRICS}"))]
                for name in configs}
        base = np.array([m["test_accuracy"] for m in runs.get(BASELINE, [])])
        rows += holm_verdicts([regime_row(preset, name, runs[name], base) for name in configs])
    return rows


def holm_verdicts(rows: list[dict], alpha: float = ALPHA) -> list[dict]:
    """One preset's rows with `p_holm`, the Welch p-values Holm-adjusted over the row's regularizers, and the
    verdict (helps, hurts, within noise) decided on it; the baseline and n/a rows keep theirs."""
    adjusted = holm([r["p_value"] for r in rows])
    out = []
    for r, p in zip(rows, adjusted, strict=True):
        r = {**r, "p_holm": p}
        if p is not None:
            r["verdict"] = "within noise" if p >= alpha else "helps" if r["gain_mean"] > 0 else "hurts"
        out.append(r)
    return out


def regime_row(preset: str, name: str, runs: list[dict], base: np.ndarray) -> dict:
    """A config's readings on one preset, and its gain over the baseline with Welch's t-test."""
    test = np.array([m["test_accuracy"] for m in runs])
    row = {"preset": preset, "config": name, "n": len(test), "test_accuracy": test.tolist(),
           "test_mean": _mean(test), "test_std": _std(test),
           "best_val_mean": _mean([m["best_val_accuracy"] for m in runs]),
           "train_mean": _mean([m["train_accuracy"] for m in runs]),  # kept weights, inference mode
           "best_epoch_mean": _mean([m["best_epoch"] for m in runs]),
           "epochs_run_mean": _mean([m["epochs_run"] for m in runs])}
    row.update(gain_test(test, base) if name != BASELINE else {"gain_mean": None, "gain_se": None, "p_value": None,
                                                               "verdict": "baseline"})
    return row


def _mean(values):
    return float(np.mean(values)) if len(values) else None


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else None

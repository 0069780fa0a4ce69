"""The regularizers across regimes: each of the study's regularizers on data presets that span "underfit" to
"memorizing", read from paper-profile runs on those presets (`multimnist report --across`).

The study's verdict on regularization depends on how its network learns the data: a regularizer can only help
a network that overfits. Each regularizer's gain is its test accuracy minus the unregularized network's over the
same seeds of one run, with Welch's t-test deciding whether the difference is beyond seed noise; the cells of
one regime's row are a family, their p-values Holm-adjusted within it before a gain counts. This is the
regularizers' view of the claims-by-regime matrix (report/across.py), computed from the same run folders.

    OUT/regimes.json, regimes.csv  one row per (regime, config): test accuracy, gain, noise test, curves' readings
    OUT/regime_gain.png            each regularizer's gain per regime
    OUT/regime_curves.png          the unregularized network's mean curves per regime: what explains the gains
"""

from __future__ import annotations

from pathlib import Path

from multimnist.evaluation.noise import ALPHA, gain_test, holm
from multimnist.files import write_json, write_text
from multimnist.formatting import MISSING, csv_text, mean_std, pct, pm
from multimnist.layout import HISTORY, METRICS, read_history, read_metrics
from multimnist.report.html import Figure, Section, Table

import numpy as np

BASELINE = "unregularized"
REGULARIZERS = ("dropout_0.1", "early_stopping", "l1_1e-5", "l2_1e-5", "aug_shift", "regularized")
CONFIGS = (BASELINE, *REGULARIZERS)
RUN_FOLDERS = ("classifiers", "ablations")  # where a reproduce run keeps each config's seeds


def config_folders(run: str | Path, configs=CONFIGS) -> dict[str, Path] | None:
    """{config: RUN/classifiers/CONFIG or RUN/ablations/CONFIG} of a reproduce folder; None if one is missing."""
    folders = {}
    for name in configs:
        found = [Path(run) / where / name for where in RUN_FOLDERS if (Path(run) / where / name).is_dir()]
        if not found:
            return None
        folders[name] = found[0]
    return folders


def regime_rows(folders: dict[str, dict[str, Path]]) -> list[dict]:
    """One row per (regime, config) from finished run folders: {regime: {config: folder of seed-S runs}}."""
    rows = []
    for regime, by_config in folders.items():
        runs = {name: [read_metrics(p.parent) for p in sorted(Path(folder).glob(f"seed-*/{METRICS}"))]
                for name, folder in by_config.items()}
        base = np.array([m["test_accuracy"] for m in runs.get(BASELINE, [])])
        rows += holm_verdicts([regime_row(regime, name, runs[name], base) for name in by_config])
    return rows


def holm_verdicts(rows: list[dict], alpha: float = ALPHA) -> list[dict]:
    """One regime's rows with `p_holm`, the Welch p-values Holm-adjusted over the row's regularizers, and the
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
    """A config's readings in one regime, and its gain over the baseline with Welch's t-test."""
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


def regime_table_data(folders: dict[str, dict[str, Path]]) -> dict:
    """What regimes.json holds: the rows, alpha, the regimes (as `presets`), the configs and the seeds."""
    rows = regime_rows(folders)
    seeds = sorted({int(p.name.split("-")[1]) for by in folders.values() for f in by.values()
                    for p in Path(f).glob("seed-*") if (p / METRICS).is_file()})
    return {"rows": rows, "alpha": ALPHA, "seeds": seeds, "presets": list(folders), "configs": list(CONFIGS)}


def write_regime_files(out: Path, table: dict, folders: dict[str, dict[str, Path]]) -> None:
    """regimes.json, regimes.csv, regime_gain.png and regime_curves.png (see the module docstring)."""
    from multimnist.figures.png import regime_curves_figure, regime_gain_figure  # matplotlib: only when drawing

    out = Path(out)
    rows, presets, configs = table["rows"], table["presets"], table["configs"]
    write_json(out / "regimes.json", table)
    write_text(out / "regimes.csv", csv_text([{k: v for k, v in r.items() if not isinstance(v, list)} for r in rows]))
    by = {(r["preset"], r["config"]): r for r in rows}
    series = {name: ([_points(by[p, name]["gain_mean"]) for p in presets],
                     [_points(by[p, name]["gain_se"]) for p in presets])
              for name in configs if name != BASELINE}
    regime_gain_figure(list(presets), series, out / "regime_gain.png", gain_title(table))
    curves = {p: _mean_curves(folders[p][BASELINE]) for p in presets}
    regime_curves_figure({p: c for p, c in curves.items() if c is not None}, out / "regime_curves.png",
                         "Unregularized network per regime: mean train and validation accuracy")


def gain_title(table: dict) -> str:
    """regime_gain.png's title: the seeds its means are over, or, where the sequential design gave the
    configurations different numbers of seeds, how many."""
    counts = sorted({row["n"] for row in table["rows"]})
    over = (f"seeds {', '.join(map(str, table['seeds']))}" if len(counts) == 1
            else f"each configuration's seeds in its run, {counts[0]} to {counts[-1]}")
    return f"Test accuracy gain of each regularizer (mean over {over}, ± standard error)"


def regimes_section(table: dict) -> Section:
    """The report's section: each regime's sentence, the table, and the two figures (beside the report)."""
    s = Section("The regularizers across regimes")
    rows = table["rows"]
    s.paragraphs.append(
        f"Each regularizer of the study against the unregularized network in {len(table['presets'])} regimes "
        f"(seeds {', '.join(map(str, table['seeds']))}). A gain counts only where Welch's t-test rejects equal means "
        f"at {100 * (1 - table['alpha']):.0f}% after Holm's correction over the cells of the regime's row (one "
        "family per regime); otherwise it is within noise.")
    s.paragraphs += [regime_summary(rows, preset) for preset in table["presets"]]
    s.tables.append(Table(
        ["regime", "config", "n", "test acc %", "gain (points) ± se", "p (Welch)", "p (Holm)", "verdict",
         "train acc %", "best val acc %", "best epoch"],
        [[row["preset"], row["config"], str(row["n"]), mean_std(row["test_accuracy"]),
          pm(row["gain_mean"], row["gain_se"]), MISSING if row["p_value"] is None else f"{row['p_value']:.3f}",
          MISSING if row.get("p_holm") is None else f"{row['p_holm']:.3f}", row["verdict"],
          pct(row["train_mean"]).rstrip("%"), pct(row["best_val_mean"]).rstrip("%"),
          MISSING if row["best_epoch_mean"] is None else f"{row['best_epoch_mean']:.0f}"] for row in rows],
        "Test accuracy and gain over the unregularized network, per regime (train accuracy: the kept weights in "
        "inference mode)"))
    s.figures += [Figure("regime_gain.png", "Each regularizer's test accuracy gain per regime (± standard error of "
                                            "the difference)"),
                  Figure("regime_curves.png", "The unregularized network's mean training and validation accuracy "
                                              "per regime: a regularizer can only help where they part")]
    return s


def regime_summary(rows: list[dict], preset: str) -> str:
    """One sentence per regime: which regularizers help, hurt, or stay within noise."""
    by_verdict: dict[str, list[str]] = {}
    for row in rows:
        if row["preset"] == preset and row["verdict"] != "baseline":
            by_verdict.setdefault(row["verdict"], []).append(row["config"])
    parts = [f"{verdict}: {', '.join(names)}" for verdict, names in sorted(by_verdict.items())]
    return f"{preset}: " + ("; ".join(parts) if parts else "no regularizer ran") + "."


def _points(v):
    return None if v is None else 100 * v


def _mean_curves(folder: Path):
    histories = [read_history(p) for p in sorted(Path(folder).glob(f"seed-*/{HISTORY}"))]
    if not histories:
        return None
    n = min(len(h["accuracy"]) for h in histories)
    return (np.mean([h["accuracy"][:n] for h in histories], axis=0),
            np.mean([h["val_accuracy"][:n] for h in histories], axis=0))


def _mean(values):
    return float(np.mean(values)) if len(values) else None


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else None

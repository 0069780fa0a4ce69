"""Select the challenger recipe (configs/challenger.yaml) on validation accuracy only.

Trains each candidate below on training seeds 100, 101 and 102, seeds used for nothing else (the report's
figures use 0-2), on one dataset (`multimnist data make --out DIR`: the default preset, data seed 0), and ranks
the candidates by the mean validation accuracy of the weights each run keeps (metrics.json `val_accuracy`; each
seed also draws its own validation split). Test accuracy is never read or printed here: metrics.json holds it,
and only VALIDATION_KEYS are taken from it. The table goes to docs/notes/challenger/selection.csv (--table), and
docs/notes/challenger.md quotes it.

    multimnist data make --out runs/challenger-selection/data
    python scripts/select_challenger.py --data runs/challenger-selection/data \
        --out runs/challenger-selection/runs --jobs 2

Runs go to OUT/CANDIDATE/seed-S; a rerun skips finished runs and resumes unfinished ones. --epochs 1 on a small
dataset (`data make --train-size 2000`) and another --out and --table is a quick try of the whole path.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

from multimnist.config import to_dict
from multimnist.errors import UserError
from multimnist.experiments.classifier import ClassifierConfig, load_classifier_config, run_configs
from multimnist.files import write_text
from multimnist.formatting import csv_text, duration, pm
from multimnist.models.classifier import count_params

import numpy as np

SEEDS = (100, 101, 102)  # for this selection only
TABLE = Path(__file__).resolve().parents[1] / "docs" / "notes" / "challenger" / "selection.csv"

# The recipe the candidates vary: the challenger as first written (chosen, wrongly, on test accuracy). It is
# fixed here, not read from challenger.yaml, which holds this script's result.
BASE = {
    "kind": "classifier",
    "model": {"pool": 2, "hidden": [240, 96], "activation": "relu", "norm": "batch", "dropout": 0.1},
    "training": {"optimizer": "adam", "learning_rate": 0.002, "lr_schedule": "cosine", "label_smoothing": 0.05,
                 "batch_size": 256, "epochs": 50},
}
CANDIDATES: dict[str, list[str]] = {  # name: overrides of BASE; each changes one thing
    "base": [],
    "dropout-0": ["model.dropout=0.0"],
    "dropout-0.2": ["model.dropout=0.2"],
    "no-smoothing": ["training.label_smoothing=0.0"],
    "lr-1e-3": ["training.learning_rate=0.001"],
    "width-160": ["model.hidden=[160, 96]"],
}

# All that is read from a run's metrics.json. test_accuracy (and test_loss, balanced_accuracy, the confusion
# readings) stay unread: nothing here may be chosen with them.
VALIDATION_KEYS = ("seed", "val_accuracy", "best_val_accuracy", "seconds_per_epoch")
NOISE_SE = 1.0  # candidates within this many standard errors of the best mean count as tied


def rule_text() -> str:
    return (f"highest mean validation accuracy of the kept weights over seeds {', '.join(map(str, SEEDS))}; "
            f"candidates within {NOISE_SE:g} standard error (std/sqrt(n), ddof 1) of the best mean count as tied, "
            "and of those the simplest wins: fewest regularizers switched on (dropout, label smoothing, L1/L2), "
            "then fewest parameters, then the higher mean")


def candidate_configs(epochs: int | None = None) -> dict[str, ClassifierConfig]:
    """Each candidate as a config named after it; refused before any training when over the parameter budget."""
    configs = {}
    for name, overrides in CANDIDATES.items():
        cfg = load_classifier_config(BASE, [*overrides, f"name={name}"], epochs=epochs)
        if cfg.model.max_params is not None and count_params(cfg.model) > cfg.model.max_params:
            raise UserError(f"candidate {name}: {count_params(cfg.model):,} parameters, over the budget")
        configs[name] = cfg
    return configs


def regularizers(cfg: ClassifierConfig) -> int:
    """How many regularizers the recipe switches on: the first measure of how simple it is."""
    m = cfg.model
    return sum(bool(x) for x in (any(m.dropout_rates()), m.input_dropout, m.l1, m.l2, cfg.training.label_smoothing))


def validation_figures(metrics: dict) -> dict:
    """The only figures of a run's metrics.json this script uses."""
    return {k: metrics[k] for k in VALIDATION_KEYS}


def summarize(name: str, cfg: ClassifierConfig, runs: list[dict]) -> dict:
    """One table row from a candidate's runs (validation figures only)."""
    val = np.array([r["val_accuracy"] for r in runs], dtype=float)
    best = np.array([r["best_val_accuracy"] for r in runs], dtype=float)
    n = len(runs)
    return {
        "candidate": name, "overrides": " ".join(CANDIDATES.get(name, [])) or "(base)",
        "n_params": count_params(cfg.model), "regularizers": regularizers(cfg), "n_seeds": n,
        "seeds": "-".join(str(r["seed"]) for r in runs),
        "val_mean": float(val.mean()), "val_std": float(val.std(ddof=1)) if n > 1 else math.nan,
        "best_val_mean": float(best.mean()), "best_val_std": float(best.std(ddof=1)) if n > 1 else math.nan,
        "s_per_epoch": float(np.mean([r["seconds_per_epoch"] for r in runs])),
    }


def select(rows: list[dict]) -> str:
    """The winner's name by rule_text(): the best mean, or a simpler candidate within noise of it."""
    best = max(rows, key=lambda r: r["val_mean"])
    se = best["val_std"] / math.sqrt(best["n_seeds"]) if math.isfinite(best["val_std"]) else 0.0
    tied = [r for r in rows if r["val_mean"] >= best["val_mean"] - NOISE_SE * se]
    return min(tied, key=lambda r: (r["regularizers"], r["n_params"], -r["val_mean"]))["candidate"]


def selection_table(configs: dict[str, ClassifierConfig], results: dict[str, list[dict]]) -> list[dict]:
    """Rows in candidate order, the winner marked in `selected`."""
    rows = [summarize(name, configs[name], [validation_figures(m) for m in results[name]]) for name in configs]
    winner = select(rows)
    return [{**r, "selected": "yes" if r["candidate"] == winner else ""} for r in rows]


def table_text(rows: list[dict]) -> str:
    """The rows for a terminal, accuracies in percent (mean ± std over seeds)."""
    lines = [f"{'candidate':<14}{'params':>8}{'reg':>5}{'n':>3}  {'val (kept weights)':<20}{'best val':<16}s/epoch"]
    for r in rows:
        val, best = pm(r["val_mean"], r["val_std"], digits=2), pm(r["best_val_mean"], r["best_val_std"], digits=2)
        lines.append(f"{r['candidate']:<14}{r['n_params']:>8,}{r['regularizers']:>5}{r['n_seeds']:>3}  {val:<20}"
                     f"{best:<16}{r['s_per_epoch']:.1f}{'  <- selected' if r['selected'] else ''}")
    return "\n".join(lines)


def same_recipe(a: ClassifierConfig, b: ClassifierConfig) -> bool:
    da, db = to_dict(a), to_dict(b)
    da.pop("name"), db.pop("name")
    return da == db


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="dataset folder (multimnist data make --out DIR)")
    p.add_argument("--out", type=Path, required=True, help="folder of the runs: OUT/CANDIDATE/seed-S")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at a time (default 1)")
    p.add_argument("--epochs", type=int, help="replace the recipes' 50 epochs (a quick try; not a selection)")
    p.add_argument("--table", type=Path, default=TABLE, help=f"CSV to write (default {TABLE})")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if not args.data.is_dir():
            raise UserError(f"no dataset folder {args.data} (make one: multimnist data make --out {args.data})")
        configs = candidate_configs(args.epochs)
        start = time.time()
        results = {name: run_configs([cfg], args.data, args.out, seeds=SEEDS, n_jobs=args.jobs)[cfg.name]
                   for name, cfg in configs.items()}
        seconds = time.time() - start
        rows = selection_table(configs, results)
        write_text(args.table, csv_text(rows))
        current = load_classifier_config("challenger")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    winner = next(r["candidate"] for r in rows if r["selected"])
    print(table_text(rows))
    print(f"\nrule: {rule_text()}")
    print(f"selected: {winner} ({' '.join(CANDIDATES[winner]) or 'no overrides'})")
    print(f"challenger.yaml {'holds' if same_recipe(configs[winner], current) else 'does NOT hold'} this recipe")
    print(f"{len(configs) * len(SEEDS)} runs in {duration(seconds)} (finished runs are not trained again); "
          f"table: {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Do the pack trainer and Keras `model.fit` train the study's headline networks alike? Test accuracy and curves.

Reads finished classifier run folders of two training paths (each a list of folders holding NAME/seed-S runs:
e.g. a paper run's `classifiers` and extra seeds trained beside it) and prints, per config, each quantity's mean
± std both ways and the difference (pack - fit) with its 95% Welch interval and p. The figures are new draws
either way (other shuffling, other dropout masks), so "alike" means: no difference beyond seed noise.

    python docs/notes/scripts/compare_training_paths.py --fit runs/paper/classifiers runs/equiv/fit \\
        --pack runs/paper-pack/classifiers runs/equiv/pack [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from multimnist.evaluation.noise import welch
from multimnist.layout import read_history, read_metrics

import numpy as np

CONFIGS = ("unregularized", "regularized", "challenger")


def readings(run: Path) -> dict[str, float]:
    """What a run says about its test accuracy and its curves."""
    m, h = read_metrics(run), read_history(run / "history.csv")
    return {
        "test accuracy (%)": 100 * m["test_accuracy"],
        "best validation accuracy (%)": 100 * m["best_val_accuracy"],
        "training accuracy, kept weights (%)": 100 * m["train_accuracy"],
        "epoch of the validation-loss minimum": float(np.argmin(h["val_loss"]) + 1),
        "lowest validation loss": float(np.min(h["val_loss"])),
        "last validation loss": float(h["val_loss"][-1]),
        "validation accuracy at epoch 10 (%)": 100 * h["val_accuracy"][min(9, len(h["val_accuracy"]) - 1)],
        "epochs run": float(m["epochs_run"]),
    }


def runs_of(roots: list[Path], name: str) -> list[Path]:
    return sorted(p.parent for root in roots for p in (root / name).glob("seed-*/metrics.json"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=Path, nargs="+", required=True, help="folders of Keras-fit runs")
    parser.add_argument("--pack", type=Path, nargs="+", required=True, help="folders of pack-trainer runs")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--json", type=Path, help="also write the table here")
    args = parser.parse_args()
    table = []
    for name in args.configs:
        fit = [readings(r) for r in runs_of(args.fit, name)]
        pack = [readings(r) for r in runs_of(args.pack, name)]
        print(f"\n{name}: {len(fit)} seeds through model.fit, {len(pack)} through the pack trainer")
        for q in fit[0] if fit else ():
            a, b = [r[q] for r in pack], [r[q] for r in fit]
            d = welch(a, b)
            lo, hi = d.interval() or (float("nan"), float("nan"))
            p = d.p if d.p is not None else float("nan")
            print(f"  {q:40s} fit {np.mean(b):8.3f} ± {np.std(b, ddof=1):6.3f}   pack {np.mean(a):8.3f} ± "
                  f"{np.std(a, ddof=1):6.3f}   pack - fit {d.value:+8.3f} [{lo:+.3f}, {hi:+.3f}]  p = {p:.2f}")
            table.append({"config": name, "quantity": q, "fit": b, "pack": a, "difference": d.value,
                          "interval": [lo, hi], "p": p})
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

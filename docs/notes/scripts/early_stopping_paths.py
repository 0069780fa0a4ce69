"""Why the regularized network stops later through the pack trainer than through Keras `model.fit`: its curves.

The regularized network (dropout 0.1, early stopping with patience 10 and min_delta 0.05 on the validation loss)
stopped after 39.8 ± 0.4 epochs through the packs and 34.4 ± 2.9 through `fit` (docs/results/training-paths.json).
This script trains the dropout_0.1 ablation (the same network without early stopping, 50 epochs) through Keras
`model.fit` for --seeds, reads the same ablation's histories from a paper run's pack-trained folders, and prints
(1) the validation loss epoch by epoch both ways, with the Welch difference, and (2) the early-stopping rule of
configs/regularized.yaml (the pack trainer's own implementation of Keras' rule) applied to each curve: the epochs
where the loss improved by more than min_delta, where it would stop, and which epoch it would keep.

    python docs/notes/scripts/early_stopping_paths.py runs/paper-study [--seeds 0 1 2 3 4] [--json out.json]

RUN/data is the run's dataset; RUN/ablations/dropout_0.1/seed-*/history.csv its pack-trained curves.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from multimnist.evaluation.noise import welch
from multimnist.experiments.classifier import load_classifier_config, seeded_classifier
from multimnist.layout import read_history
from multimnist.training.config import EarlyStoppingConfig, make_optimizer
from multimnist.training.pack import _early_stopping, _Progress
from multimnist.training.run import dataset_fingerprint

import numpy as np

ABLATION = "dropout_0.1"
EPOCHS = (1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50)


def fit_curve(ds, seed: int) -> list[float]:
    """The dropout_0.1 ablation of `seed` trained through Keras `model.fit`: its validation loss per epoch."""
    cfg = load_classifier_config(ABLATION, seed=seed)
    model, inputs = seeded_classifier(ds, cfg)
    model.compile(optimizer=make_optimizer(cfg.training, len(inputs.x_fit)), loss="categorical_crossentropy")
    history = model.fit(inputs.x_fit, inputs.y_fit, validation_data=(inputs.arrays.x_val, inputs.arrays.y_val),
                        batch_size=cfg.training.batch_size, epochs=cfg.training.epochs, shuffle=True, verbose=0)
    return [float(v) for v in history.history["val_loss"]]


def stopping(curve: list[float], es: EarlyStoppingConfig) -> dict:
    """The early-stopping rule (the pack trainer's) over a whole curve: improvements, stop and kept epoch (1-based)."""
    p, improved = _Progress([], [], []), []
    for value in curve:
        before = p.best
        _early_stopping(p, es, {es.monitor: value})
        if p.best != before:
            improved.append(p.epoch + 1)
        p.epoch += 1
        if p.stopped:
            break
    return {"improved": improved, "stopped": p.epoch, "kept": p.best_epoch + 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished paper-profile run (its data and dropout_0.1 ablation)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds trained through fit")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    es = load_classifier_config("regularized").training.early_stopping
    ds, _ = dataset_fingerprint(args.run / "data")
    pack = {int(p.name.split("-")[1]): [float(v) for v in read_history(p / "history.csv")["val_loss"]]
            for p in sorted((args.run / "ablations" / ABLATION).glob("seed-*")) if (p / "history.csv").is_file()}
    fit = {}
    for seed in args.seeds:
        start = time.perf_counter()
        fit[seed] = fit_curve(ds, seed)
        print(f"fit seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"\nvalidation loss of {ABLATION}: {len(fit)} seeds through model.fit, {len(pack)} through the packs")
    rows = []
    for e in EPOCHS:
        a, b = [c[e - 1] for c in pack.values()], [c[e - 1] for c in fit.values()]
        d = welch(a, b)
        lo, hi = d.interval() or (float("nan"), float("nan"))
        print(f"  epoch {e:2d}: fit {np.mean(b):.4f} ± {np.std(b, ddof=1):.4f}   pack {np.mean(a):.4f} ± "
              f"{np.std(a, ddof=1):.4f}   pack - fit {d.value:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        rows.append({"epoch": e, "fit": b, "pack": a, "difference": d.value, "interval": [lo, hi]})
    print(f"\nthe regularized network's early stopping (patience {es.patience}, min_delta {es.min_delta} on "
          f"{es.monitor}) applied to each curve:")
    rules = {}
    for path, curves in (("fit", fit), ("pack", pack)):
        for seed, curve in curves.items():
            s = stopping(curve, es)
            rules[f"{path} seed {seed}"] = s
            print(f"  {path:4s} seed {seed}: improved at epochs {s['improved']}; stops after {s['stopped']}, "
                  f"keeps {s['kept']}")
    if args.json:
        args.json.write_text(json.dumps({"curves": rows, "early_stopping": rules,
                                         "fit": fit, "pack": pack}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

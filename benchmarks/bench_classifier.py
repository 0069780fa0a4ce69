"""Training throughput of the study's unregularized classifier (1092-80-70-50) on the `study` preset's data.

Prints seconds per epoch and samples/s at batch 256 and 8, for plain Keras `model.fit` and for the package's
`fit` (the same fit plus CSVLogger, BackupAndRestore and the epoch timer), each with and without the
validation pass, and the share of this machine's float32 matmul peak (measured here, benchmarks/common.py).
The first epoch (XLA compilation) is left out. Batch 8 is timed on a slice and scaled to a full epoch.

    .venv/bin/python benchmarks/bench_classifier.py [--data DIR] [--epochs 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from multimnist.data import load_mnist, make_dataset, prepare, preset_config, read_dataset
from multimnist.experiments.classifier import compile_classifier, load_classifier_config
from multimnist.models.classifier import build_classifier
from multimnist.training.fit import EpochTimer
from multimnist.training.seeding import seed_everything

import keras
import numpy as np
from common import (  # benchmarks/common.py, beside this script
    dense_flops_per_sample,
    matmul_peak_gflops,
    package_fit_seconds,
)


def plain_fit(cfg, arrays, batch, epochs, n, validation: bool) -> float:
    """Median seconds per epoch of plain model.fit on the first n training images (first epoch left out)."""
    seed_everything(0)
    model = compile_classifier(build_classifier(cfg.model), cfg.training, n)
    timer = EpochTimer()
    val = (arrays.x_val, arrays.y_val) if validation else None
    model.fit(arrays.x_train[:n], arrays.y_train[:n], batch_size=batch, epochs=epochs, validation_data=val,
              verbose=0, callbacks=[timer])
    return float(np.median(timer.times[1:]))


def package_fit(cfg, arrays, batch, epochs) -> float:
    """Seconds per epoch through multimnist.training.fit (validation included), first epoch left out."""
    seed_everything(0)
    model = compile_classifier(build_classifier(cfg.model), cfg.training, len(arrays.x_train))
    cfg.training.epochs, cfg.training.batch_size = epochs, batch
    return package_fit_seconds(model, arrays.x_train, arrays.y_train, arrays.x_val, arrays.y_val, cfg.training)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="dataset folder (default: generate the study preset's in memory)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement, the first is dropped")
    parser.add_argument("--small-batch-steps", type=int, default=600, help="steps timed at batch 8")
    args = parser.parse_args()
    ds = read_dataset(args.data) if args.data else make_dataset(load_mnist(), preset_config("study"), seed=0)
    arrays = prepare(ds, 0.2, seed=0)
    cfg = load_classifier_config("unregularized")
    n = len(arrays.x_train)
    flops = dense_flops_per_sample([arrays.x_train.shape[1], *cfg.model.hidden, len(arrays.classes)])
    peak = matmul_peak_gflops()
    print(f"backend {keras.backend.backend()}, {n:,} training images, {len(arrays.x_val):,} validation, "
          f"~{flops / 1e3:.0f} kFLOP per training sample, matmul peak {peak:.1f} GFLOP/s")
    rows = []
    for batch, n_used in ((256, n), (8, min(n, 8 * args.small_batch_steps))):
        scale = n / n_used  # seconds for a full epoch of n images
        train_only = plain_fit(cfg, arrays, batch, args.epochs, n_used, validation=False) * scale
        rows.append((f"plain model.fit, batch {batch}, train only", train_only, n / train_only))
        if batch == 256:
            with_val = plain_fit(cfg, arrays, batch, args.epochs, n, validation=True)
            rows.append((f"plain model.fit, batch {batch}, with validation", with_val, n / with_val))
            ours = package_fit(load_classifier_config("unregularized"), arrays, batch, args.epochs)
            rows.append((f"multimnist fit, batch {batch}, with validation", ours, n / ours))
    for label, seconds, rate in rows:
        share = flops * rate / 1e9 / peak
        print(f"{label:48s} {seconds:7.2f} s/epoch {rate:10,.0f} samples/s  {share:6.1%} of matmul peak")


if __name__ == "__main__":
    main()

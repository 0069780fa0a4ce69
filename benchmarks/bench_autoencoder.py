"""Training throughput of the study's autoencoder (1092-256-128-54-128-256-512-1092) on the default data.

Prints seconds per epoch, samples/s and GFLOP/s at batch 256 for plain Keras `model.fit` on all 83,550
training images (the reference: 6.2 s/epoch measured with plain Keras+JAX), and for the package's `fit`
(the study's 80/20 split, with its validation pass, CSVLogger, BackupAndRestore), against this machine's
float32 matmul peak measured here (benchmarks/common.py). The first epoch (XLA compilation) is left out.

    .venv/bin/python benchmarks/bench_autoencoder.py [--data DIR] [--epochs 4] [--batch 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from multimnist.data import load_mnist, make_dataset, prepare, preset_config, read_dataset
from multimnist.data.prepare import to_inputs
from multimnist.experiments.autoencoder import compile_autoencoder, load_autoencoder_config
from multimnist.models.autoencoder import build_autoencoder
from multimnist.training.fit import EpochTimer
from multimnist.training.seeding import seed_everything

import keras
import numpy as np
from common import (  # benchmarks/common.py, beside this script
    dense_flops_per_sample,
    matmul_peak_gflops,
    package_fit_seconds,
)

REFERENCE = 6.2  # s/epoch, plain Keras+JAX model.fit, batch 256, 83k images (the measurement)


def plain_fit(cfg, x, epochs: int) -> float:
    """Median seconds per epoch of plain model.fit(x, x), first epoch left out."""
    seed_everything(0)
    model = compile_autoencoder(build_autoencoder(cfg.model).autoencoder, cfg, len(x))
    timer = EpochTimer()
    model.fit(x, x, batch_size=cfg.training.batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    return float(np.median(timer.times[1:]))


def package_fit(cfg, arrays, epochs: int) -> float:
    """Median seconds per epoch through multimnist.training.fit (validation included), first epoch left out."""
    seed_everything(0)
    model = compile_autoencoder(build_autoencoder(cfg.model).autoencoder, cfg, len(arrays.x_train))
    cfg.training.epochs = epochs
    return package_fit_seconds(model, arrays.x_train, arrays.x_train, arrays.x_val, arrays.x_val, cfg.training)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="dataset folder (default: generate the default one in memory)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement, the first is dropped")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    ds = read_dataset(args.data) if args.data else make_dataset(load_mnist(), preset_config(), seed=0)
    cfg = load_autoencoder_config("autoencoder", [f"training.batch_size={args.batch}"])
    x_all, arrays = to_inputs(ds.x_train), prepare(ds, cfg.data.val_fraction, seed=cfg.data.split_seed)
    m = cfg.model
    flops = dense_flops_per_sample([m.input_dim, *m.encoder, m.latent_size, *m.decoder, m.input_dim])
    peak = matmul_peak_gflops()
    print(f"backend {keras.backend.backend()}, latent {m.latent_size}, batch {args.batch}, "
          f"~{flops / 1e6:.1f} MFLOP per training sample, matmul peak {peak:.1f} GFLOP/s")
    rows = []
    s = plain_fit(cfg, x_all, args.epochs)
    rows.append((f"plain model.fit, {len(x_all):,} images, no validation", s, len(x_all) / s))
    s = package_fit(cfg, arrays, args.epochs)
    rows.append((f"multimnist fit, {len(arrays.x_train):,} train + {len(arrays.x_val):,} validation", s,
                 len(arrays.x_train) / s))
    print(f"{'':58s} {'s/epoch':>8s} {'samples/s':>10s} {'GFLOP/s':>8s} {'% peak':>7s}")
    for name, sec, rate in rows:
        gflops = rate * flops / 1e9  # training samples only; validation passes count as overhead
        print(f"{name:58s} {sec:8.2f} {rate:10,.0f} {gflops:8.1f} {100 * gflops / peak:6.1f}%")
    verdict = "not slower" if rows[0][1] <= REFERENCE else "SLOWER"
    print(f"reference: {REFERENCE} s/epoch for plain model.fit on 83k images at batch 256 -> {verdict} here "
          f"({rows[0][1]:.2f} s; a shared or smaller machine explains a gap)")


if __name__ == "__main__":
    main()

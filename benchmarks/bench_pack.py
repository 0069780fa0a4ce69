"""Training throughput of the pack trainer against plain Keras `model.fit`, for the classifier and the autoencoder.

For plain `model.fit` and for packs of M = 1, 3, 8, 16, 32 networks (--packs), prints seconds per epoch per
network on the study's split (66,840 training and 16,710 validation images, batch 256, Adam, validation each
epoch), the speed-up over `fit`, and the share of this machine's float32 matmul peak (measured in the same run)
that the training and validation arithmetic (XLA's own count, benchmarks/common.py) reaches. The data are random
images of the study's shapes, --samples of them, the times scaled to a full epoch; the first epoch (compilation)
is left out; the last column is what that speed makes of full trainings of 50 epochs (the study's), per minute. On
CPUs it first prints the matmul rate of one one-thread process alone and of two at once, which says whether this
machine's cores add up (--jobs). Figures only, no assertions.

    .venv/bin/python benchmarks/bench_pack.py [--kinds classifier autoencoder] [--packs 1 3 8 16 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from multimnist.experiments.autoencoder import autoencoder_task
from multimnist.experiments.classifier import classifier_task
from multimnist.models.autoencoder import build_autoencoder
from multimnist.models.classifier import ModelConfig, build_classifier
from multimnist.training.config import TrainConfig, make_optimizer
from multimnist.training.pack import Member, train_pack
from multimnist.training.seeding import seed_everything

import jax
import keras
import numpy as np
from common import concurrent_peaks, matmul_peak_gflops, model_flops_per_sample  # benchmarks/common.py, beside

TRAIN, VAL = 66_840, 16_710  # the study split of the paper profile's data


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def build(kind: str, seed: int):
    seed_everything(seed)
    return build_classifier(ModelConfig()) if kind == "classifier" else build_autoencoder().autoencoder


def data(kind: str, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 1092)).astype(np.float32)
    x_val = rng.uniform(size=(n // 4, 1092)).astype(np.float32)
    if kind == "autoencoder":
        return x, None, x_val, None
    return x, np.eye(50, dtype=np.float32)[rng.integers(0, 50, n)], x_val, np.eye(50, dtype=np.float32)[
        rng.integers(0, 50, n // 4)]


def plain_fit(kind: str, arrays, cfg: TrainConfig) -> float:
    """Median seconds per epoch of plain model.fit with validation (first epoch left out)."""
    x, y, x_val, y_val = arrays
    model = build(kind, 0)
    loss = "categorical_crossentropy" if kind == "classifier" else "binary_crossentropy"
    model.compile(optimizer=make_optimizer(cfg, len(x)), loss=loss)
    timer = EpochTimer()
    model.fit(x, x if y is None else y, validation_data=(x_val, x_val if y_val is None else y_val),
              batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0, callbacks=[timer])
    return float(np.median(timer.times[1:]))


def packed(kind: str, arrays, cfg: TrainConfig, m: int, scale: float) -> float:
    """Median seconds per epoch per network of a pack of m (first epoch left out), the training and validation
    scaled to a full epoch, the per-epoch checkpoint (one per network, whatever the data) as it is."""
    x, y, x_val, y_val = arrays
    task = classifier_task() if kind == "classifier" else autoencoder_task()
    with tempfile.TemporaryDirectory() as root:
        members = [Member(build(kind, s), x, y, x_val, y_val, cfg, Path(root) / f"n{s}", s, f"n{s}")
                   for s in range(m)]
        result = train_pack(members, task)[0]
    compute = np.array(result.epoch_seconds[1:]) - np.array(result.checkpoint_seconds[1:])
    return float(np.median(compute * scale + np.array(result.checkpoint_seconds[1:])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["classifier", "autoencoder"])
    parser.add_argument("--packs", nargs="+", type=int, default=[1, 3, 8, 16, 32])
    parser.add_argument("--samples", type=int, default=16_384, help="training images (validation: a quarter)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement, the first is dropped")
    args = parser.parse_args()
    peak = matmul_peak_gflops()
    device = jax.devices()[0]
    print(f"{device.platform} ({device.device_kind}), {len(jax.devices())} device(s); matmul peak {peak:.0f} GFLOP/s; "
          f"times per network for a full epoch of {TRAIN:,} + {VAL:,} images at batch 256")
    if device.platform == "cpu":  # one-thread processes are a CPU worker's setting
        one, both = concurrent_peaks(1), concurrent_peaks(2)
        print(f"one-thread processes (a local worker's setting): one alone {one[0]:.0f} GFLOP/s, two at once "
              f"{' + '.join(f'{g:.0f}' for g in both)} = {sum(both):.0f} GFLOP/s (where the sum is no more than one "
              "alone, the cores add no matmul throughput and --jobs 2 trains no faster than --jobs 1)")
    cfg = TrainConfig(epochs=args.epochs, batch_size=256)
    scale = TRAIN / args.samples
    for kind in args.kinds:
        arrays = data(kind, args.samples)
        train_f, infer_f = model_flops_per_sample(build(kind, 0))
        epoch_flops = train_f * TRAIN + infer_f * VAL
        print(f"\n{kind}: {train_f / 1e3:.0f} kFLOP per training sample, {infer_f / 1e3:.0f} per validation one")
        print(f"{'how':24s} {'s/epoch/network':>16s} {'vs fit':>8s} {'of peak':>8s} {'50-epoch trainings/min':>23s}")
        base = plain_fit(kind, arrays, cfg) * scale
        rows = [("Keras model.fit", base)] + [(f"pack of {m}", packed(kind, arrays, cfg, m, scale))
                                             for m in args.packs]
        for label, seconds in rows:
            share = epoch_flops / seconds / 1e9 / peak
            print(f"{label:24s} {seconds:16.3f} {base / seconds:7.2f}x {share:8.1%} {60 / (50 * seconds):23.1f}",
                  flush=True)
    after = matmul_peak_gflops()
    print(f"\nmatmul peak at the end {after:.0f} GFLOP/s, at the start {peak:.0f} (the shares above): where they "
          "differ much, this machine's speed drifted during the run, and figures compare only within a kind")


if __name__ == "__main__":
    main()

"""The arithmetic floor of a finished `multimnist reproduce` run, against its wall time.

For every training in RUN (classifiers, ablations, sweeps, autoencoders, reader), the flops of the epochs it
actually ran (training forward and backward, and the validation pass of each epoch, counted by XLA for its
architecture: benchmarks/common.py) at this machine's matmul peak, measured now; then the run's wall time from
RUN/steps.json and the ratio. Run it on the machine the run was made on.

    .venv/bin/python benchmarks/profile_floor.py runs/paper
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from multimnist.experiments.autoencoder import load_autoencoder_config
from multimnist.experiments.classifier import load_classifier_config
from multimnist.experiments.reader import load_reader_config
from multimnist.models.autoencoder import build_autoencoder
from multimnist.models.classifier import build_classifier
from multimnist.models.reader import build_reader

from common import matmul_peak_gflops, model_flops_per_sample  # benchmarks/common.py, beside this script


def trainings(run: Path):
    """(kind, metrics) of every finished training under `run`."""
    for path in sorted(run.rglob("metrics.json")):
        metrics = json.loads(path.read_text())
        if "epochs_run" not in metrics or "config" not in metrics:
            continue
        parts = path.relative_to(run).parts
        kind = "reader" if parts[0] == "reader" else "autoencoder" if parts[0] == "autoencoder" else "classifier"
        yield kind, metrics


def sizes(kind: str, m: dict) -> tuple[int, int]:
    """(training samples per epoch, validation samples) of a run, from what its metrics.json records."""
    if kind == "classifier":
        n_train = sum(m["train_counts"])
        n_val = round(n_train / (1 - m["config"]["data"]["val_fraction"])) - n_train
        return n_train + m.get("augmented_samples", 0), n_val
    if kind == "reader":
        return m["train_images"], round(m["train_images"] * m["config"]["data"]["val_fraction"] /
                                        (1 - m["config"]["data"]["val_fraction"]))
    return None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    peak = matmul_peak_gflops()
    cache: dict[str, tuple[float, float]] = {}
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    classifier_sizes = None
    runs = list(trainings(args.run))
    for kind, m in runs:
        if kind == "classifier" and classifier_sizes is None:
            classifier_sizes = sizes(kind, {**m, "augmented_samples": 0})
    for kind, m in runs:
        if kind == "classifier":
            model = build_classifier(load_classifier_config(m["config"]).model, n_classes=len(m["classes"]))
        elif kind == "autoencoder":
            model = build_autoencoder(load_autoencoder_config(m["config"]).model).autoencoder
        else:
            model = build_reader(load_reader_config(m["config"]).model)
        key = model.to_json()
        if key not in cache:
            cache[key] = model_flops_per_sample(model)
        train_f, infer_f = cache[key]
        n_train, n_val = sizes(kind, m) if kind != "autoencoder" else (
            sum(classifier_sizes) - round(sum(classifier_sizes) * m["config"]["data"]["val_fraction"]),
            round(sum(classifier_sizes) * m["config"]["data"]["val_fraction"]))
        flops = m["epochs_run"] * (train_f * n_train + infer_f * n_val)
        totals[kind] = totals.get(kind, 0.0) + flops
        counts[kind] = counts.get(kind, 0) + 1
    steps = json.loads((args.run / "steps.json").read_text())
    wall = sum(s.get("seconds", 0.0) for s in steps.values())
    floor = sum(totals.values()) / (peak * 1e9)
    print(f"matmul peak {peak:.0f} GFLOP/s")
    for kind in totals:
        print(f"{kind:12s} {counts[kind]:4d} trainings {totals[kind] / 1e12:9.1f} TFLOP "
              f"{totals[kind] / (peak * 1e9) / 60:7.1f} min at peak")
    print(f"floor {floor / 60:.1f} min; the run's steps took {wall / 60:.1f} min ({wall / floor:.2f}x the floor)")


if __name__ == "__main__":
    main()

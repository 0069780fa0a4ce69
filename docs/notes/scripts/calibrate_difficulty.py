"""Check a generator setting with plain Keras, outside the package's training path.

Trains the study's section-3 network (1092-80-70-50, sigmoid, softmax, HeNormal, Adam 1e-3, batch 256,
50 epochs, 20% validation split), written out here in plain Keras, on a dataset drawn with a preset (or an
intensity range and blend), and prints per seed: test accuracy, best validation accuracy, training accuracy
at the last epoch (Keras' running average, and evaluated in inference mode), and the study's curve targets
(evaluation/fidelity.py). It is the independent check of a calibrated setting: use a data seed nobody
calibrated on (the search used 1000), and read its test accuracy once (docs/notes/calibration.md).

    python docs/notes/scripts/calibrate_difficulty.py --preset study --data-seed 7 --seeds 0 1 2
    # the first calibration:
    python docs/notes/scripts/calibrate_difficulty.py --intensity 0.4 1.0 --blend max --seeds 0 1 2

Without --data-seed each seed draws its own dataset with that seed (how the first calibration ran).
"""

from __future__ import annotations

import argparse
import json
import time

import multimnist  # noqa: F401  (selects the JAX backend)
from multimnist.data import GeneratorConfig, load_mnist, make_dataset, prepare
from multimnist.data.config import PRESETS, preset_config
from multimnist.evaluation.fidelity import fidelity

import keras
import numpy as np


def study_network(n_classes: int) -> keras.Model:
    model = keras.Sequential([
        keras.Input((1092,)),
        keras.layers.Dense(80, activation="sigmoid", kernel_initializer="he_normal"),
        keras.layers.Dense(70, activation="sigmoid", kernel_initializer="he_normal"),
        keras.layers.Dense(n_classes, activation="softmax", kernel_initializer="he_normal"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy", metrics=["categorical_accuracy"])
    return model


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=list(PRESETS), help="a named setting (overrides --intensity/--blend)")
    p.add_argument("--intensity", type=float, nargs=2, default=GeneratorConfig().intensity)
    p.add_argument("--blend", default=GeneratorConfig().blend)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--data-seed", type=int, help="one dataset for every seed, drawn with this seed")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--train-size", type=int)
    args = p.parse_args()

    digits = load_mnist()
    if args.preset:
        config = preset_config(args.preset, train_size=args.train_size)
    else:
        config = GeneratorConfig(intensity=tuple(args.intensity), blend=args.blend, train_size=args.train_size)
    results = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        ds = make_dataset(digits, config, seed=seed if args.data_seed is None else args.data_seed)
        data = prepare(ds, seed=seed)
        model = study_network(len(data.classes))
        t0 = time.time()
        hist = model.fit(data.x_train, data.y_train, batch_size=256, epochs=args.epochs,
                         validation_data=(data.x_val, data.y_val), verbose=0)
        seconds = time.time() - t0
        _, train_acc = model.evaluate(data.x_train, data.y_train, batch_size=1024, verbose=0)
        _, test_acc = model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)
        h = {"accuracy": hist.history["categorical_accuracy"], "val_accuracy": hist.history["val_categorical_accuracy"],
             "val_loss": hist.history["val_loss"]}
        targets = {t["name"]: round(t["value"], 2) for t in fidelity(h, float(train_acc))["targets"]}
        row = {"seed": seed, "test_acc": round(float(test_acc), 4),
               "best_val_acc": round(max(h["val_accuracy"]), 4),
               "final_train_acc": round(h["accuracy"][-1], 4), "evaluated_train_acc": round(float(train_acc), 4),
               "targets": targets, "s_per_epoch": round(seconds / args.epochs, 2)}
        print(json.dumps(row), flush=True)
        results.append(row["test_acc"])
    print(json.dumps({"preset": args.preset, "intensity": list(config.intensity), "blend": config.blend,
                      "epochs": args.epochs, "data_seed": args.data_seed,
                      "mean_test_acc": round(float(np.mean(results)), 4),
                      "std_test_acc": round(float(np.std(results, ddof=1)), 4) if len(results) > 1 else None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

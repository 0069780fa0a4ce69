"""Does the default data show the study's regime to a network built outside this package?

The study's unregularized network in plain Keras (1092-80-70-50, sigmoid, HeNormal, softmax, Adam 1e-3, batch
256, 50 epochs, a random 20% of the training images for validation) on the default preset, drawn with a data
seed that no calibration used. It prints the three checks of the regime (training accuracy >= 99% at epoch 50,
measured in inference mode; validation accuracy within 1 point of its best by epoch 15; test accuracy within
89 +- 3) and writes them to --out as JSON. Only multimnist's generator is used (load_data), nothing of its
training code.

    python scripts/check_study_regime.py --out check.json [--data-seed 7] [--seed 0] [--preset study]
"""

from __future__ import annotations

import argparse
import json
import sys

import multimnist  # selects Keras' JAX backend before Keras loads

import keras
import numpy as np


def study_network() -> keras.Model:
    return keras.Sequential([
        keras.Input((1092,)),
        keras.layers.Dense(80, activation="sigmoid", kernel_initializer="he_normal"),
        keras.layers.Dense(70, activation="sigmoid", kernel_initializer="he_normal"),
        keras.layers.Dense(50, activation="softmax", kernel_initializer="he_normal"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file for the readings")
    parser.add_argument("--preset", default="study")
    parser.add_argument("--data-seed", type=int, default=7, help="a data seed no calibration used (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="weights, split and shuffling")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = multimnist.load_data(preset=args.preset, seed=args.data_seed)
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255.0  # (N, 28, 39) -> (N, 1092) in [0, 1]
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255.0
    y_train, y_test = keras.utils.to_categorical(y_train, 50), keras.utils.to_categorical(y_test, 50)
    keras.utils.set_random_seed(args.seed)
    order = np.random.default_rng(args.seed).permutation(len(x_train))
    n_val = len(x_train) // 5
    val, train = order[:n_val], order[n_val:]
    model = study_network()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train[train], y_train[train], validation_data=(x_train[val], y_train[val]),
                        epochs=args.epochs, batch_size=256, verbose=2).history
    train_acc = model.evaluate(x_train[train], y_train[train], batch_size=2048, verbose=0, return_dict=True)
    test_acc = model.evaluate(x_test, y_test, batch_size=2048, verbose=0, return_dict=True)
    val_acc = np.array(history["val_accuracy"])
    plateau = int(np.argmax(val_acc >= val_acc.max() - 0.01)) + 1  # first epoch within 1 point of the best
    checks = {
        "train_accuracy_at_last_epoch": {"value": train_acc["accuracy"], "target": ">= 0.99",
                                         "passed": train_acc["accuracy"] >= 0.99},
        "val_within_1_point_of_best_by_epoch": {"value": plateau, "target": "<= 15", "passed": plateau <= 15},
        "test_accuracy": {"value": test_acc["accuracy"], "target": "0.89 +- 0.03",
                          "passed": abs(test_acc["accuracy"] - 0.89) <= 0.03},
    }
    result = {"preset": args.preset, "data_seed": args.data_seed, "seed": args.seed, "epochs": args.epochs,
              "best_val_accuracy": float(val_acc.max()), "checks": checks,
              "val_accuracy": val_acc.tolist(), "val_loss": history["val_loss"], "accuracy": history["accuracy"]}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    for name, c in checks.items():
        print(f"{name}: {c['value']:.4g} (target {c['target']}): {'met' if c['passed'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

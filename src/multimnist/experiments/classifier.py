"""Study sections 3-4 as steps: train one classifier into a run folder, over seeds, and the side sweeps.

A run folder (see training/run.py) ends up holding config.yaml, history.csv, model.keras, metrics.json
(written last), loss.png, accuracy.png, confusion.png, confusion.csv, confused_pairs.csv and per_class.png.
Training is idempotent: a finished folder with the same resolved config is returned as it is, an
unfinished one resumes from its last epoch, and a folder holding another config is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from multimnist.config import load_experiment, to_dict
from multimnist.data import Dataset, Prepared, prepare
from multimnist.data.augment import AugmentConfig, rebalance
from multimnist.data.config import FLAT
from multimnist.errors import UserError
from multimnist.evaluation.classification import classification_summary
from multimnist.executor import Executor, Job, run_jobs
from multimnist.experiments.compare import compare_runs
from multimnist.files import write_text
from multimnist.formatting import csv_text
from multimnist.layout import HISTORY, read_history
from multimnist.models.classifier import ModelConfig, build_classifier
from multimnist.report.figures import accuracy_frequency_figure, confusion_figure, curves_figure
from multimnist.training.fit import FitResult, TrainConfig, accuracy, compile_model, fit, predict
from multimnist.training.run import dataset_fingerprint, finish_run, load_model, open_run, start_run, versions
from multimnist.training.seeding import seed_everything

import keras
import numpy as np

log = logging.getLogger(__name__)

# What metrics.json holds. 2: train and validation accuracy of the kept weights measured in inference mode
# (1 took Keras' running training-mode average). A finished run of an older schema is measured again.
METRICS_SCHEMA = 2


@dataclass
class DataConfig:
    """How the dataset becomes training, validation and test inputs (study section 2)."""

    val_fraction: float = 0.2  # share of the training images held out for validation
    split_seed: int | None = None  # seed of the validation split; None: the run's seed


@dataclass
class ClassifierTrainConfig(TrainConfig):
    """The shared training settings plus the classifier's loss."""

    label_smoothing: float = 0.0  # Keras CategoricalCrossentropy(label_smoothing=...)

    def __post_init__(self):
        super().__post_init__()
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UserError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


@dataclass
class ClassifierConfig:
    """One classifier experiment. The defaults are the study's unregularized network (section 3)."""

    name: str = ""  # label in tables and folder names; default: the config file's name
    seed: int = 0  # weights, data order, validation split (unless data.split_seed) and augmentation
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: ClassifierTrainConfig = field(default_factory=ClassifierTrainConfig)
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class ClassifierInputs:
    """The prepared splits, and the training inputs the network fits on (augmented when configured)."""

    arrays: Prepared  # as split: arrays.x_train matches arrays.train_idx
    x_fit: np.ndarray  # arrays.x_train plus Algorithm 1's new samples, shuffled
    y_fit: np.ndarray

    @property
    def added(self) -> int:
        return len(self.x_fit) - len(self.arrays.x_train)


def load_classifier_config(config, overrides=(), seed: int | None = None,
                           epochs: int | None = None) -> ClassifierConfig:
    """A ClassifierConfig from a built-in name, a YAML path, a mapping or a ClassifierConfig, then overrides.

    `seed` and `epochs`, when given, replace the config's own.
    """
    return load_experiment(ClassifierConfig, "classifier", config, overrides, seed, epochs)


def train_classifier(config, data: str | Path | Dataset, out: str | Path, seed: int | None = 0,
                     epochs: int | None = None, overrides=(), replace: bool = False) -> dict:
    """Train (or resume, or reuse) one classifier in the run folder `out`; returns its metrics.json content.

    `config`: a built-in name, a YAML path, a mapping or a ClassifierConfig; `overrides`: 'key=value' strings;
    `seed` None keeps the config's own seed; `replace`: a run of another config in `out` is replaced (see open_run).
    """
    cfg = load_classifier_config(config, overrides, seed, epochs)
    ds, fingerprint = dataset_fingerprint(data)
    finished = open_run(out, cfg, lambda path: load_classifier_config(path, seed=None), fingerprint["sha256"],
                        replace)
    if finished is not None and finished.get("schema") == METRICS_SCHEMA:
        return finished
    if finished is not None:  # trained by an older multimnist: measure again with the kept weights
        return _reevaluate(Path(out), finished, ds, cfg)
    model, inputs = compiled_classifier(ds, cfg)
    out = start_run(out, cfg)
    log.info("%s (seed %d): %s parameters, %s training images (%s augmented), writing to %s", cfg.name, cfg.seed,
             f"{model.count_params():,}", f"{len(inputs.x_fit):,}", f"{inputs.added:,}", out)
    result = fit(model, inputs.x_fit, inputs.y_fit, inputs.arrays.x_val, inputs.arrays.y_val, cfg.training, out)
    metrics, cm = evaluate_classifier(model, inputs.arrays, ds, result, cfg)
    write_classifier_files(out, metrics, result.history, cm)
    metrics.update(data=fingerprint, augmented_samples=inputs.added, n_params=int(model.count_params()),
                   versions=versions())
    return finish_run(out, metrics)


def _reevaluate(out: Path, old: dict, ds: Dataset, cfg: ClassifierConfig) -> dict:
    """Metrics of the current schema for a run finished by an older version, from its saved model and history."""
    log.info("%s: metrics from an older multimnist; measuring again with the saved model", out)
    arrays = classifier_inputs(ds, cfg).arrays
    result = FitResult(read_history(out / HISTORY), old["epochs_run"], old["best_epoch"], old["seconds_per_epoch"])
    metrics, cm = evaluate_classifier(load_model(out), arrays, ds, result, cfg)
    write_classifier_files(out, metrics, result.history, cm)
    metrics.update({k: old[k] for k in ("data", "augmented_samples", "n_params", "versions") if k in old})
    return finish_run(out, metrics)


def compiled_classifier(ds: Dataset, cfg: ClassifierConfig):
    """Seeded, the network of `cfg` compiled for its inputs on `ds`: (model, ClassifierInputs)."""
    seed_everything(cfg.seed)
    inputs = classifier_inputs(ds, cfg)
    model = build_classifier(cfg.model, FLAT, len(ds.classes))  # may refuse: the parameter budget
    compile_classifier(model, cfg.training, len(inputs.x_fit))
    return model, inputs


def classifier_inputs(ds: Dataset, cfg: ClassifierConfig) -> ClassifierInputs:
    """Split and scale (section 2), then augment the training part only (Algorithm 1)."""
    split_seed = cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed
    arrays = prepare(ds, cfg.data.val_fraction, seed=split_seed)
    rng = np.random.default_rng([cfg.seed, 1])  # its own stream: the split is unaffected
    x_fit, y_fit = rebalance(arrays.x_train, arrays.y_train, cfg.augmentation, rng)
    return ClassifierInputs(arrays, x_fit, y_fit)


def compile_classifier(model, cfg: ClassifierTrainConfig, n_train: int):
    """Categorical cross-entropy on one-hot targets, categorical accuracy, the configured optimizer."""
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    return compile_model(model, cfg, n_train, loss=loss, metrics=["accuracy"])


def evaluate_classifier(model, arrays: Prepared, ds: Dataset, result: FitResult,
                        cfg: ClassifierConfig) -> tuple[dict, np.ndarray]:
    """Test metrics and the confusion matrix's readings: (metrics, confusion matrix)."""
    probs = np.asarray(predict(model, arrays.x_test))
    classes = np.asarray(arrays.classes)
    true_idx = arrays.y_test.argmax(1)
    counts = np.array([(ds.y_train[arrays.train_idx] == c).sum() for c in classes])  # before augmentation
    summary = classification_summary(classes[true_idx], classes[probs.argmax(1)], classes, counts)
    cm = summary.pop("confusion")
    h, kept = result.history, result.best_epoch - 1  # the epoch whose weights the model holds
    # Accuracy of the kept weights in inference mode (dropout off), on the training split without augmentation;
    # Keras' running training-mode average stays in the history, as a curve.
    train_accuracy = accuracy(model, arrays.x_train, arrays.y_train)
    val_accuracy = accuracy(model, arrays.x_val, arrays.y_val)
    metrics = {
        "schema": METRICS_SCHEMA, "name": cfg.name, "seed": cfg.seed,
        "test_accuracy": summary["test_accuracy"],
        # plain cross-entropy: no penalty, no label smoothing, so runs compare
        "test_loss": float(-np.mean(np.log(np.clip(probs[np.arange(len(probs)), true_idx], 1e-7, 1)))),
        "balanced_accuracy": summary["balanced_accuracy"],
        "best_val_accuracy": max(h["val_accuracy"]), "best_val_accuracy_epoch": int(np.argmax(h["val_accuracy"])) + 1,
        "train_accuracy": train_accuracy, "val_accuracy": val_accuracy, "train_val_gap": train_accuracy - val_accuracy,
        "train_accuracy_running": h["accuracy"][kept],
        "last_train_accuracy": h["accuracy"][-1], "last_val_accuracy": h["val_accuracy"][-1],
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
        "seconds_per_epoch": result.seconds_per_epoch,
        "classes": classes.tolist(), "per_class_accuracy": summary["per_class_accuracy"],
        "train_counts": counts.tolist(),
        "confused_pairs": summary["confused_pairs"], "frequency_correlation": summary["frequency_correlation"],
        "config": to_dict(cfg),
    }
    return metrics, cm


def write_classifier_files(out: Path, metrics: dict, history: dict, cm: np.ndarray) -> None:
    """loss.png, accuracy.png, confusion.png, per_class.png, confusion.csv and confused_pairs.csv."""
    title, classes = f"{metrics['name']}, seed {metrics['seed']}", metrics["classes"]
    curves_figure(history, "loss", out / "loss.png", f"Loss ({title})", metrics["best_epoch"])
    curves_figure(history, "accuracy", out / "accuracy.png", f"Categorical accuracy ({title})", metrics["best_epoch"])
    confusion_figure(cm, classes, out / "confusion.png",
                     f"Test confusion matrix ({title}): accuracy {metrics['test_accuracy']:.1%}")
    accuracy = [np.nan if a is None else a for a in metrics["per_class_accuracy"]]
    accuracy_frequency_figure(metrics["train_counts"], accuracy, classes, out / "per_class.png",
                              f"Per-class test accuracy vs class frequency ({title})",
                              metrics["frequency_correlation"]["spearman_rho"])
    rows = [[c, *row] for c, row in zip(classes, cm.tolist(), strict=True)]
    write_text(out / "confusion.csv", csv_text([["true\\predicted", *classes], *rows]))
    pairs = [[p["true"], p["predicted"], p["count"], f"{p['share']:.4f}"] for p in metrics["confused_pairs"]]
    write_text(out / "confused_pairs.csv", csv_text([["true", "predicted", "count", "share"], *pairs]))


# --- several runs: seeds, and the study's side experiments (sections 3.1, 3.2) ---

SWEEP_BASE = "unregularized"  # every side experiment changes one thing of the study's network
SWEEPS: dict[str, dict[str, list[str]]] = {
    # Hidden layers within the 100k budget; 2 is the study's network, 5 its "70 to 50 neurons each".
    "depth": {
        "depth-2": ["model.hidden=[80, 70]"],
        "depth-3": ["model.hidden=[80, 60, 50]"],
        "depth-4": ["model.hidden=[75, 60, 55, 50]"],
        "depth-5": ["model.hidden=[70, 60, 60, 50, 50]"],
    },
    # Each optimizer with its Keras default learning rate (SGD 0.01, RMSprop and Adam 0.001) x initializer.
    "optimizer": {
        f"{opt}-{init}": [f"training.optimizer={opt}", f"training.learning_rate={lr}", f"model.initializer={init}"]
        for opt, lr in (("sgd", 0.01), ("rmsprop", 0.001), ("adam", 0.001))
        for init in ("glorot_normal", "he_normal")
    },
    "batch": {f"batch-{b}": [f"training.batch_size={b}"] for b in (8, 32, 128, 256, 512)},
    "activation": {
        "activation-sigmoid": ["model.activation=sigmoid"],
        "activation-leaky_relu": ["model.activation=leaky_relu", "model.negative_slope=0.01"],
    },
}


def sweep_configs(kind: str, epochs: int | None = None, base=SWEEP_BASE) -> dict[str, ClassifierConfig]:
    """Each setting of one side experiment as a config: `base` with the setting's overrides."""
    if kind not in SWEEPS:
        raise UserError(f"unknown sweep {kind!r}; choose from {', '.join(SWEEPS)}")
    return {name: load_classifier_config(base, [*settings, f"name={name}"], epochs=epochs)
            for name, settings in SWEEPS[kind].items()}


def run_seeds(config, data, out_root, seeds=(0,), epochs: int | None = None, overrides=(),
              n_jobs: int = 1, executor: Executor | None = None, replace: bool = False) -> list[dict]:
    """Train `config` once per seed into OUT_ROOT/NAME/seed-S; returns each run's metrics, in seed order."""
    cfg = load_classifier_config(config, overrides, epochs=epochs)
    jobs = [_seed_job(cfg, data, Path(out_root) / cfg.name / f"seed-{s}", s, replace) for s in seeds]
    log.info("%s: %d run(s) under %s", cfg.name, len(jobs), Path(out_root) / cfg.name)
    return run_jobs(jobs, n_jobs, executor=executor)


def _seed_job(cfg: ClassifierConfig, data, out: Path, seed: int, replace: bool = False) -> Job:
    return Job(f"{cfg.name}/seed-{seed}", train_classifier,
               {"config": to_dict(cfg), "data": str(data), "out": str(out), "seed": int(seed), "replace": replace})


def run_sweep(kind: str, data, out_root, seeds=(0,), epochs: int | None = None, n_jobs: int = 1,
              base=SWEEP_BASE, executor: Executor | None = None, replace: bool = False) -> dict:
    """One of the study's side experiments (depth, optimizer, batch, activation) over `seeds`.

    Each setting trains from `base` into OUT_ROOT/SETTING/seed-S; the table goes to OUT_ROOT/compare.{csv,md}.
    Returns {"kind", "runs": [{name, seed, run_dir, test_accuracy, best_val_accuracy}], "table": rows}.
    """
    out_root = Path(out_root)
    jobs, dirs = [], []
    for name, cfg in sweep_configs(kind, epochs, base).items():
        for s in seeds:
            dirs.append(out_root / name / f"seed-{s}")
            jobs.append(_seed_job(cfg, data, dirs[-1], s, replace))
    log.info("sweep %s: %d run(s) under %s", kind, len(jobs), out_root)
    results = run_jobs(jobs, n_jobs, executor=executor)
    runs = [{"name": m["name"], "seed": m["seed"], "run_dir": str(d), "test_accuracy": m["test_accuracy"],
             "best_val_accuracy": m["best_val_accuracy"]} for m, d in zip(results, dirs, strict=True)]
    return {"kind": kind, "runs": runs, "table": compare_runs(dirs, out_root)}

"""Study sections 3-4 as steps: train one classifier into a run folder, over seeds, and the side sweeps.

A run folder (see training/run.py) ends up holding config.yaml, history.csv, model.keras, metrics.json
(written last), loss.png, accuracy.png, confusion.png, confusion.csv, confused_pairs.csv and per_class.png.
Training is idempotent: a finished folder with the same resolved config is returned as it is, an
unfinished one resumes from its last epoch, and a folder holding another config is refused.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from multimnist.config import load_experiment, to_dict
from multimnist.data import Dataset, Prepared, load_dataset, prepare
from multimnist.data.augment import AugmentConfig, rebalance
from multimnist.errors import UserError
from multimnist.executor import Job, run_jobs
from multimnist.files import sha256_arrays, write_json, write_text, write_yaml
from multimnist.models.classifier import ModelConfig
from multimnist.training.fit import TrainConfig
from multimnist.training.run import is_complete, versions

import numpy as np


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


def load_classifier_config(config, overrides=(), seed: int | None = None,
                           epochs: int | None = None) -> ClassifierConfig:
    """A ClassifierConfig from a built-in name, a YAML path, a mapping or a ClassifierConfig, then overrides.

    `seed` and `epochs`, when given, replace the config's own.
    """
    return load_experiment(ClassifierConfig, "classifier", config, overrides, seed, epochs)


def train_classifier(config, data: str | Path | Dataset, out: str | Path, seed: int | None = 0,
                     epochs: int | None = None, overrides=(), verbose: int = 1) -> dict:
    """Train (or resume, or reuse) one classifier in the run folder `out`; returns its metrics.json content.

    `config`: a built-in name, a YAML path, a mapping or a ClassifierConfig; `overrides`: 'key=value' strings;
    `seed` None keeps the config's own seed.
    """
    from multimnist.models.classifier import build_classifier
    from multimnist.training.fit import fit
    from multimnist.training.seeding import seed_everything

    cfg = load_classifier_config(config, overrides, seed, epochs)
    out = Path(out)
    ds = data if isinstance(data, Dataset) else load_dataset(data)
    fingerprint = {"path": str(data) if not isinstance(data, Dataset) else None,
                   "sha256": sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)}
    finished = _check_run_folder(out, cfg, fingerprint)
    if finished is not None:
        return finished
    seed_everything(cfg.seed)
    arrays, added = classifier_inputs(ds, cfg)
    model = build_classifier(cfg.model, arrays.x_train.shape[1], len(arrays.classes))  # may refuse: budget
    compile_classifier(model, cfg.training, n_train=len(arrays.x_train))
    write_yaml(out / "config.yaml", to_dict(cfg))  # only now: a refused config leaves no run folder behind
    if verbose:
        print(f"{cfg.name} (seed {cfg.seed}): {model.count_params():,} parameters, {len(arrays.x_train):,} training "
              f"images ({added:,} augmented), writing to {out}", flush=True)
    result = fit(model, arrays.x_train, arrays.y_train, arrays.x_val, arrays.y_val, cfg.training, out, verbose=verbose)
    metrics = evaluate_classifier(model, arrays, ds, result, cfg, out)
    metrics.update(data=fingerprint, augmented_samples=added, n_params=int(model.count_params()), versions=versions())
    write_json(out / "metrics.json", metrics)  # last: its presence marks the run finished
    return json.loads((out / "metrics.json").read_text())


def classifier_inputs(ds: Dataset, cfg: ClassifierConfig) -> tuple[Prepared, int]:
    """Split and scale (section 2), then augment the training part only (Algorithm 1); (inputs, n added)."""
    split_seed = cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed
    arrays = prepare(ds, cfg.data.val_fraction, seed=split_seed)
    n = len(arrays.x_train)
    if cfg.augmentation.methods:
        rng = np.random.default_rng([cfg.seed, 1])  # its own stream: the split is unaffected
        arrays.x_train, arrays.y_train = rebalance(arrays.x_train, arrays.y_train, cfg.augmentation, rng)
    return arrays, len(arrays.x_train) - n


def compile_classifier(model, cfg: ClassifierTrainConfig, n_train: int):
    """Categorical cross-entropy on one-hot targets, categorical accuracy, the configured optimizer."""
    from multimnist.training.fit import make_optimizer

    import keras

    steps = int(np.ceil(n_train / cfg.batch_size))
    model.compile(optimizer=make_optimizer(cfg, steps),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
                  metrics=["accuracy"])
    return model


def evaluate_classifier(model, arrays: Prepared, ds: Dataset, result, cfg: ClassifierConfig, out: Path) -> dict:
    """Test metrics and the confusion matrix's readings; writes the run's figures and tables."""
    from multimnist.evaluation.classification import classification_summary

    probs = np.asarray(model.predict(arrays.x_test, batch_size=2048, verbose=0))
    classes = np.asarray(arrays.classes)
    true_idx = arrays.y_test.argmax(1)
    counts = np.array([(ds.y_train[arrays.train_idx] == c).sum() for c in classes])  # before augmentation
    summary = classification_summary(classes[true_idx], classes[probs.argmax(1)], classes, counts)
    cm = summary.pop("confusion")
    h, kept = result.history, result.best_epoch - 1  # the epoch whose weights the model holds
    metrics = _finite({
        "name": cfg.name, "seed": cfg.seed,
        "test_accuracy": summary["test_accuracy"],
        # plain cross-entropy: no penalty, no label smoothing, so runs compare
        "test_loss": float(-np.mean(np.log(np.clip(probs[np.arange(len(probs)), true_idx], 1e-7, 1)))),
        "balanced_accuracy": summary["balanced_accuracy"],
        "best_val_accuracy": max(h["val_accuracy"]), "best_val_accuracy_epoch": int(np.argmax(h["val_accuracy"])) + 1,
        "train_accuracy": h["accuracy"][kept], "val_accuracy": h["val_accuracy"][kept],
        "train_val_gap": h["accuracy"][kept] - h["val_accuracy"][kept],
        "last_train_accuracy": h["accuracy"][-1], "last_val_accuracy": h["val_accuracy"][-1],
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
        "seconds_per_epoch": result.seconds_per_epoch,
        "classes": classes.tolist(), "per_class_accuracy": summary["per_class_accuracy"],
        "train_counts": counts.tolist(),
        "confused_pairs": summary["confused_pairs"], "frequency_correlation": summary["frequency_correlation"],
        "config": to_dict(cfg),
    })
    _write_run_files(out, metrics, h, cm)
    return metrics


def _write_run_files(out: Path, metrics: dict, history: dict, cm: np.ndarray) -> None:
    """loss.png, accuracy.png, confusion.png, per_class.png, confusion.csv and confused_pairs.csv."""
    from multimnist.report.figures import accuracy_frequency_figure, confusion_figure, curves_figure

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
    write_text(out / "confusion.csv", _table([["true\\predicted", *classes], *rows]))
    pairs = [[p["true"], p["predicted"], p["count"], f"{p['share']:.4f}"] for p in metrics["confused_pairs"]]
    write_text(out / "confused_pairs.csv", _table([["true", "predicted", "count", "share"], *pairs]))


def _check_run_folder(out: Path, cfg: ClassifierConfig, fingerprint: dict) -> dict | None:
    """The finished run's metrics if `out` holds this very run; None to train (or resume); else refuse."""
    saved = out / "config.yaml"
    if not saved.is_file():
        if out.exists() and any(p.name != "backup" for p in out.iterdir()):
            raise UserError(f"{out} is not empty and holds no run: choose another --out")
        return None
    try:  # through the dataclasses, so settings added since then take their defaults
        previous = to_dict(load_classifier_config(saved, seed=None))
    except UserError as e:
        raise UserError(f"{out} holds a run this version cannot read ({e}): choose another --out") from None
    if previous != to_dict(cfg):
        diff = sorted(_differences(previous, to_dict(cfg)))
        raise UserError(f"{out} holds a run of another config (differs in {', '.join(diff[:5])}): "
                        "choose another --out or delete it")
    if not is_complete(out):
        return None
    metrics = json.loads((out / "metrics.json").read_text())
    if metrics.get("data", {}).get("sha256") != fingerprint["sha256"]:
        raise UserError(f"{out} was trained on other data than {fingerprint['path']}: choose another --out")
    return metrics


def _differences(a, b, prefix="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in set(a) | set(b) for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


def _table(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _finite(obj):
    """NaN and infinities -> None, so metrics.json is strict JSON."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


# --- several runs: seeds, and the study's side experiments (sections 3.1, 3.2) ---

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
        "activation-leaky_relu": ["model.activation=leaky_relu", "model.leaky_alpha=0.01"],
    },
}


def run_seeds(config, data, out_root, seeds=(0,), epochs: int | None = None, overrides=(), n_jobs: int = 1,
              verbose: int = 2) -> list[dict]:
    """Train `config` once per seed into OUT_ROOT/NAME/seed-S; returns each run's metrics, in seed order."""
    cfg = load_classifier_config(config, overrides, epochs=epochs)
    jobs = [Job(f"{cfg.name}/seed-{s}", train_classifier,
                {"config": to_dict(cfg), "data": str(data), "out": str(Path(out_root) / cfg.name / f"seed-{s}"),
                 "seed": int(s), "verbose": verbose})
            for s in seeds]
    print(f"{cfg.name}: {len(jobs)} run(s) under {Path(out_root) / cfg.name}", flush=True)
    return run_jobs(jobs, n_jobs)


def run_sweep(kind: str, data, out_root, seeds=(0,), epochs: int | None = None, n_jobs: int = 1,
              base="unregularized", verbose: int = 2) -> dict:
    """One of the study's side experiments (depth, optimizer, batch, activation) over `seeds`.

    Each setting trains from `base` into OUT_ROOT/SETTING/seed-S; the table goes to OUT_ROOT/compare.{csv,md}.
    Returns {"kind", "runs": [{name, seed, run_dir, test_accuracy, best_val_accuracy}], "table": rows}.
    """
    from multimnist.experiments.compare import compare_runs

    if kind not in SWEEPS:
        raise UserError(f"unknown sweep {kind!r}; choose from {', '.join(SWEEPS)}")
    out_root = Path(out_root)
    jobs, dirs = [], []
    for name, settings in SWEEPS[kind].items():
        cfg = load_classifier_config(base, [*settings, f"name={name}"], epochs=epochs)
        for s in seeds:
            dirs.append(out_root / name / f"seed-{s}")
            jobs.append(Job(f"{name}/seed-{s}", train_classifier, {"config": to_dict(cfg), "data": str(data),
                                                                   "out": str(dirs[-1]), "seed": int(s),
                                                                   "verbose": verbose}))
    print(f"sweep {kind}: {len(jobs)} run(s) under {out_root}", flush=True)
    results = run_jobs(jobs, n_jobs)
    runs = [{"name": m["name"], "seed": m["seed"], "run_dir": str(d), "test_accuracy": m["test_accuracy"],
             "best_val_accuracy": m["best_val_accuracy"]} for m, d in zip(results, dirs, strict=True)]
    return {"kind": kind, "runs": runs, "table": compare_runs(dirs, out_root)}

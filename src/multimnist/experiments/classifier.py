"""Study sections 3-4 as steps: train one classifier into a run folder, over seeds, and the side sweeps.

A run folder (see training/run.py) ends up holding config.yaml, history.csv, model.keras, metrics.json
(written last), loss.png, accuracy.png, confusion.png, confusion.csv, confused_pairs.csv and per_class.png.
Training is idempotent: a finished folder with the same resolved config is returned as it is, an
unfinished one resumes from its last epoch, and a folder holding another config is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replace_dataclass
from pathlib import Path

from multimnist.config import load_experiment, to_dict
from multimnist.data import Dataset, Prepared, prepare
from multimnist.data.augment import AugmentConfig, new_samples
from multimnist.data.config import FLAT
from multimnist.data.prepare import encode_labels, one_hot, split_indices, to_inputs
from multimnist.errors import UserError
from multimnist.evaluation.classification import classification_summary
from multimnist.executor import Executor
from multimnist.experiments import runs
from multimnist.experiments.compare import compare_runs
from multimnist.figures.png import accuracy_frequency_figure, confusion_figure, curves_figure
from multimnist.files import write_text
from multimnist.formatting import csv_text
from multimnist.layout import HISTORY, read_history
from multimnist.models.classifier import ModelConfig, build_classifier
from multimnist.training.config import TrainConfig
from multimnist.training.inference import accuracy, predict
from multimnist.training.pack import Member, Task, TrainResult, train_pack
from multimnist.training.run import finish_run, load_model, start_run
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
    new_x: np.ndarray  # Algorithm 1's new samples (none without augmentation)
    new_y: np.ndarray

    @property
    def x_fit(self) -> np.ndarray:
        """arrays.x_train, then the new samples (the trainer draws each epoch's order itself)."""
        return np.concatenate([self.arrays.x_train, self.new_x]) if len(self.new_x) else self.arrays.x_train

    @property
    def y_fit(self) -> np.ndarray:
        return np.concatenate([self.arrays.y_train, self.new_y]) if len(self.new_y) else self.arrays.y_train

    @property
    def added(self) -> int:
        return len(self.new_x)


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
    return runs.train(CLASSIFIER, [cfg], data, [out], replace)[0]


def _train_pack(cfgs: list[ClassifierConfig], ds: Dataset, out: list[Path]) -> list[dict]:
    """Build, train and evaluate networks that share one pack; their metrics (the run protocol adds the data's
    fingerprint, the versions and the config).

    The networks read one pool: the dataset's training images once, then each network's augmented samples; each
    trains on its split's rows and its own new samples, and validates on its split's other rows."""
    pool_x = to_inputs(ds.x_train)
    pool_y = one_hot(encode_labels(ds.y_train, ds.classes), len(ds.classes))
    splits, extras = [], []
    for cfg in cfgs:
        splits.append(split_indices(len(pool_x), cfg.data.val_fraction, _split_seed(cfg)))
        train_idx = splits[-1][0]
        rng = np.random.default_rng([cfg.seed, 1])  # as classifier_inputs draws them
        extras.append(new_samples(pool_x[train_idx], pool_y[train_idx], cfg.augmentation, rng))
    offsets = np.cumsum([len(pool_x), *(len(x) for x, _ in extras)])
    if any(len(x) for x, _ in extras):
        pool_x = np.concatenate([pool_x, *(x for x, _ in extras)])
        pool_y = np.concatenate([pool_y, *(y for _, y in extras)])
    members = []
    for cfg, folder, (train_idx, val_idx), (new_x, _), start in zip(cfgs, out, splits, extras, offsets, strict=False):
        seed_everything(cfg.seed)
        model = build_classifier(cfg.model, FLAT, len(ds.classes))  # may refuse: the parameter budget
        start_run(folder, cfg)
        log.info("%s (seed %d): %s parameters, %s training images (%s augmented), writing to %s", cfg.name,
                 cfg.seed, f"{model.count_params():,}", f"{len(train_idx) + len(new_x):,}", f"{len(new_x):,}", folder)
        rows = np.concatenate([train_idx, start + np.arange(len(new_x))])
        members.append(Member(model, pool_x, pool_y, pool_x, pool_y, cfg.training, folder, cfg.seed,
                              f"{cfg.name}/seed-{cfg.seed}", index=rows, val_index=val_idx))
    trained = train_pack(members, classifier_task(cfgs[0].training.label_smoothing), runs.pack_name(cfgs))
    models = [m.model for m in members]
    del pool_x, pool_y, members  # the evaluation below prepares each split again, one at a time
    results = []
    for cfg, (new_x, _), result, folder, model in zip(cfgs, extras, trained, out, models, strict=True):
        arrays = prepare(ds, cfg.data.val_fraction, seed=_split_seed(cfg))
        metrics, cm = evaluate_classifier(model, arrays, ds, result, cfg)
        write_classifier_files(folder, metrics, result.history, cm)
        metrics.update(augmented_samples=len(new_x), n_params=int(model.count_params()), pack_size=result.pack_size)
        results.append(metrics)
    return results


def _split_seed(cfg: ClassifierConfig) -> int:
    return cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed


def _batch_statistics(cfg: ClassifierConfig) -> dict:
    """Batch normalization mixes a batch's samples: only equal augmentations (data sizes) share a pack."""
    return {"augmentation": sorted(to_dict(cfg.augmentation).items())} if cfg.model.norm == "batch" else {}


def classifier_task(label_smoothing: float = 0.0) -> Task:
    """Categorical cross-entropy on one-hot targets (Keras' loss, per sample) and categorical accuracy."""

    def loss(y, y_pred):
        return keras.losses.categorical_crossentropy(y, y_pred, label_smoothing=label_smoothing)

    def metrics(y, y_pred):
        hit = keras.ops.argmax(y, axis=-1) == keras.ops.argmax(y_pred, axis=-1)
        return {"accuracy": keras.ops.cast(hit, "float32")}

    return Task(f"classifier(label_smoothing={label_smoothing})", loss, metrics, ("accuracy",))


def _refresh(out: Path, old: dict, ds: Dataset, cfg: ClassifierConfig) -> dict:
    """A finished run's metrics; those of an older schema measured again with its saved model and history."""
    if old.get("schema") == METRICS_SCHEMA:
        return old
    log.info("%s: metrics from an older multimnist; measuring again with the saved model", out)
    arrays = classifier_inputs(ds, cfg).arrays
    result = TrainResult(read_history(out / HISTORY), old["epochs_run"], old["best_epoch"], old["seconds_per_epoch"])
    metrics, cm = evaluate_classifier(load_model(out), arrays, ds, result, cfg)
    write_classifier_files(out, metrics, result.history, cm)
    metrics.update({k: old[k] for k in ("data", "augmented_samples", "n_params", "pack_size", "versions")
                    if k in old}, config=to_dict(cfg))
    return finish_run(out, metrics)


# The classifier on the run protocol (experiments/runs.py): L1/L2 factors and initializers vary within a pack.
CLASSIFIER = runs.Kind("classifier", load_classifier_config, _train_pack, per_network=("l1", "l2", "initializer"),
                       pack_extra=_batch_statistics, refresh=_refresh)


def seeded_classifier(ds: Dataset, cfg: ClassifierConfig):
    """Seeded, the network of `cfg` for its inputs on `ds`: (model, ClassifierInputs)."""
    seed_everything(cfg.seed)
    inputs = classifier_inputs(ds, cfg)
    model = build_classifier(cfg.model, FLAT, len(ds.classes))  # may refuse: the parameter budget
    return model, inputs


def classifier_inputs(ds: Dataset, cfg: ClassifierConfig) -> ClassifierInputs:
    """Split and scale (section 2), then augment the training part only (Algorithm 1)."""
    arrays = prepare(ds, cfg.data.val_fraction, seed=_split_seed(cfg))
    rng = np.random.default_rng([cfg.seed, 1])  # its own stream: the split is unaffected
    return ClassifierInputs(arrays, *new_samples(arrays.x_train, arrays.y_train, cfg.augmentation, rng))


def evaluate_classifier(model, arrays: Prepared, ds: Dataset, result: TrainResult,
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


def run_configs(configs, data, out_root, seeds: Sequence[int] | Mapping[str, Sequence[int]] = (0,),
                epochs: int | None = None, overrides=(), n_jobs: int = 1, executor: Executor | None = None,
                replace: bool = False, pack: int | None = None) -> dict[str, list[dict]]:
    """Train each config once per seed into OUT_ROOT/NAME/seed-S, packing what can share a pack (across configs
    too); returns {name: each seed's metrics, in seed order}. `seeds`: the same for every config, or by config name
    (a name left out gets none); `overrides` apply to every config."""
    cfgs = [load_classifier_config(c, overrides, epochs=epochs) for c in configs]
    seeded = [replace_dataclass(cfg, seed=int(s)) for cfg in cfgs
              for s in (seeds.get(cfg.name, ()) if isinstance(seeds, Mapping) else seeds)]
    out = [Path(out_root) / r.name / f"seed-{r.seed}" for r in seeded]
    log.info("%s: %d run(s) under %s", ", ".join(c.name for c in cfgs), len(seeded), out_root)
    results = runs.run(CLASSIFIER, seeded, data, out, n_jobs, executor, replace, pack)
    by_name: dict[str, list[dict]] = {c.name: [] for c in cfgs}
    for r, m in zip(seeded, results, strict=True):
        by_name[r.name].append(m)
    return by_name


def run_sweep(kind: str, data, out_root, seeds: Sequence[int] | Mapping[str, Sequence[int]] = (0,),
              epochs: int | None = None, n_jobs: int = 1,
              base=SWEEP_BASE, executor: Executor | None = None, replace: bool = False,
              pack: int | None = None) -> dict:
    """One of the study's side experiments (depth, optimizer, batch, activation) over `seeds`.

    Each setting trains from `base` into OUT_ROOT/SETTING/seed-S; the table goes to OUT_ROOT/compare.{csv,md}.
    Returns {"kind", "runs": [{name, seed, run_dir, test_accuracy, best_val_accuracy}], "table": rows}.
    """
    out_root = Path(out_root)
    log.info("sweep %s under %s", kind, out_root)
    results = run_configs(list(sweep_configs(kind, epochs, base).values()), data, out_root, seeds, n_jobs=n_jobs,
                          executor=executor, replace=replace, pack=pack)
    trained, dirs = [], []
    for name, metrics in results.items():
        for m in metrics:
            dirs.append(out_root / name / f"seed-{m['seed']}")
            trained.append({"name": m["name"], "seed": m["seed"], "run_dir": str(dirs[-1]),
                         "test_accuracy": m["test_accuracy"], "best_val_accuracy": m["best_val_accuracy"]})
    return {"kind": kind, "runs": trained, "table": compare_runs(dirs, out_root)}

"""Model-agnostic training: Keras `model.fit` with its own callbacks, in a run folder, resumable.

The classifier (x -> one-hot) and the autoencoder (x -> x) both train through `fit`; it knows nothing about
either. An interrupted run resumes from its last finished epoch (BackupAndRestore) when `fit` is called
again on the same run folder.
"""

from __future__ import annotations

import csv
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import multimnist  # noqa: F401  (selects the JAX backend before Keras loads)
from multimnist.errors import UserError
from multimnist.files import atomic_path, write_npz
from multimnist.layout import BACKUP, HISTORY, MODEL

import keras
import numpy as np

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "rmsprop", "adam")
PREDICT_BATCH = 2048  # inference batch size: fast on CPU, small enough for every model here


@dataclass
class EarlyStoppingConfig:
    """Keras EarlyStopping; the study used patience 10, min_delta 0.05 and restored the best weights."""

    monitor: str = "val_loss"  # the quantity watched each epoch
    min_delta: float = 0.05  # smaller improvements count as none
    patience: int = 10  # epochs without improvement before stopping
    restore_best_weights: bool = True  # end with the best epoch's weights, not the last


@dataclass
class TrainConfig:
    """How a model is trained, whatever the model."""

    epochs: int = 50
    batch_size: int = 256
    optimizer: str = "adam"  # sgd, rmsprop or adam, each with Keras' defaults except the learning rate
    learning_rate: float = 1e-3
    beta_1: float = 0.9  # Adam only
    beta_2: float = 0.999  # Adam only
    early_stopping: EarlyStoppingConfig | None = None
    lr_schedule: str | None = None  # None or "cosine" (decays to 0 over all epochs' steps)
    shuffle: bool = True
    extra: dict = field(default_factory=dict)  # optimizer keyword arguments beyond the above

    def __post_init__(self):
        if isinstance(self.early_stopping, dict):
            self.early_stopping = EarlyStoppingConfig(**self.early_stopping)
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise UserError("epochs and batch size must be positive")
        if self.learning_rate <= 0:
            raise UserError(f"learning rate must be positive, got {self.learning_rate}")
        if self.lr_schedule not in (None, "cosine"):
            raise UserError(f"lr_schedule must be null or 'cosine', got {self.lr_schedule!r}")


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return max(1, math.ceil(n_train / batch_size))


def make_optimizer(cfg: TrainConfig, n_train: int):
    """The configured optimizer; a cosine schedule decays over all epochs' steps of `n_train` samples."""
    lr = cfg.learning_rate
    if cfg.lr_schedule == "cosine":
        steps = cfg.epochs * steps_per_epoch(n_train, cfg.batch_size)
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr, beta_1=cfg.beta_1, beta_2=cfg.beta_2, **cfg.extra)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, **cfg.extra)
    return keras.optimizers.SGD(lr, **cfg.extra)


def compile_model(model, cfg: TrainConfig, n_train: int, loss, metrics):
    """Compile `model` with the configured optimizer for `n_train` training samples."""
    model.compile(optimizer=make_optimizer(cfg, n_train), loss=loss, metrics=metrics)
    return model


def predict(model, x):
    """Inference over `x` in large batches, silently."""
    return model.predict(x, batch_size=PREDICT_BATCH, verbose=0)


def accuracy(model, x, y_onehot) -> float:
    """Share of `x` whose most probable class is the one-hot target's, in inference mode (dropout off)."""
    return float(np.mean(np.asarray(predict(model, x)).argmax(1) == np.asarray(y_onehot).argmax(1)))


def keras_verbosity() -> int:
    """Keras' own progress: a live bar on a terminal, one line per epoch in a log, nothing when quiet (-q)."""
    if not log.isEnabledFor(logging.INFO):
        return 0
    return 1 if sys.stdout.isatty() else 2


@dataclass
class FitResult:
    history: dict[str, list[float]]  # per epoch, as in history.csv
    epochs_run: int
    best_epoch: int  # 1-based epoch whose weights the model holds at the end
    seconds_per_epoch: float  # wall time of this call's epochs, validation included


def fit(model, x_train, y_train, x_val, y_val, cfg: TrainConfig, run_dir: str | Path,
        verbose: int | None = None, callbacks=()) -> FitResult:
    """Train a compiled `model` in `run_dir`: history.csv, model.keras, resumable from run_dir/backup.

    `verbose` is Keras' (0, 1 or 2); None chooses by where the output goes (`keras_verbosity`).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    backup = run_dir / BACKUP
    resuming = backup.exists() and _usable_backup(model, backup)
    if resuming:
        log.info("resuming %s from its last finished epoch", run_dir)
    history_csv = run_dir / HISTORY
    if not resuming:
        history_csv.unlink(missing_ok=True)
    timer = EpochTimer()
    cbs = [keras.callbacks.CSVLogger(str(history_csv), append=True), timer]
    stopper = None
    if cfg.early_stopping is not None:
        es = cfg.early_stopping
        stopper = ResumableEarlyStopping(run_dir, monitor=es.monitor, min_delta=es.min_delta, patience=es.patience,
                                         restore_best_weights=es.restore_best_weights, verbose=0)
        cbs.append(stopper)
    cbs += list(callbacks)
    # Last, so an epoch counts as done only once everything above has recorded it.
    cbs.append(keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=True))
    model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=cfg.epochs, batch_size=cfg.batch_size,
              shuffle=cfg.shuffle, callbacks=cbs, verbose=keras_verbosity() if verbose is None else verbose)
    history = _dedupe_history(history_csv)
    epochs_run = len(next(iter(history.values()), []))
    restored = stopper is not None and stopper.restore_best_weights and stopper.best_weights is not None
    best = stopper.best_epoch + 1 if restored else epochs_run
    with atomic_path(run_dir / MODEL) as tmp:  # tmp ends in .keras, as Keras requires
        model.save(tmp)
    return FitResult(history, epochs_run, best, timer.mean())


def _usable_backup(model, backup: Path) -> bool:
    """Whether Keras can resume from `backup`; a broken one (cut short by a full disk, say) is removed."""
    weights = backup / "latest.weights.h5"
    if not model.optimizer.built:  # else Keras skips the saved optimizer state (Adam's moments) on resume
        model.optimizer.build(model.trainable_variables)
    try:
        if weights.exists():
            model.load_weights(weights)  # BackupAndRestore loads the same file again when training begins
        return True
    except (OSError, ValueError) as e:
        log.warning("cannot resume from %s (%s): training afresh", backup, str(e).splitlines()[0])
        shutil.rmtree(backup, ignore_errors=True)
        return False


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras EarlyStopping whose state survives an interruption.

    BackupAndRestore brings back the weights and the epoch, not this callback's best value, patience count
    and best weights: on resume they are replayed from history.csv and read from backup/best_weights.npz.
    """

    def __init__(self, run_dir: Path, **kwargs):
        super().__init__(**kwargs)
        self.history_csv, self.best_file = run_dir / HISTORY, run_dir / BACKUP / "best_weights.npz"

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch and epoch > 0 and self.history_csv.is_file():
            self._replay(epoch)
        self._first_epoch = False

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.restore_best_weights and self.best_epoch == epoch and self.best_weights is not None:
            write_npz(self.best_file, epoch=np.array([epoch]), **{f"w{i}": w for i, w in enumerate(self.best_weights)})

    def _replay(self, start: int) -> None:
        """Redo Keras' bookkeeping for the epochs before `start`, as logged (the same rules as on_epoch_end)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        with open(self.history_csv, newline="") as f:
            logged = {int(r["epoch"]): float(r[self.monitor]) for r in csv.DictReader(f) if r.get(self.monitor)}
        for epoch in (e for e in sorted(logged) if self.start_from_epoch <= e < start):
            if epoch == min(logged):
                self.best_epoch = epoch
            self.wait += 1
            if self._is_improvement(logged[epoch], self.best):
                self.best, self.best_epoch = logged[epoch], epoch
                if self.baseline is None or self._is_improvement(logged[epoch], self.baseline):
                    self.wait = 0
        if self.restore_best_weights and self.best_file.is_file():
            with np.load(self.best_file, allow_pickle=False) as saved:
                if int(saved["epoch"][0]) == self.best_epoch:
                    self.best_weights = [saved[f"w{i}"] for i in range(len(saved.files) - 1)]


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch, validation included."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def mean(self) -> float:
        return float(np.mean(self.times)) if self.times else float("nan")


def _dedupe_history(path: Path) -> dict[str, list[float]]:
    """Keep one row per epoch (the last): a kill between logging and backing up repeats an epoch on resume."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    by_epoch = {int(r["epoch"]): r for r in rows}
    rows = [by_epoch[e] for e in sorted(by_epoch)]
    if rows:
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    cols = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(r[k]) for r in rows] for k in cols}

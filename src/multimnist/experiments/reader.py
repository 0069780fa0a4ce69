"""Train the digit-pair reader that scores generated images, on Multi-MNIST over every number 00..99.

The reader's data comes from the project's own generator (balanced plan, classes 0..99): training images
use MNIST train digits, the held-out test images MNIST test digits. It is written once to RUN/data and
only read from there, like any dataset. The run folder holds config.yaml, history.csv, model.keras,
metrics.json (per-digit test accuracy, written last) and samples.png (test images with what it read).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from multimnist.config import load_experiment
from multimnist.data import Dataset, GeneratorConfig, ensure_dataset, prepare
from multimnist.data.compose import split_label
from multimnist.data.prepare import one_hot
from multimnist.errors import UserError
from multimnist.evaluation.generation import read_numbers
from multimnist.experiments import runs
from multimnist.figures.png import sample_grid_figure
from multimnist.layout import is_complete
from multimnist.models.reader import HEADS, ReaderModelConfig, build_reader
from multimnist.training.config import TrainConfig
from multimnist.training.inference import predict
from multimnist.training.pack import Member, Task, train_pack
from multimnist.training.run import load_model, start_run
from multimnist.training.seeding import seed_everything

import keras
import numpy as np

log = logging.getLogger(__name__)


@dataclass
class ReaderDataConfig:
    """The 00..99 data the reader learns from (generated with the study's generator settings)."""

    train_size: int = 60000  # training images, 600 per number; the test set gets 20% as many
    val_fraction: float = 0.1  # share of the training images held out for validation
    data_seed: int = 1  # seed of the generated dataset (fixed, so seeds vary only the training)

    def __post_init__(self):
        if self.train_size < 100:
            raise UserError(f"reader train_size must be at least 100 (one image per number), got {self.train_size}")


@dataclass
class ReaderConfig:
    """The digit-pair reader: a small strided convnet with a tens head and a units head."""

    name: str = "reader"
    seed: int = 0
    data: ReaderDataConfig = field(default_factory=ReaderDataConfig)
    model: ReaderModelConfig = field(default_factory=ReaderModelConfig)
    training: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=10, batch_size=128,
                                                                      lr_schedule="cosine"))


def load_reader_config(config="reader", overrides=(), seed: int | None = None, epochs: int | None = None,
                       train_size: int | None = None) -> ReaderConfig:
    """A ReaderConfig from a built-in name, a YAML path, a mapping or a ReaderConfig, then overrides."""
    size = [f"data.train_size={train_size}"] if train_size is not None else []
    return load_experiment(ReaderConfig, "reader", config, [*overrides, *size], seed, epochs)


def train_reader(out, seed: int = 0, epochs: int | None = None, train_size: int | None = None, config="reader",
                 overrides=(), replace: bool = False) -> dict:
    """Train (or resume, or reuse) the reader in `out`; returns metrics.json (tens/units/number accuracy).

    `replace`: a run of another config in `out` is replaced (see open_run)."""
    cfg = load_reader_config(config, overrides, seed, epochs, train_size)
    return runs.train(READER, [cfg], None, [out], replace)[0]


def _train_pack(cfgs: list[ReaderConfig], _, out: list[Path]) -> list[dict]:
    """Build and train readers, each on the 00..99 data it generates in its own run folder; their metrics (the run
    protocol adds the versions and the config)."""
    members, data = [], []
    for cfg, folder in zip(cfgs, out, strict=True):
        seed_everything(cfg.seed)
        model = build_reader(cfg.model)
        start_run(folder, cfg)  # before the data, which lives in the run folder
        ds = _reader_data(folder / "data", cfg.data)
        arrays = prepare(ds, cfg.data.val_fraction, seed=cfg.data.data_seed)
        y_train, y_val = _targets(ds.y_train[arrays.train_idx]), _targets(ds.y_train[arrays.val_idx])
        log.info("reader (seed %d): %s parameters, %s training images of 00..99, writing to %s", cfg.seed,
                 f"{model.count_params():,}", f"{len(arrays.x_train):,}", folder)
        members.append(Member(model, arrays.x_train, y_train, arrays.x_val, y_val, cfg.training, folder, cfg.seed,
                              "reader"))
        data.append((ds, arrays))
    trained = train_pack(members, reader_task())
    results = []
    for cfg, member, (ds, arrays), result in zip(cfgs, members, data, trained, strict=True):
        probs = predict(member.model, arrays.x_test)
        metrics = reader_accuracy(probs["tens"], probs["units"], ds.y_test)
        metrics.update(name=cfg.name, seed=cfg.seed, epochs_run=result.epochs_run,
                       seconds_per_epoch=result.seconds_per_epoch, n_params=int(member.model.count_params()),
                       train_images=len(arrays.x_train), test_images=len(ds.y_test))
        _samples_figure(ds, probs, member.run_dir / "samples.png")
        log.info("reader test accuracy: tens %.2f%%, units %.2f%%, number %.2f%%", 100 * metrics["tens_accuracy"],
                 100 * metrics["units_accuracy"], 100 * metrics["number_accuracy"])
        results.append(metrics)
    return results


# The reader on the run protocol (experiments/runs.py): it makes its own data, in its run folder.
READER = runs.Kind("reader", load_reader_config, _train_pack, uses_data=False)


def reader_task() -> Task:
    """Each head's categorical cross-entropy, summed (Keras' loss for a dict of outputs), and each head's loss
    and accuracy."""

    def head_loss(y, y_pred, head):
        return keras.losses.categorical_crossentropy(y[head], y_pred[head])

    def loss(y, y_pred):
        return sum(head_loss(y, y_pred, h) for h in HEADS)

    def metrics(y, y_pred):
        figures = {f"{h}_loss": head_loss(y, y_pred, h) for h in HEADS}
        figures.update({f"{h}_accuracy": keras.ops.cast(keras.ops.argmax(y[h], axis=-1) ==
                                                        keras.ops.argmax(y_pred[h], axis=-1), "float32")
                        for h in HEADS})
        return figures

    return Task("reader", loss, metrics, tuple(sorted(f"{h}_{k}" for h in HEADS for k in ("loss", "accuracy"))))


def reader_accuracy(tens: np.ndarray, units: np.ndarray, y: np.ndarray) -> dict:
    """Per-digit and whole-number accuracy of the reader's probabilities on labelled images, and of confident reads."""
    numbers, readable = read_numbers(tens, units)
    true_tens, true_units = split_label(y)
    return {
        "tens_accuracy": float((tens.argmax(1) == true_tens).mean()),
        "units_accuracy": float((units.argmax(1) == true_units).mean()),
        "number_accuracy": float((numbers == y).mean()),
        "readable_share": float(readable.mean()),  # confident on both digits (>= 0.9)
        "readable_accuracy": float((numbers[readable] == y[readable]).mean()) if readable.any() else None,
    }


def read_images(reading, x: np.ndarray) -> dict[str, np.ndarray]:
    """Probabilities and features for flat images (N, 1092) in [0, 1]; `reading` from `models.reader.reading_model`."""
    return {k: np.asarray(v) for k, v in predict(reading, x).items()}


def load_reader(run) -> object:
    """The trained reader of a finished reader run folder."""
    run = Path(run)
    if not is_complete(run):
        raise UserError(f"{run} holds no finished reader run: train one with `multimnist train reader --out {run}`")
    return load_model(run)


def _reader_data(folder: Path, cfg: ReaderDataConfig) -> Dataset:
    """The 00..99 dataset in `folder` (the run's own), generated there the first time or when the config's data
    settings changed."""
    gen = GeneratorConfig(plan="balanced", classes=tuple(range(100)), train_size=cfg.train_size)
    return ensure_dataset(folder, gen, cfg.data_seed, replace=True).dataset


def _targets(labels: np.ndarray) -> dict[str, np.ndarray]:
    tens, units = split_label(labels)
    return {"tens": one_hot(tens, 10), "units": one_hot(units, 10)}


def _samples_figure(ds, probs, path: Path, n: int = 24) -> None:
    numbers, readable = read_numbers(probs["tens"][:n], probs["units"][:n])
    titles = [f"{y:02d}: {r:02d}" + ("" if ok else "?") for y, r, ok in zip(ds.y_test[:n], numbers, readable,
                                                                            strict=True)]
    sample_grid_figure(ds.x_test[:n], titles, path, title="Held-out 00..99 test images: true: read (? = not confident)")

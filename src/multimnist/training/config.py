"""How a network is trained, whatever the network: the settings and the optimizer they make."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from multimnist.errors import UserError

import keras

OPTIMIZERS = ("sgd", "rmsprop", "adam")


@dataclass
class EarlyStoppingConfig:
    """Keras EarlyStopping's rules; the study used patience 10, min_delta 0.05 and restored the best weights."""

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

"""The study's feed-forward classifier: flat image in, softmax over the classes out (sections 3.1 and 4.1).

The study's network is 1092-80-70-50 with sigmoid units and HeNormal weights: 96,660 parameters. Every knob
the study turned (activation, initializer, dropout, L1/L2 penalties) and the challenger's extras (batch or
layer normalization) are fields of `ModelConfig`; `build_classifier` turns one into an uncompiled Keras
model and refuses one over the parameter budget. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from multimnist.data.config import FLAT, HEIGHT, WIDTH  # importing multimnist first selects the JAX backend
from multimnist.errors import UserError

import keras

ACTIVATIONS = ("sigmoid", "relu", "leaky_relu", "tanh", "gelu", "elu", "selu", "swish")
NORMS = (None, "batch", "layer")


@dataclass
class ModelConfig:
    """A dense stack: hidden widths, then a softmax over the classes."""

    hidden: tuple[int, ...] = (80, 70)  # units per hidden layer; the study's 80 and 70
    activation: str = "sigmoid"  # one of ACTIVATIONS; the study's choice
    negative_slope: float = 0.01  # of leaky_relu (the study tried 0.01); Keras' LeakyReLU name
    initializer: str = "he_normal"  # any Keras initializer name: he_normal, glorot_normal, ...
    dropout: float | tuple[float, ...] = 0.0  # after each hidden layer: one rate for all, or one per layer
    input_dropout: float = 0.0  # dropout on the input pixels
    l1: float = 0.0  # L1 kernel penalty of each layer (Keras semantics: l1 * sum|w| added to the loss)
    l2: float = 0.0  # L2 kernel penalty of each layer (Keras semantics: l2 * sum w^2)
    norm: str | None = None  # None, "batch" or "layer" normalization before each hidden activation
    pool: int = 1  # average-pool the 28x39 image by this factor first: fixed, no weights (1: the raw pixels)
    max_params: int | None = 100_000  # refuse a bigger model; the study's budget; None: no limit

    RENAMED: ClassVar[dict[str, str]] = {"leaky_alpha": "negative_slope"}  # run folders before 0.2 say leaky_alpha

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if not self.hidden or min(self.hidden) < 1:
            raise UserError(f"hidden widths must be positive integers, got {list(self.hidden)}")
        if self.activation not in ACTIVATIONS:
            raise UserError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.norm not in NORMS:
            raise UserError(f"norm must be null, 'batch' or 'layer', got {self.norm!r}")
        if isinstance(self.dropout, (list, tuple)):
            self.dropout = tuple(float(d) for d in self.dropout)
            if len(self.dropout) != len(self.hidden):
                raise UserError(f"dropout has {len(self.dropout)} rates for {len(self.hidden)} hidden layers")
        for rate in (*self.dropout_rates(), self.input_dropout):
            if not 0.0 <= rate < 1.0:
                raise UserError(f"dropout rates must be in [0, 1), got {rate}")
        if self.pool < 1:
            raise UserError(f"pool must be a positive integer, got {self.pool}")
        if self.l1 < 0 or self.l2 < 0:
            raise UserError("l1 and l2 penalties must be >= 0")
        try:
            keras.initializers.get(self.initializer)
        except ValueError:
            raise UserError(f"unknown initializer {self.initializer!r} (try he_normal or glorot_normal)") from None

    def dropout_rates(self) -> tuple[float, ...]:
        """One rate per hidden layer."""
        if isinstance(self.dropout, tuple):
            return self.dropout
        return (float(self.dropout),) * len(self.hidden)


def count_params(cfg: ModelConfig, n_inputs: int = FLAT, n_classes: int = 50) -> int:
    """Parameters of the network `cfg` describes (what Keras' count_params reports), without building it."""
    if cfg.pool > 1:
        n_inputs = -(-HEIGHT // cfg.pool) * -(-WIDTH // cfg.pool)  # "same" padding rounds up
    widths = [n_inputs, *cfg.hidden, n_classes]
    dense = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    per_unit = {None: 0, "batch": 4, "layer": 2}[cfg.norm]  # batch: gamma, beta, moving mean and variance
    return dense + per_unit * sum(cfg.hidden)


def build_classifier(cfg: ModelConfig, n_inputs: int = FLAT, n_classes: int = 50) -> keras.Model:
    """An uncompiled Keras model: (N, n_inputs) in [0, 1] -> (N, n_classes) class probabilities."""
    n_params = count_params(cfg, n_inputs, n_classes)
    if cfg.max_params is not None and n_params > cfg.max_params:
        raise UserError(f"hidden layers {list(cfg.hidden)} make {n_params:,} parameters, "
                        f"over the budget of {cfg.max_params:,}")
    reg = keras.regularizers.L1L2(l1=cfg.l1, l2=cfg.l2) if cfg.l1 or cfg.l2 else None
    inputs = keras.Input((n_inputs,), name="pixels")
    x = inputs
    if cfg.pool > 1:  # (N, 1092) -> (N, 28, 39, 1) -> (N, 14, 20, 1) for pool 2 -> (N, 280)
        x = keras.layers.Reshape((HEIGHT, WIDTH, 1), name="image")(x)
        x = keras.layers.AveragePooling2D(cfg.pool, padding="same", name="pool")(x)
        x = keras.layers.Flatten(name="pooled")(x)
    if cfg.input_dropout:
        x = keras.layers.Dropout(cfg.input_dropout, name="input_dropout")(x)
    for i, (width, rate) in enumerate(zip(cfg.hidden, cfg.dropout_rates(), strict=True), 1):
        # A plain activation is fused into Dense; after a norm, or for LeakyReLU, it is a layer of its own.
        fused = cfg.norm is None and cfg.activation != "leaky_relu"
        x = keras.layers.Dense(width, activation=cfg.activation if fused else None, name=f"dense_{i}",
                               kernel_initializer=cfg.initializer, kernel_regularizer=reg)(x)
        if cfg.norm is not None:
            x = (keras.layers.BatchNormalization(name=f"norm_{i}") if cfg.norm == "batch"
                 else keras.layers.LayerNormalization(name=f"norm_{i}"))(x)
        if not fused:
            x = (keras.layers.LeakyReLU(negative_slope=cfg.negative_slope, name=f"act_{i}")
                 if cfg.activation == "leaky_relu" else keras.layers.Activation(cfg.activation, name=f"act_{i}"))(x)
        if rate:
            x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes",
                                 kernel_initializer=cfg.initializer, kernel_regularizer=reg)(x)
    return keras.Model(inputs, outputs, name="classifier")

"""The study's dense autoencoder (section 5.1): 1092 -> 256 -> 128 -> L -> 128 -> 256 -> 512 -> 1092.

The latent size L is given directly or as a compression factor cf (L = floor(1092 / cf), so cf 20 -> 54).
The autoencoder is built from two functional models, `encoder` and `decoder`, that share its weights: each
can be used on its own (encode a dataset, generate from samples of the latent space).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from multimnist.data.config import FLAT  # importing multimnist first selects the JAX backend
from multimnist.errors import UserError

import keras


@dataclass
class AutoencoderModelConfig:
    """Layer widths and activations; defaults are the study's final autoencoder."""

    input_dim: int = FLAT  # pixels per image, in and out
    encoder: tuple[int, ...] = (256, 128)  # hidden widths from the input down to the latent layer
    decoder: tuple[int, ...] = (128, 256, 512)  # hidden widths from the latent layer up to the output
    compression_factor: float | None = 20  # L = floor(input_dim / cf), used when `latent` is not set
    latent: int | None = None  # the latent size directly; overrides the compression factor
    activation: str = "leaky_relu"  # hidden layers (latent included): leaky_relu or any Keras activation name
    negative_slope: float = 0.01  # LeakyReLU's alpha
    output_activation: str = "sigmoid"  # pixels lie in [0, 1]
    loss: str = "binary_crossentropy"  # the study's choice; any Keras loss name

    def __post_init__(self):
        self.encoder = tuple(int(w) for w in self.encoder)
        self.decoder = tuple(int(w) for w in self.decoder)
        if any(w < 1 for w in self.encoder + self.decoder) or self.input_dim < 1:
            raise UserError("layer widths must be positive")
        if self.latent is None and self.compression_factor is None:
            raise UserError("set model.latent or model.compression_factor")
        if self.latent is not None and self.latent < 1:
            raise UserError(f"latent size must be positive, got {self.latent}")
        if self.latent is None and not 1 <= self.compression_factor <= self.input_dim:
            raise UserError(f"compression factor must lie in 1..{self.input_dim}, got {self.compression_factor}")

    @property
    def latent_size(self) -> int:
        return int(self.latent) if self.latent is not None else latent_size(self.compression_factor, self.input_dim)


def latent_size(compression_factor: float, input_dim: int = FLAT) -> int:
    """floor(input / cf): 1092 / 20 -> 54, as in the study."""
    return int(input_dim // compression_factor)


class Autoencoder(NamedTuple):
    autoencoder: keras.Model  # image -> reconstruction
    encoder: keras.Model  # image -> latent code (N, L)
    decoder: keras.Model  # latent code -> image (N, 1092)


def build_autoencoder(cfg: AutoencoderModelConfig | None = None) -> Autoencoder:
    """Encoder, decoder and the autoencoder that chains them (same layers, same weights)."""
    cfg = cfg or AutoencoderModelConfig()
    x = keras.Input((cfg.input_dim,), name="image")
    h = x
    for i, width in enumerate(cfg.encoder, 1):
        h = _dense(h, width, cfg, f"encode_{i}")
    code = _dense(h, cfg.latent_size, cfg, "latent")
    encoder = keras.Model(x, code, name="encoder")

    z = keras.Input((cfg.latent_size,), name="code")
    h = z
    for i, width in enumerate(cfg.decoder, 1):
        h = _dense(h, width, cfg, f"decode_{i}")
    out = keras.layers.Dense(cfg.input_dim, activation=cfg.output_activation, name="reconstruction")(h)
    decoder = keras.Model(z, out, name="decoder")

    autoencoder = keras.Model(x, decoder(encoder(x)), name="autoencoder")
    return Autoencoder(autoencoder, encoder, decoder)


def split(autoencoder: keras.Model) -> Autoencoder:
    """The encoder and decoder inside a built or loaded autoencoder."""
    try:
        return Autoencoder(autoencoder, autoencoder.get_layer("encoder"), autoencoder.get_layer("decoder"))
    except ValueError:
        raise UserError(f"model {autoencoder.name!r} is not an autoencoder (no encoder/decoder parts)") from None


def _dense(h, width: int, cfg: AutoencoderModelConfig, name: str):
    if cfg.activation == "leaky_relu":
        h = keras.layers.Dense(width, name=name)(h)
        return keras.layers.LeakyReLU(negative_slope=cfg.negative_slope, name=f"{name}_act")(h)
    return keras.layers.Dense(width, activation=cfg.activation, name=name)(h)

"""Export what the report's latent explorer runs in the browser: OUT/explorer.json (format in latent/explorer.py).

It holds the autoencoder's decoder (its dense layers' weights), the class means and principal directions of its
training codes (labels from the dataset through the run's train_idx), and a sampler fitted on those codes whose
parameters are a Gaussian mixture. In a study the sampler is the best such one by readable share on the
generation scores of the same autoencoder (reads of generated images only: no test image takes part).
"""

from __future__ import annotations

import logging
from pathlib import Path

from multimnist.data import read_dataset
from multimnist.data.config import HEIGHT, WIDTH
from multimnist.errors import UserError
from multimnist.experiments.generation import load_autoencoder
from multimnist.files import write_json
from multimnist.latent.explorer import EXPLORER, decode, explorer_payload, unpack
from multimnist.latent.mixture import as_mixture
from multimnist.latent.samplers import CONDITIONAL, LEARNED, describe, make_sampler
from multimnist.layout import read_json, read_metrics
from multimnist.training.inference import predict

import keras
import numpy as np

log = logging.getLogger(__name__)


def decoder_layers(decoder: keras.Model) -> list[dict]:
    """The decoder as dense layers in order: kernel (in, out), bias, activation (a Dense layer's own, or the
    activation layer after it)."""
    layers = []
    for layer in decoder.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(w) for w in layer.get_weights())
            layers.append({"kernel": kernel, "bias": bias, "activation": layer.activation.__name__})
        elif isinstance(layer, keras.layers.LeakyReLU) and layers and layers[-1]["activation"] == "linear":
            layers[-1].update(activation="leaky_relu", negative_slope=float(layer.negative_slope))
        elif isinstance(layer, keras.layers.Activation) and layers and layers[-1]["activation"] == "linear":
            layers[-1]["activation"] = layer.activation.__name__
        else:
            raise UserError(f"the explorer runs dense decoders only; {decoder.name} has a {type(layer).__name__} "
                            f"layer ({layer.name})")
    return layers


def export_explorer(model_run, data, out, samplers=("gmm",), encoding: str = "float16",
                    source: dict | None = None) -> Path:
    """Write OUT/explorer.json for the autoencoder in `model_run` (trained on `data`) with the first of
    `samplers` (best first: names, or Samplers) whose fitted form is a Gaussian mixture, fitted on the run's
    training codes; returns the file's path. Logs the encoding's largest pixel error against the decoder."""
    model_run = Path(model_run)
    parts = load_autoencoder(model_run)
    with np.load(model_run / "encodings.npz", allow_pickle=False) as f:
        codes, train_idx = f["train"], f["train_idx"]
    labels = read_dataset(data).y_train[train_idx]
    if isinstance(samplers, str) or hasattr(samplers, "fit"):
        samplers = [samplers]
    name, fitted, mixture = _first_mixture(samplers, codes)
    payload = explorer_payload(
        decoder_layers(parts.decoder), codes, labels, mixture,
        {"name": name, "fitted": getattr(fitted, "fitted", None) or describe(fitted)},
        (HEIGHT, WIDTH), encoding,
        {**(source or {}), "autoencoder_seed": read_metrics(model_run).get("seed"), "codes": "train",
         "n_codes": len(codes)})
    means = unpack(payload["class_means"])
    error = float(np.abs(decode(payload, means) - np.asarray(predict(parts.decoder, means))).max())
    payload["max_pixel_error"] = round(error, 6)  # the encoding's cost, on the class means, in [0, 1] units
    log.info("explorer: %s weights, sampler %s; largest pixel error on the class means %.2g (%.2f of 255)", encoding,
             payload["sampler"]["fitted"], error, 255 * error)
    path = Path(out) / EXPLORER
    write_json(path, payload)
    return path


def _first_mixture(samplers, codes: np.ndarray):
    """(name, fitted sampler, its Mixture) of the first of `samplers` that is a Gaussian mixture once fitted; each
    a name, or a Sampler (fitted on `codes` unless it already is)."""
    refused = []
    for sampler in samplers:
        if isinstance(sampler, str) and sampler in (*LEARNED, *CONDITIONAL):  # never a mixture: not worth a fit
            log.info("explorer: sampler %s is not a Gaussian mixture, trying the next", sampler)
            refused.append(sampler)
            continue
        fitted = make_sampler(sampler) if isinstance(sampler, str) else sampler
        if not hasattr(fitted, "dim"):
            fitted = fitted.fit(codes)
        try:
            return fitted.name, fitted, as_mixture(fitted)
        except UserError:
            refused.append(fitted.name)
            log.info("explorer: sampler %s is not a Gaussian mixture, trying the next", fitted.name)
    raise UserError(f"none of the samplers {', '.join(refused) or '(none given)'} is a Gaussian mixture: the explorer "
                    "can sample only those")


def ranked_samplers(scores: str | Path) -> list[str]:
    """The samplers of a generation scores.json, highest readable share first (a tie keeps the file's order)."""
    rows = [r for r in read_json(scores).get("rows", []) if r.get("kind") == "sampler"]
    return [r["sampler"] for r in sorted(rows, key=lambda r: -(r.get("readable_share") or 0.0))]

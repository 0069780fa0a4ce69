"""Study section 5.4 as steps: generate images from the decoder alone, and score the samplers with the reader.

A sampler is fitted on the autoencoder's encodings (its training split by default; `fit_on="test"` is the
study's exact choice) and its samples are decoded into images. `score_samplers` compares every sampler on
the same number of images, with real held-out images as the reference row, and on equal footing: diversity on
the same number of readable images for every row, every share with its interval, and every difference the
verdict names tested against noise (see multimnist.evaluation.generation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from multimnist.data import read_dataset
from multimnist.data.dataset import HEIGHT, WIDTH
from multimnist.data.prepare import to_inputs
from multimnist.errors import UserError
from multimnist.evaluation.generation import (
    REAL,
    RECONSTRUCTION,
    csv_row,
    generation_scores,
    nearest_distances,
    read_numbers,
    score_table,
)
from multimnist.experiments.reader import load_reader, read_images
from multimnist.experiments.scores import scores_markdown
from multimnist.figures.png import number_counts_figure, sample_grid_figure
from multimnist.files import sha256_arrays, write_json, write_npz, write_text
from multimnist.formatting import csv_text
from multimnist.latent.samplers import SAMPLERS, describe, make_sampler
from multimnist.layout import read_metrics, require_finished_run
from multimnist.models.autoencoder import split
from multimnist.models.reader import reading_model
from multimnist.training.inference import predict
from multimnist.training.run import load_model, versions

import numpy as np

log = logging.getLogger(__name__)

FIT_ON = ("train", "test")
GRID = 50  # images shown in a sampler's grid figure


def load_autoencoder(run):
    """(autoencoder, encoder, decoder) of a finished autoencoder run folder."""
    run = require_finished_run(run, "autoencoder", "multimnist train autoencoder")
    return split(load_model(run))


def fitting_encodings(run, fit_on: str = "train", data=None, encoder=None) -> np.ndarray:
    """The encodings a sampler is fitted on: the run's saved ones, or those of `data`'s train or test images."""
    if fit_on not in FIT_ON:
        raise UserError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    if data is None:
        with np.load(Path(run) / "encodings.npz", allow_pickle=False) as f:
            return f[fit_on]
    ds = read_dataset(data)
    return predict(encoder, to_inputs(ds.x_train if fit_on == "train" else ds.x_test))


def sample_images(decoder, encodings: np.ndarray, sampler: str, n: int, seed: int = 0):
    """Fit `sampler` on `encodings`, draw n codes with `seed`, decode them: (images (n, 1092), codes, sampler)."""
    _check_count(n)
    fitted = make_sampler(sampler).fit(encodings)
    codes = fitted.sample(n, np.random.default_rng(seed))
    return predict(decoder, codes), codes, fitted


def generate(model_run, sampler: str = "gaussian", n: int = 100, out="generated", seed: int = 0,
             fit_on: str = "train", data=None) -> Path:
    """Write OUT/images.npz (uint8 images (n, 28, 39) and their latent codes), OUT/grid.png and generate.json."""
    out = Path(out)
    _check_count(n)
    parts = load_autoencoder(model_run)
    log.info("fitting the %s sampler on the %s encodings, decoding %d images", sampler, fit_on, n)
    images, codes, fitted = sample_images(parts.decoder, fitting_encodings(model_run, fit_on, data, parts.encoder),
                                          sampler, n, seed)
    images = to_uint8(images)
    write_npz(out / "images.npz", images=images, codes=codes)
    sample_grid_figure(images[:GRID], None, out / "grid.png", cols=10,
                       title=f"Decoded samples: {describe(fitted)}, fitted on {fit_on} encodings (seed {seed})")
    write_json(out / "generate.json", {"model_run": str(model_run), "sampler": sampler, "fitted": describe(fitted),
                                       "n": n, "seed": seed, "fit_on": fit_on, "data": None if data is None
                                       else str(data), "versions": versions()})
    return out


@dataclass
class Scored:
    """One set of images (a sampler's, or the real reference) and what the reader made of it."""

    row: dict  # the table row less its diversity (which needs every row): readable share, Frechet distance, ...
    histogram: list[int]  # confident reads of each number 00..99
    images: np.ndarray  # (n, 28, 39) uint8
    numbers: np.ndarray  # what the reader read, per image
    readable: np.ndarray  # whether it read both digits with confidence
    nn_distance: np.ndarray  # RMS distance to the nearest training image


def score_samplers(model_run, reader_run, data, out, n: int = 1000, seed: int = 0, fit_on: str = "train",
                   samplers=SAMPLERS) -> list[dict]:
    """Generate n images per sampler and score them with the reader, beside two controls: n test images passed
    through the autoencoder (`reconstruction`: what the reader makes of this decoder's blur on real inputs, the
    ceiling any sampler on it can reach) and n real held-out images (`real`).

    Writes scores.csv and scores.md (one row per sampler, the study's first, then the controls), histograms.csv
    (read numbers 0..99 per row), read_numbers.png, SAMPLER.png grids titled with what the reader read,
    SAMPLER.npz images and scores.json (the table as `score_table` makes it, its histograms and provenance).
    Returns the table rows.
    """
    model_run, out = Path(model_run), Path(out)
    if fit_on not in FIT_ON:
        raise UserError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    if n < 2 or not samplers:
        raise UserError("scoring needs at least 2 images per sampler and at least one sampler")
    parts, reader = load_autoencoder(model_run), reading_model(load_reader(reader_run))
    ds = read_dataset(data)
    trained_on = read_metrics(model_run).get("data", {}).get("sha256")
    if trained_on and trained_on != sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        raise UserError(f"{model_run} was trained on other data than {data}: give the autoencoder's own dataset")
    with np.load(model_run / "encodings.npz", allow_pickle=False) as f:
        enc = {k: f[k] for k in f.files}
    x_all = to_inputs(ds.x_train)
    train, val = x_all[enc["train_idx"]], x_all[enc["val_idx"]]  # the autoencoder's own split
    real_features = read_images(reader, to_inputs(ds.x_test))["features"]
    rng = np.random.default_rng(seed)
    real = val[np.sort(rng.choice(len(val), min(n, len(val)), replace=False))]
    real_nn = nearest_distances(real, train)[1]
    copy_below = float(np.percentile(real_nn, 1))  # closer to a training image than 99% of real unseen images
    scored = {}
    for i, name in enumerate(samplers, 1):
        log.info("[%d/%d] sampler %s: fitting on %s encodings, %d images", i, len(samplers), name, fit_on, n)
        images, _, fitted = sample_images(parts.decoder, enc[fit_on], name, n, seed)
        scored[name] = score_images(name, describe(fitted), images, reader, real_features, train, copy_below)
    x_test = to_inputs(ds.x_test)
    pick = np.sort(np.random.default_rng([seed, 1]).choice(len(x_test), min(n, len(x_test)), replace=False))
    log.info("reconstructions of %d test images", len(pick))
    scored[RECONSTRUCTION] = score_images(RECONSTRUCTION, "test images through the autoencoder",
                                          predict(parts.autoencoder, x_test[pick]), reader, real_features, train,
                                          copy_below)
    scored[REAL] = score_images(REAL, "held-out validation images", real, reader, real_features, train,
                                copy_below, nn=real_nn)
    table = score_table(scored, n, seed)
    write_scores(out, scored, table)
    write_json(out / "scores.json", {**table, "histograms": {k: v.histogram for k, v in scored.items()},
                                     "seed": seed, "autoencoder_seed": read_metrics(model_run).get("seed"),
                                     "fit_on": fit_on, "model_run": str(model_run),
                                     "reader_run": str(reader_run), "copy_threshold": copy_below,
                                     "versions": versions()})
    return table["rows"]


def _check_count(n: int) -> None:
    if n < 1:
        raise UserError(f"the number of images must be positive, got {n}")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Flat decoder outputs in [0, 1] -> (N, 28, 39) uint8 images."""
    return np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8).reshape(-1, HEIGHT, WIDTH)


def score_images(name: str, fitted: str, images: np.ndarray, reader, real_features: np.ndarray, train: np.ndarray,
                 copy_below: float, nn: np.ndarray | None = None) -> Scored:
    """Read flat images (N, 1092) with the reader and score them against the real images' features."""
    nn = nearest_distances(images, train)[1] if nn is None else nn
    return score_reads(name, fitted, read_images(reader, images), images, real_features, nn, copy_below)


def score_reads(name: str, fitted: str, r: dict, images: np.ndarray, real_features: np.ndarray, nn: np.ndarray,
                copy_below: float) -> Scored:
    """An image set scored from what the reader made of it (`r`: tens, units, features); no model, no I/O."""
    scores = generation_scores(r["tens"], r["units"], r["features"], real_features, nn, copy_below)
    numbers, readable = read_numbers(r["tens"], r["units"])
    row = {"sampler": name, "kind": name if name in (REAL, RECONSTRUCTION) else "sampler", "fitted": fitted,
           **{k: v for k, v in scores.items() if k != "histogram"}}
    return Scored(row, scores["histogram"], to_uint8(images), numbers, readable, nn)


def write_scores(out: Path, scored: dict[str, Scored], table: dict) -> None:
    """NAME.npz and NAME.png per image set, scores.csv and scores.md of `table`, histograms.csv and
    read_numbers.png."""
    for name, s in scored.items():
        write_npz(out / f"{name}.npz", images=s.images, numbers=s.numbers, readable=s.readable,
                  nn_distance=s.nn_distance)
        fitted = s.row["fitted"]
        titles = [f"{v:02d}" if ok else "?" for v, ok in zip(s.numbers[:GRID], s.readable[:GRID], strict=True)]
        sample_grid_figure(s.images[:GRID], titles, out / f"{name}.png", cols=10,
                           title=f"{fitted if fitted.startswith(name) else f'{name} ({fitted})'}: what the reader "
                                 "reads (? = not confident)")
    write_text(out / "scores.csv", csv_text([csv_row(r) for r in table["rows"]]))
    write_text(out / "histograms.csv", csv_text([["sampler", *(f"{i:02d}" for i in range(100))],
                                                 *([k, *v.histogram] for k, v in scored.items())]))
    write_text(out / "scores.md", scores_markdown(table))
    number_counts_figure({k: v.histogram for k, v in scored.items()}, out / "read_numbers.png",
                         "Numbers read with confidence from each sampler's images")



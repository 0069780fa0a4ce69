"""Study section 5.4 as steps: generate images from the decoder alone, and score the samplers with the reader.

A sampler is fitted on the autoencoder's encodings (its training split by default; `fit_on="test"` is the
study's exact choice) and its samples are decoded into images. `score_samplers` compares every sampler on
the same number of images, with real held-out images as the reference row, and on equal footing: diversity on
the same number of readable images for every row, every share with its interval, and every difference the
verdict names tested against noise (see multimnist.evaluation.generation).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from multimnist._version import __version__
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
from multimnist.files import sha256_arrays, sha256_file, write_json, write_npz, write_text
from multimnist.formatting import csv_text
from multimnist.latent.mixture import as_mixture, keep_mixture
from multimnist.latent.samplers import (
    CONDITIONAL,
    GUIDANCE,
    LEARNED,
    SAMPLERS,
    SEEDED,
    describe,
    make_sampler,
    numbers_asked,
)
from multimnist.layout import METRICS, read_json, read_metrics, require_finished_run
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


@dataclass
class Codes:
    """What a sampler is fitted on: codes and their numbers (None where unknown), with the validation codes its
    choices are made on (None: the sampler holds out its own)."""

    x: np.ndarray  # (N, L)
    labels: np.ndarray | None
    val: np.ndarray | None = None
    val_labels: np.ndarray | None = None


def fitting_encodings(run, fit_on: str = "train", data=None, encoder=None) -> np.ndarray:
    """The encodings a sampler is fitted on: the run's saved ones, or those of `data`'s train or test images."""
    return fitting_codes(run, fit_on, data, encoder).x


def fitting_codes(run, fit_on: str = "train", data=None, encoder=None) -> Codes:
    """The codes (and numbers) a sampler is fitted on.

    The run's encodings.npz holds the codes of its training, validation and test images and, as train_idx and
    val_idx, where its training and validation images sit in the dataset's training split; with `data` (the
    autoencoder's own dataset) those give every code its number. `fit_on="train"` fits on the training codes and
    chooses on the validation codes; `"test"` (the study's choice) fits on the test codes and holds out a tenth
    of them for the choices. Another dataset than the autoencoder's (or a run without encodings.npz) has its
    images encoded by `encoder`, and the sampler holds out a tenth of them for its choices.
    """
    if fit_on not in FIT_ON:
        raise UserError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    ds = read_dataset(data) if data is not None else None
    path = Path(run) / "encodings.npz"
    if path.exists() and (ds is None or _same_data(run, ds)):
        with np.load(path, allow_pickle=False) as f:
            enc = {k: f[k] for k in f.files}
        if fit_on == "test":
            return Codes(enc["test"], None if ds is None else ds.y_test)
        labels = (None, None) if ds is None else (ds.y_train[enc["train_idx"]], ds.y_train[enc["val_idx"]])
        return Codes(enc["train"], labels[0], enc["val"], labels[1])
    if ds is None or encoder is None:
        raise UserError(f"{path} is missing: give the autoencoder's dataset to encode it (--data)")
    x, y = (ds.x_train, ds.y_train) if fit_on == "train" else (ds.x_test, ds.y_test)
    return Codes(predict(encoder, to_inputs(x)), y)


def _same_data(model_run, ds) -> bool:
    """Whether `ds` is the dataset the autoencoder was trained on (as far as its metrics.json says)."""
    trained_on = read_metrics(model_run).get("data", {}).get("sha256")
    return not trained_on or trained_on == sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)


def _check_same_data(model_run, ds, data) -> None:
    if not _same_data(model_run, ds):
        raise UserError(f"{model_run} was trained on other data than {data}: give the autoencoder's own dataset")


def fit_sampler(sampler: str, codes: Codes, seed: int = 0, checkpoint=None, **options):
    """A sampler fitted on `codes` (choices on its validation codes); a learned density resumes from, or loads,
    `checkpoint`. A conditional sampler without the codes' numbers is refused in one line."""
    if sampler in CONDITIONAL and codes.labels is None:
        raise UserError(f"sampler {sampler} needs the number of every code: give the autoencoder's dataset (--data)")
    if sampler in LEARNED:
        options = {"checkpoint": checkpoint, **options}
    if sampler in SEEDED:
        options = {"seed": seed, **options}
    log.info("fitting the %s sampler on %d codes", sampler, len(codes.x))
    start = time.perf_counter()
    fitted = make_sampler(sampler, **options).fit(codes.x, codes.labels, codes.val, codes.val_labels)
    log.info("fitted %s on %d codes in %.0f s", describe(fitted), len(codes.x), time.perf_counter() - start)
    return fitted


def sample_images(decoder, encodings, sampler: str, n: int, seed: int = 0, numbers=None, fitted=None):
    """Fit `sampler` on `encodings` (an array or Codes; or take `fitted`), draw n codes with `seed` (of the
    `numbers` asked, one per code, for a conditional sampler), decode them: (images (n, 1092), codes, sampler)."""
    _check_count(n)
    if fitted is None:
        codes = encodings if isinstance(encodings, Codes) else Codes(np.asarray(encodings), None)
        fitted = fit_sampler(sampler, codes, seed)
    codes = fitted.sample(n, np.random.default_rng(seed), numbers=numbers)
    return predict(decoder, codes), codes, fitted


def draw_numbers(model_run, numbers, n: int = 64, sampler: str = "class-gmm", data=None, seed: int = 0,
                 fit_on: str = "train", checkpoint=None) -> dict[int, np.ndarray]:
    """Images of the numbers asked, in memory: {number: (n, 28, 39) uint8 images}.

        draw_numbers("runs/ae", 37, n=64, data="data/")[37]   # 64 images of 37

    `data` is the autoencoder's own dataset (it gives every code its number); `sampler` one of CONDITIONAL.
    """
    numbers = numbers_asked(numbers, sampler)
    _check_count(n)
    parts = load_autoencoder(model_run)
    codes = fitting_codes(model_run, fit_on, data, parts.encoder)
    _check_asked(numbers, codes, sampler)
    fitted = fit_sampler(sampler, codes, seed, checkpoint)
    asked = np.repeat(numbers, n)
    images, _, _ = sample_images(parts.decoder, None, sampler, len(asked), seed, numbers=asked, fitted=fitted)
    images = to_uint8(images)
    return {k: images[i * n:(i + 1) * n] for i, k in enumerate(numbers)}


def generate(model_run, sampler: str = "gaussian", n: int = 100, out="generated", seed: int = 0,
             fit_on: str = "train", data=None, numbers=None) -> Path:
    """Write OUT/images.npz (uint8 images (N, 28, 39), their latent codes and, with `numbers`, the number asked
    of each), OUT/grid.png and generate.json. With `numbers` (a number or a list of them), n images of
    each number are drawn by a conditional sampler (CONDITIONAL; any other refuses), and the grid shows one row
    per number; a learned density keeps its fit in OUT/fit-SAMPLER.npz (a rerun with the same settings and
    codes loads it)."""
    out = Path(out)
    _check_count(n)
    if numbers is not None:
        numbers = numbers_asked(numbers, sampler)
    parts = load_autoencoder(model_run)
    codes = fitting_codes(model_run, fit_on, data, parts.encoder)
    _check_asked(numbers, codes, sampler)
    fitted = fit_sampler(sampler, codes, seed, out / f"fit-{sampler}.npz")
    asked = None if numbers is None else np.repeat(numbers, n)
    log.info("decoding %d images", n if asked is None else len(asked))
    images, codes, _ = sample_images(parts.decoder, None, sampler, n if asked is None else len(asked), seed,
                                     numbers=asked, fitted=fitted)
    images = to_uint8(images)
    write_npz(out / "images.npz", images=images, codes=codes,
              **({} if asked is None else {"numbers": asked.astype(np.int64)}))
    if numbers is None:
        sample_grid_figure(images[:GRID], None, out / "grid.png", cols=10,
                           title=f"Decoded samples: {describe(fitted)}, fitted on {fit_on} encodings (seed {seed})")
    else:
        number_rows_figure(images, asked, out / "grid.png", f"Asked numbers: {describe(fitted)} (seed {seed})")
    write_json(out / "generate.json", {"model_run": str(model_run), "sampler": sampler, "fitted": describe(fitted),
                                       "n": n, "numbers": numbers, "seed": seed, "fit_on": fit_on,
                                       "data": None if data is None else str(data), "versions": versions()})
    return out


def _check_asked(numbers, codes: Codes, sampler: str) -> None:
    """Refuse, before any fitting, numbers that no code is labelled with."""
    if numbers is None or codes.labels is None:
        return
    unknown = sorted(set(numbers) - set(np.unique(codes.labels).tolist()))
    if unknown:
        raise UserError(f"{sampler} is fitted on codes of the numbers {', '.join(map(str, np.unique(codes.labels)))}"
                        f"; it cannot draw {', '.join(map(str, unknown[:5]))}")


def number_rows_figure(images: np.ndarray, asked: np.ndarray, path, title: str, cols: int = 10,
                       titles=None) -> None:
    """One row per number asked, `cols` of its images (fewer when fewer were drawn of every number), each
    titled with its number asked, or with `titles` (one per image)."""
    cols = min(cols, int(np.bincount(asked).max()))
    keep = np.concatenate([np.flatnonzero(asked == k)[:cols] for k in dict.fromkeys(asked.tolist())])
    shown = [f"{a:02d}" for a in asked[keep]] if titles is None else [titles[i] for i in keep]
    sample_grid_figure(images[keep], shown, path, cols=cols, title=title)


@dataclass
class Scored:
    """One set of images (a sampler's, or the real reference) and what the reader made of it."""

    row: dict  # the table row less its diversity (which needs every row): readable share, Frechet distance, ...
    histogram: list[int]  # confident reads of each number 00..99
    images: np.ndarray  # (n, 28, 39) uint8
    numbers: np.ndarray  # what the reader read, per image
    readable: np.ndarray  # whether it read both digits with confidence
    nn_distance: np.ndarray  # RMS distance to the nearest training image
    asked: np.ndarray | None = None  # the number asked of each image (a conditional sampler; the controls' own)


@dataclass
class _Reference:
    """What every image set is scored against: the reader, real test features, the training images and codes,
    and the held-out images' distances to them."""

    reader: object
    real_features: np.ndarray
    train: np.ndarray  # training images (flat)
    train_codes: np.ndarray
    real_nn: np.ndarray  # held-out real images' distances to their nearest training image
    real_code_nn: np.ndarray  # their codes' distances to the nearest training code
    copy_below: float

    def score(self, name, fitted, images, codes, asked=None, nn=None) -> Scored:
        nn = nearest_distances(images, self.train)[1] if nn is None else nn
        code_nn = nearest_distances(codes, self.train_codes)[1]
        return score_reads(name, fitted, read_images(self.reader, images), images, self.real_features, nn,
                           self.copy_below, real_nn=self.real_nn, code_nn=code_nn, real_code_nn=self.real_code_nn,
                           asked=asked)


def asked_numbers(fitted, n: int, seed: int) -> np.ndarray:
    """n numbers to ask a conditional sampler for, drawn with the shares of its training codes (as the
    reconstructions' test images come), sorted; seeded by `seed` alone."""
    rng = np.random.default_rng([seed, 3])
    return np.sort(fitted.classes[rng.choice(len(fitted.classes), n, p=fitted.weights)])


ROW_IMAGES = 10  # images per number in a conditional sampler's one-row-per-number figure


def score_samplers(model_run, reader_run, data, out, n: int = 1000, seed: int = 0, fit_on: str = "train",
                   samplers=SAMPLERS, options: dict[str, dict] | None = None) -> list[dict]:
    """Generate n images per sampler and score them with the reader, beside two controls: n test images passed
    through the autoencoder (`reconstruction`: what the reader makes of this decoder's blur on real inputs, the
    ceiling any sampler on it can reach) and n real held-out images (`real`).

    A conditional sampler is asked for n numbers drawn with the shares of its training codes (so that its
    images and the reconstructions of test images hold the numbers alike) and is scored also on how often they
    read as the number asked, per number and averaged over the numbers (the controls: as their own number); its
    SAMPLER-numbers.png shows ROW_IMAGES images of every number, one row each. Learned
    densities keep their fits as OUT/fit-SAMPLER.npz (a rerun with the same settings loads them). `options`:
    {sampler: constructor options} (say, fewer diffusion steps).

    Writes scores.csv and scores.md (one row per sampler, the study's first, then the controls), histograms.csv
    (read numbers 0..99 per row), read_numbers.png, SAMPLER.png grids titled with what the reader read (one row
    per number for a conditional sampler, SAMPLER-numbers.png), SAMPLER.npz images and scores.json (the table as
    `score_table` makes it, its histograms and provenance). Returns the table rows.
    """
    model_run, out = Path(model_run), Path(out)
    if fit_on not in FIT_ON:
        raise UserError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    if n < 2 or not samplers:
        raise UserError("scoring needs at least 2 images per sampler and at least one sampler")
    inputs = score_inputs(model_run, reader_run, n, seed, fit_on, samplers, options)
    kept = kept_scores(out, inputs)
    if kept is not None:
        log.info("%s: scored earlier with the same autoencoder, reader and settings; kept", out)
        return kept
    parts, reader = load_autoencoder(model_run), reading_model(load_reader(reader_run))
    ds = read_dataset(data)
    _check_same_data(model_run, ds, data)
    with np.load(model_run / "encodings.npz", allow_pickle=False) as f:
        enc = {k: f[k] for k in f.files}
    codes = fitting_codes(model_run, fit_on, data)
    x_all = to_inputs(ds.x_train)
    train, val = x_all[enc["train_idx"]], x_all[enc["val_idx"]]  # the autoencoder's own split
    rng = np.random.default_rng(seed)
    real_pick = np.sort(rng.choice(len(val), min(n, len(val)), replace=False))
    real = val[real_pick]
    real_nn = nearest_distances(real, train)[1]
    ref = _Reference(reader, read_images(reader, to_inputs(ds.x_test))["features"], train, enc["train"], real_nn,
                     nearest_distances(enc["val"][real_pick], enc["train"])[1],
                     float(np.percentile(real_nn, 1)))  # closer to a training image than 99% of real unseen images
    scored = {}
    for i, name in enumerate(samplers, 1):
        log.info("[%d/%d] sampler %s: fitting on %s encodings, %d images", i, len(samplers), name, fit_on, n)
        fitted = fit_sampler(name, codes, seed, out / f"fit-{name}.npz", **(options or {}).get(name, {}))
        asked = asked_numbers(fitted, n, seed) if fitted.conditional else None
        images, drawn, _ = sample_images(parts.decoder, None, name, n, seed, numbers=asked, fitted=fitted)
        scored[name] = ref.score(name, describe(fitted), images, drawn, asked)
        if not fitted.conditional:  # the report's explorer samples the best mixture as it was fitted here
            try:
                keep_mixture(out / f"mixture-{name}.npz", name, describe(fitted), as_mixture(fitted))
            except UserError:
                pass  # not a Gaussian mixture
        if fitted.conditional:
            numbers_figure(out / f"{name}-numbers.png", fitted, parts.decoder, reader, seed)
    x_test = to_inputs(ds.x_test)
    pick = np.sort(np.random.default_rng([seed, 1]).choice(len(x_test), min(n, len(x_test)), replace=False))
    log.info("reconstructions of %d test images", len(pick))
    scored[RECONSTRUCTION] = ref.score(RECONSTRUCTION, "test images through the autoencoder",
                                       predict(parts.autoencoder, x_test[pick]), enc["test"][pick],
                                       ds.y_test[pick])
    scored[REAL] = ref.score(REAL, "held-out validation images", real, enc["val"][real_pick],
                             ds.y_train[enc["val_idx"]][real_pick], nn=real_nn)
    table = score_table(scored, n, seed)
    write_scores(out, scored, table)
    write_json(out / "scores.json", {**table, "histograms": {k: v.histogram for k, v in scored.items()},
                                     "seed": seed, "autoencoder_seed": read_metrics(model_run).get("seed"),
                                     "fit_on": fit_on, "model_run": str(model_run),
                                     "reader_run": str(reader_run), "copy_threshold": ref.copy_below,
                                     "inputs": inputs, "versions": versions()})
    return table["rows"]


def score_inputs(model_run, reader_run, n: int, seed: int, fit_on: str, samplers, options) -> dict:
    """What a scoring depends on: the autoencoder and the reader (their metrics.json, written last by a finished
    training: another training is another file, and it records the data's hash), the settings, the guidance
    default and the version."""
    return {"autoencoder": sha256_file(Path(model_run) / METRICS), "reader": sha256_file(Path(reader_run) / METRICS),
            "n": n, "seed": seed, "fit_on": fit_on, "samplers": list(samplers), "options": options or {},
            "guidance": GUIDANCE, "version": __version__}


def kept_scores(out: Path, inputs: dict) -> list[dict] | None:
    """The rows of an earlier scoring in `out` with the same inputs, whose files are all there (a later look of
    the sequential design adds autoencoder seeds: the seeds scored before are not scored again); else None."""
    try:
        scores = read_json(out / "scores.json")
    except UserError:
        return None
    if scores.get("inputs") != json.loads(json.dumps(inputs)):
        return None
    names = [r["sampler"] for r in scores.get("rows", [])]
    if not all((out / f"{name}.npz").is_file() for name in names):
        return None
    return scores["rows"]


def numbers_figure(path, fitted, decoder, reader, seed: int) -> None:
    """ROW_IMAGES images of every number the conditional sampler knows, one row each, titled asked>read."""
    asked = np.repeat(fitted.classes, ROW_IMAGES)
    images, _, _ = sample_images(decoder, None, fitted.name, len(asked), seed + 1, numbers=asked, fitted=fitted)
    r = read_images(reader, images)
    numbers, readable = read_numbers(r["tens"], r["units"])
    titles = [f"{a:02d}>{v:02d}" if ok else f"{a:02d}>?" for a, v, ok in zip(asked, numbers, readable, strict=True)]
    number_rows_figure(to_uint8(images), asked, path, f"{describe(fitted)}: {ROW_IMAGES} images of each number "
                       "asked (asked>read, ? = not confident)", titles=titles)


def _check_count(n: int) -> None:
    if n < 1:
        raise UserError(f"the number of images must be positive, got {n}")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Flat decoder outputs in [0, 1] -> (N, 28, 39) uint8 images."""
    return np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8).reshape(-1, HEIGHT, WIDTH)


def score_reads(name: str, fitted: str, r: dict, images: np.ndarray, real_features: np.ndarray, nn: np.ndarray,
                copy_below: float, real_nn=None, code_nn=None, real_code_nn=None, asked=None) -> Scored:
    """An image set scored from what the reader made of it (`r`: tens, units, features); no model, no I/O.
    The held-out distances and `asked` are optional (see `generation_scores`)."""
    scores = generation_scores(r["tens"], r["units"], r["features"], real_features, nn, copy_below, real_nn,
                               code_nn, real_code_nn, asked)
    numbers, readable = read_numbers(r["tens"], r["units"])
    row = {"sampler": name, "kind": name if name in (REAL, RECONSTRUCTION) else "sampler", "fitted": fitted,
           **{k: v for k, v in scores.items() if k != "histogram"}}
    return Scored(row, scores["histogram"], to_uint8(images), numbers, readable, nn,
                  None if asked is None else np.asarray(asked))


def write_scores(out: Path, scored: dict[str, Scored], table: dict) -> None:
    """NAME.npz and NAME.png per image set, scores.csv and scores.md of `table`, histograms.csv and
    read_numbers.png."""
    for name, s in scored.items():
        write_npz(out / f"{name}.npz", images=s.images, numbers=s.numbers, readable=s.readable,
                  nn_distance=s.nn_distance, **({} if s.asked is None else {"asked": s.asked}))
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



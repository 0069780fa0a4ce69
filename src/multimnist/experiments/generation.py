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
    CONFIDENT,
    DRAWS,
    INTERVAL,
    MIN_READABLE,
    diversity_test,
    equal_footing,
    generation_scores,
    nearest_distances,
    read_numbers,
    row_seed,
)
from multimnist.evaluation.noise import ALPHA, proportion_test
from multimnist.experiments.reader import load_reader, read_images
from multimnist.files import sha256_arrays, write_json, write_npz, write_text
from multimnist.formatting import MISSING, csv_text, pct
from multimnist.latent.samplers import SAMPLERS, describe, make_sampler
from multimnist.layout import is_complete, read_metrics
from multimnist.models.autoencoder import split
from multimnist.models.reader import reading_model
from multimnist.report.figures import number_counts_figure, sample_grid_figure
from multimnist.training.fit import predict
from multimnist.training.run import load_model, versions

import numpy as np

log = logging.getLogger(__name__)

FIT_ON = ("train", "test")
GRID = 50  # images shown in a sampler's grid figure
BASELINE = "gaussian"  # the study's Algorithm 2, which the better samplers must beat
REAL = "real"  # the row of real held-out images: what the reader makes of images the decoder did not draw
ROW_KEYS = ("sampler", "kind", "fitted", "n", "readable", "readable_share", "readable_share_ci", "distinct_numbers",
            "distinct_numbers_ci", "entropy_bits", "entropy_bits_ci", "diversity_note", "outside_1_50",
            "outside_1_50_share", "outside_1_50_ci", "frechet_distance", "nn_distance_mean", "near_copy_share",
            "top_numbers")  # a table row, in column order; each *_ci is [lo, hi] or None


def load_autoencoder(run):
    """(autoencoder, encoder, decoder) of a finished autoencoder run folder."""
    run = Path(run)
    if not is_complete(run):
        raise UserError(f"{run} holds no finished autoencoder run: train one with `multimnist train autoencoder`")
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
    """Generate n images per sampler and score them with the reader, beside n real held-out images.

    Writes scores.csv and scores.md (one row per sampler, the study's first, then `real`), histograms.csv
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
    scored[REAL] = score_images(REAL, "held-out validation images", real, reader, real_features, train,
                                copy_below, nn=real_nn)
    table = score_table(scored, n, seed)
    write_scores(out, scored, table)
    write_json(out / "scores.json", {**table, "histograms": {k: v.histogram for k, v in scored.items()},
                                     "seed": seed, "fit_on": fit_on, "model_run": str(model_run),
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
    row = {"sampler": name, "kind": "real" if name == REAL else "sampler", "fitted": fitted,
           **{k: v for k, v in scores.items() if k != "histogram"}}
    return Scored(row, scores["histogram"], to_uint8(images), numbers, readable, nn)


def score_table(scored: dict[str, Scored], n: int, seed: int = 0, draws: int = DRAWS) -> dict:
    """The scores.json table (less histograms and provenance) from the scored image sets; no I/O.

    Adds each row's diversity on equal footing (`equal_footing`: the same number of readable images for every
    row, `draws` random subsets seeded by `seed` and the row's name) and the comparisons `compare_rows` makes.
    Same inputs and seed, same table.
    """
    reads = {k: s.numbers[s.readable] for k, s in scored.items()}
    equal_n, figures = equal_footing(reads, draws, seed)
    merged = [{**s.row, **figures[name]} for name, s in scored.items()]
    rows = [{k: r[k] for k in ROW_KEYS} for r in merged]
    return {"readable_threshold": CONFIDENT, "n": n, "equal_n": equal_n, "min_readable": MIN_READABLE,
            "draws": draws, "interval": INTERVAL, "alpha": ALPHA, "rows": rows,
            "comparisons": compare_rows(rows, reads, equal_n, draws, seed)}


def compare_rows(rows: list[dict], reads: dict[str, np.ndarray] | None = None, equal_n: int | None = None,
                 draws: int = DRAWS, seed: int = 0, against=(BASELINE, REAL)) -> list[dict]:
    """Every sampler row against each row named in `against` (Algorithm 2, the real images), measure by measure.

    Shares (readable of all images, outside 1..50 of the readable ones) by Fisher's exact test; distinct
    numbers and entropy by `diversity_test` on equal_n readable images each, when `reads` (each row's read
    numbers) are given and both rows have a diversity figure. Each record: sampler, against, measure,
    difference (sampler minus against), p_value, test, beyond_noise (p < ALPHA).
    """
    by = {r["sampler"]: r for r in rows}
    out = []

    def record(r, ref, measure, difference, p, test):
        out.append({"sampler": r["sampler"], "against": ref, "measure": measure, "difference": difference,
                    "p_value": p, "test": test, "beyond_noise": bool(p < ALPHA)})

    for ref in (a for a in against if a in by):
        b = by[ref]
        for r in (r for r in rows if r["kind"] == "sampler" and r["sampler"] != ref):
            record(r, ref, "readable_share", r["readable_share"] - b["readable_share"],
                   proportion_test(r["readable"], r["n"], b["readable"], b["n"]), "Fisher exact")
            if r["readable"] and b["readable"]:
                record(r, ref, "outside_1_50_share", r["outside_1_50_share"] - b["outside_1_50_share"],
                       proportion_test(r["outside_1_50"], r["readable"], b["outside_1_50"], b["readable"]),
                       "Fisher exact")
            if reads is not None and equal_n and r["distinct_numbers"] is not None \
                    and b["distinct_numbers"] is not None:
                tests = diversity_test(reads[r["sampler"]], reads[ref], equal_n, draws,
                                       row_seed(seed, f"{r['sampler']} vs {ref}"))
                for measure, t in tests.items():
                    record(r, ref, measure, t["difference"], t["p_value"], f"permutation on {equal_n} readable "
                                                                            "images each")
    return out


def csv_row(row: dict) -> dict:
    """A table row for scores.csv: each [lo, hi] interval as two columns, NAME_lo and NAME_hi."""
    flat = {}
    for k, v in row.items():
        if k.endswith("_ci"):
            flat[f"{k}_lo"], flat[f"{k}_hi"] = v if v is not None else (None, None)
        else:
            flat[k] = v
    return flat


def _share(v, ci) -> str:
    """'23.4% [20.9–26.1]': a share and its interval in percent."""
    return pct(v) if ci is None else f"{pct(v)} [{100 * ci[0]:.1f}–{100 * ci[1]:.1f}]"


def _figure(v, ci, digits: int) -> str:
    """'31.2 [28.0–34.0]': a subsampled figure and its interval."""
    return MISSING if v is None else f"{v:.{digits}f} [{ci[0]:.{digits}f}–{ci[1]:.{digits}f}]"


def scores_markdown(table: dict) -> str:
    """scores.md: what counts as readable and the equal footing, the table, then the verdict."""
    rows, m = table["rows"], table["equal_n"]
    t = table["readable_threshold"]
    head = [f"Readable threshold: {t} (an image is readable when the reader is at least {t:.0%} sure of both "
            "digits).",
            f"equal_n: {m} readable images per row for distinct numbers and entropy (the fewest any row has, at "
            f"least {table['min_readable']}), mean over {table['draws']} random subsets; a row with just {m} has "
            "a zero-width interval, so rows are compared by the tests the verdict names, not by interval overlap."
            if m is not None else
            f"equal_n: none; no row has the {table['min_readable']} readable images distinct numbers and entropy "
            "need.",
            f"Intervals: {table['interval']}.", ""]
    md = [f"| sampler | fitted | readable | outside 1..50 (of readable) | distinct numbers (of {m}) | "
          f"entropy (bits, of {m}) | Frechet distance | nearest-train RMS | near copies | most read |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        readable = f"{r['readable']}: {_share(r['readable_share'], r['readable_share_ci'])}"
        outside = f"{r['outside_1_50']}: {_share(r['outside_1_50_share'], r['outside_1_50_ci'])}"
        md.append(f"| {r['sampler']} | {r['fitted']} | {readable} | {outside} "
                  f"| {_figure(r['distinct_numbers'], r['distinct_numbers_ci'], 1)} "
                  f"| {_figure(r['entropy_bits'], r['entropy_bits_ci'], 2)} | {r['frechet_distance']:.2f} "
                  f"| {r['nn_distance_mean']:.3f} | {pct(r['near_copy_share'])} | {r['top_numbers']} |")
    verdict = sampler_verdict(rows, table["comparisons"], m)
    return "\n".join(head + md) + "\n\n" + verdict + "\n"


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


def sampler_verdict(rows: list[dict], comparisons: list[dict] | None = None, equal_n: int | None = None) -> str:
    """What the table says against the study's Algorithm 2 (gaussian), and against the real images, beyond noise.

    A sampler is better when its Frechet distance is lower (a point figure: it has no interval) and its readable
    share higher by Fisher's exact test (p < ALPHA); diversity is compared on equal_n readable images each by
    the permutation test; the out-of-range share against the real images' own, which is the reader's error.
    Differences the tests do not separate are named "within noise". `comparisons` are `compare_rows` records;
    without them the shares are compared from the rows alone and diversity is not.
    """
    comparisons = compare_rows(rows) if comparisons is None else comparisons
    by = {r["sampler"]: r for r in rows if r["kind"] == "sampler"}
    if BASELINE not in by:
        return "The study's per-dimension Gaussian (Algorithm 2) was not scored."
    g = by[BASELINE]
    tests = {(c["sampler"], c["against"], c["measure"]): c for c in comparisons}

    def named(keys, fmt) -> str:
        return ", ".join(f"{k} ({fmt(k)})" for k in keys)

    def split(measure, against, names) -> tuple[list, list, list]:
        """names whose measure is higher / lower beyond noise, and within noise (untested names left out)."""
        found = [(k, tests[k, against, measure]) for k in names if (k, against, measure) in tests]
        return ([k for k, t in found if t["beyond_noise"] and t["difference"] > 0],
                [k for k, t in found if t["beyond_noise"] and t["difference"] < 0],
                [k for k, t in found if not t["beyond_noise"]])

    def fd_readable(k) -> str:
        return f"{by[k]['frechet_distance']:.2f}, {pct(by[k]['readable_share'])}"

    beyond = f"(Fisher p < {ALPHA})"
    lower_fd = [k for k, r in by.items() if k != BASELINE and r["frechet_distance"] < g["frechet_distance"]]
    higher, _, level = split("readable_share", BASELINE, lower_fd)
    text = (f"Against Algorithm 2 ({BASELINE}: Frechet distance {g['frechet_distance']:.2f}, readable "
            f"{_share(g['readable_share'], g['readable_share_ci'])}): ")
    if higher:
        text += f"better on both Frechet distance and readable share {beyond}: {named(higher, fd_readable)}."
    else:
        text += f"no sampler is better on both Frechet distance and readable share {beyond}."
    if level:
        text += (" Lower Frechet distance but a readable share within noise of Algorithm 2's: "
                 f"{named(level, fd_readable)}.")
    text += _diversity_verdict(by, split, equal_n)
    text += _outside_verdict(rows, by, split)
    return text + f" Lowest Frechet distance (a point figure): {min(by, key=lambda k: by[k]['frechet_distance'])}."


def _diversity_verdict(by: dict, split, equal_n: int | None) -> str:
    g = by[BASELINE]
    if equal_n is None:
        return f" Diversity not compared: no row has {MIN_READABLE} readable images."
    if g["distinct_numbers"] is None:
        return f" Diversity not compared with Algorithm 2: {g['diversity_note']}."
    others = [k for k in by if k != BASELINE]
    more, fewer, level = split("distinct_numbers", BASELINE, others)
    short = [k for k in others if by[k]["distinct_numbers"] is None]

    def named(keys) -> str:
        return ", ".join(f"{k} ({by[k]['distinct_numbers']:.1f})" for k in keys)

    parts = [f"{label}: {named(keys)}" for label, keys in
             (("more than Algorithm 2", more), ("fewer", fewer), ("within noise", level)) if keys]
    if short:
        parts.append(f"too few readable images: {', '.join(short)}")
    if not parts:
        return ""
    return (f" Distinct numbers on equal footing ({equal_n} readable images each, permutation p < {ALPHA}; "
            f"Algorithm 2: {g['distinct_numbers']:.1f}): " + "; ".join(parts) + ".")


def _outside_verdict(rows: list[dict], by: dict, split) -> str:
    real = next((r for r in rows if r["kind"] == "real"), None)
    if real is None or not real["readable"]:
        return ""
    above, below, level = split("outside_1_50_share", REAL, list(by))
    text = (f" Read outside 1..50: {_share(real['outside_1_50_share'], real['outside_1_50_ci'])} of the readable "
            f"real images (the reader's own error)")

    def share(k) -> str:
        return _share(by[k]["outside_1_50_share"], by[k]["outside_1_50_ci"])

    for label, keys in (("more than that", above), ("less", below), ("within noise of it", level)):
        if keys:
            text += f"; {label}: " + ", ".join(f"{k} {share(k)}" for k in keys)
    return text + "."

"""A reproduce folder's results: read every run's own files (never the tables written for people), and the
numbers the report and the README quote, as results.json.

`load_study(run)` reads strictly through multimnist.layout: a step or run that did not run is absent (None or
left out), and the claims that need it are n/a; a file that is there but unreadable, or lacks what its
writer always writes, is a UserError naming it. `results_json(loaded, claims)` is pure: the report's tables and
the README render from it.

    RUN/profile.json, steps.json                          the profile and each step's time
    RUN/data/meta.json, inspect/stats.json               the data (a preset, or a user's files) and its class statistics
    RUN/{classifiers,ablations}/NAME/seed-S/              classifier runs (metrics.json, confusion.csv)
    RUN/sweeps/KIND/SETTING/seed-S/                       the side sweeps' runs (every run's history.csv too)
    RUN/autoencoder/sweep/cf-F/seed-S/                    the compression sweep
    RUN/autoencoder/final/seed-S/                         the final autoencoder, one per seed
    RUN/reader/, generation/seed-S/scores.json            the reader; the samplers scored on autoencoder seed S
    RUN/explorer/explorer.json                            what the latent explorer runs (latent/explorer.py)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from pathlib import Path

from multimnist.data.config import KNOBS
from multimnist.errors import UserError
from multimnist.evaluation.classification import top_confused_pairs
from multimnist.evaluation.noise import summarize, wilson_interval
from multimnist.files import write_json
from multimnist.latent.explorer import EXPLORER, read_explorer
from multimnist.layout import (
    DATA_META,
    HISTORY,
    METRICS,
    configuration_seeds,
    read_csv_rows,
    read_history,
    read_json,
    step_seconds,
)
from multimnist.paper import CONFUSED_PAIRS
from multimnist.report.claims import pair_counts, verdict_counts

import numpy as np

CLASSIFIER_ROOTS = ("classifiers", "ablations", "sweeps/*")  # each holds NAME/seed-S run folders
CONFUSION = "confusion.csv"
PAIR_GROUPS = ("classifiers/unregularized", "classifiers/regularized")  # before and after regularization
CURVES = ("val_accuracy", "val_loss")  # the history columns the claims read
SUMMARY_KEYS = ("test_accuracy", "best_val_accuracy", "val_accuracy", "train_accuracy", "train_val_gap",
                "balanced_accuracy", "epochs_run")

# What each file must hold, as its writer always writes it: key -> the types its value may have.
NUMBER, NUMBERS, OBJECT, TEXT = (int, float, type(None)), (list, type(None)), (dict,), (str,)
PROFILE = {"profile": OBJECT}
META = {"generator": OBJECT, "seed": NUMBER}
STATS = {"train": OBJECT, "test": OBJECT}
CLASS_STATS = {"counts": OBJECT, **dict.fromkeys(("n_classes", "total", "mean", "std", "min_class", "min_count",
                                                  "max_class", "max_count"), NUMBER)}
CLASSIFIER = dict.fromkeys(("test_accuracy", "best_val_accuracy", "train_accuracy", "val_accuracy", "train_val_gap",
                            "epochs_run"), NUMBER)  # metrics.json of schema 2
AUTOENCODER = dict.fromkeys(("test_mse", "latent_size", "epochs_run"), NUMBER)
READER = dict.fromkeys(("tens_accuracy", "units_accuracy"), NUMBER)
SCORES = {"readable_threshold": NUMBER, "n": NUMBER, "equal_n": NUMBER, "rows": (list,)}
SCORE_ROW = {"sampler": TEXT, "kind": TEXT, "readable_share_ci": NUMBERS, "distinct_numbers_ci": NUMBERS,
             "outside_1_50_ci": NUMBERS, **dict.fromkeys(("n", "readable", "readable_share", "distinct_numbers",
                                                          "outside_1_50", "outside_1_50_share", "frechet_distance"),
                                                         NUMBER)}


# --- reading ---

def load_study(run: str | Path, seeds: Callable[[str], Collection[int]] | None = None) -> dict:
    """Everything the report needs from a reproduce folder, as plain data (see the module docstring). `seeds`: the
    seeds to read of each configuration, by its folder's name (`autoencoder` for the final autoencoders and the
    samplers scored on them); None: those the run's profile.json says its steps trained (`recorded_seeds`), so
    that seeds another run left in the folder are not read; every finished seed where it does not say."""
    run = Path(run)
    profile = _optional(run / "profile.json", PROFILE)
    keep = seeds or recorded_seeds(profile)
    runs, dirs = classifier_runs(run, keep)
    stats = _optional(run / "inspect" / "stats.json", STATS)
    if stats is not None:
        for split in ("train", "test"):
            require(stats[split], CLASS_STATS, run / "inspect" / "stats.json")
    final = _seed_dirs(run / "autoencoder" / "final", keep=keep and keep("autoencoder"))
    scored = _seed_dirs(run / "generation", "scores.json", keep=keep and keep("autoencoder"))
    return {
        "profile": profile,
        "steps": _optional(run / "steps.json"),
        "meta": _optional(run / "data" / DATA_META, META),
        "stats": stats,
        "runs": runs,
        "dirs": dirs,
        "confusions": {g: [read_confusion(run / d / CONFUSION) for d in dirs[g]] for g in PAIR_GROUPS if g in dirs},
        "curves": {g: [_curves(run / d / HISTORY) for d in dirs[g]] for g in dirs},
        "compression": compression_runs(run / "autoencoder" / "sweep", keep),
        "autoencoder": [require(read_json(d / METRICS), AUTOENCODER, d / METRICS) for d in final],
        "reader": _optional(run / "reader" / METRICS, READER),
        "explorer": read_explorer(run / "explorer" / EXPLORER),
        "generation": [_optional(d / "scores.json", SCORES, SCORE_ROW) for d in scored],
    }


def recorded_seeds(profile: dict | None) -> Callable[[str], tuple[int, ...]] | None:
    """The seeds a run's steps trained of each configuration, from its profile.json (the profile's seed lists and
    the seeds its looks added, "more_seeds"); None for a profile.json written before it recorded them."""
    if not profile or not isinstance(profile.get("more_seeds"), dict):
        return None
    return partial(configuration_seeds, profile["profile"], profile["more_seeds"])


def _optional(path: Path, schema=None, row_schema=None):
    """A JSON file's content, None when it is not there; a file there must parse and hold `schema` (and each of
    its "rows" `row_schema`)."""
    if not path.exists():
        return None
    data = require(read_json(path), schema or {}, path)
    for row in data["rows"] if row_schema else ():
        require(row, row_schema, path)
    return data


def require(data, schema: dict, path: Path):
    """`data`, a JSON object holding every key of `schema` with a value of the types it names; else a UserError
    naming the file."""
    if not isinstance(data, dict):
        raise UserError(f"cannot read {path}: not a JSON object where one was expected")
    missing = [k for k in schema if k not in data]
    if missing:
        raise UserError(f"cannot read {path}: no {', '.join(missing)} (written by an older or unfinished "
                        "multimnist step? run it again)")
    wrong = [k for k, types in schema.items() if not isinstance(data[k], types) or isinstance(data[k], bool)]
    if wrong:
        raise UserError(f"cannot read {path}: unexpected value of {', '.join(wrong)}")
    return data


def _seed_dirs(folder: Path, holding: str = METRICS, keep: Collection[int] | None = None) -> list[Path]:
    """Finished runs (holding metrics.json, or `holding`) under folder/seed-S, in seed order; of the seeds in
    `keep` only, where given."""
    found = [p.parent for p in folder.glob(f"seed-*/{holding}")
             if keep is None or (p.parent.name[5:].isdigit() and int(p.parent.name[5:]) in keep)]
    return sorted(found, key=lambda p: (int(p.name[5:]) if p.name[5:].isdigit() else 1 << 30, p.name))


def classifier_runs(run: Path, keep: Callable[[str], Collection[int]] | None = None,
                    ) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """({group: [metrics of each seed]}, {group: [run folder relative to run]}); group is e.g.
    'classifiers/unregularized', 'ablations/l1_1e-3' or 'sweeps/depth/depth-2'; `keep`: the seeds to read of each
    configuration, by its folder's name (None: every finished seed)."""
    runs, dirs = {}, {}
    for root in CLASSIFIER_ROOTS:
        for folder in sorted(p for p in run.glob(f"{root}/*") if p.is_dir()):
            seeds = _seed_dirs(folder, keep=keep and keep(folder.name))
            if seeds:
                group = folder.relative_to(run).as_posix()
                runs[group] = [require(read_json(d / METRICS), CLASSIFIER, d / METRICS) for d in seeds]
                dirs[group] = [d.relative_to(run).as_posix() for d in seeds]
    return runs, dirs


def compression_runs(sweep: Path, keep: Callable[[str], Collection[int]] | None = None) -> dict[int, list[dict]]:
    """{compression factor: [metrics of each seed]} of the finished runs under sweep/cf-F/seed-S (of the seeds
    `keep` gives cf-F, where given)."""
    out = {}
    for folder in sorted(sweep.glob("cf-*")):
        seeds = _seed_dirs(folder, keep=keep and keep(folder.name))
        if folder.name[3:].isdigit() and seeds:
            out[int(folder.name[3:])] = [require(read_json(d / METRICS), AUTOENCODER, d / METRICS) for d in seeds]
    return dict(sorted(out.items()))


def read_confusion(path: Path) -> dict:
    """confusion.csv (a header of class labels, then one row per true class) -> {"classes", "matrix"}."""
    rows = read_csv_rows(path)
    try:
        classes = [int(k) for k in list(rows[0])[1:]] if rows else []
        matrix = [[int(r[str(c)]) for c in classes] for r in rows]
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    if len(matrix) != len(classes):
        raise UserError(f"cannot read {path}: {len(matrix)} rows for {len(classes)} classes")
    return {"classes": classes, "matrix": matrix}


def _curves(path: Path) -> dict[str, list[float]]:
    """The validation curves of a run's history.csv (a run without one has none to read), and its `accuracy`
    column where it has one: fit's running training-mode mean per epoch, the study's reading of training accuracy."""
    if not path.exists():
        return {}
    history = read_history(path)
    missing = [c for c in CURVES if c not in history]
    if missing:
        raise UserError(f"cannot read {path}: no {', '.join(missing)} column")
    return {c: history[c] for c in (*CURVES, "accuracy") if c in history}


# --- results.json: every number the report's tables and the README quote ---

def results_json(loaded: dict, claims) -> dict:
    """The content of results.json from `load_study`'s dict and the judged claims; no I/O, strict-JSON-able."""
    profile = loaded.get("profile") or {}
    return {
        "version": profile.get("multimnist_version"),
        "profile": profile.get("profile"),
        "preset": (loaded.get("meta") or {}).get("preset"),
        "data_source": data_source(loaded.get("meta")),
        "steps": {k: step_seconds(v) for k, v in (loaded.get("steps") or {}).items() if isinstance(v, dict)},
        "data": data_summary(loaded.get("stats")),
        "classifiers": {g: config_summary(runs) for g, runs in loaded["runs"].items()},
        "pairs": pair_rows(loaded.get("confusions") or {}),
        "compression": compression_rows(loaded.get("compression") or {}),
        "autoencoder": autoencoder_summary(loaded.get("autoencoder") or []),
        "reader": _pick(loaded.get("reader"), ("tens_accuracy", "units_accuracy", "number_accuracy")),
        "generation": generation_summary(loaded.get("generation")),
        "claims": [c.as_dict() for c in claims],
        "verdicts": verdict_counts(claims),
    }


def data_source(meta: dict | None) -> dict | None:
    """What a study ran on, from its data/meta.json: a preset with its knobs and data seed ("kind": "preset"), or a
    user's files with their SHA-256 ("kind": "files"; with the preset and seed of the recipe they carry, if any)."""
    if not meta:
        return None
    generator = meta.get("generator") or {}
    recipe = {"preset": meta.get("preset"), "knobs": {k: v for k, v in generator.items() if k in KNOBS} or None,
              "seed": meta.get("seed")}
    source = meta.get("source")
    if isinstance(source, dict):
        return {"kind": "files", "path": source.get("path"), "files": source.get("files") or {}, **recipe}
    return {"kind": "preset", **recipe, "train_size": generator.get("train_size")}


def data_label(source: dict | None) -> str:
    """A study's data in a few words, to name it among others: the preset, or the user's files and a hash."""
    if not source:
        return "unknown data"
    if source["kind"] == "preset":
        return source.get("preset") or "own settings"
    first = next(iter(source["files"].values()), "")
    return f"{Path(source.get('path') or '?').name} ({first[:8]})"


def data_text(source: dict | None) -> str:
    """A study's data in a sentence: the preset and its knobs, or each of the user's files with its SHA-256."""
    if not source:
        return "unknown data (no data/meta.json)"
    details = [", ".join(f"{k} {v}" for k, v in (source.get("knobs") or {}).items() if v is not None),  # None: unset
               "" if source.get("seed") is None else f"data seed {source['seed']}"]
    details = "; ".join(d for d in details if d)
    made = f"generator preset '{source.get('preset') or 'none (own settings)'}'" + (f" ({details})" if details else "")
    if source["kind"] == "preset":
        return made
    files = "; ".join(f"{name} SHA-256 {digest}" for name, digest in source["files"].items())
    origin = (f"made by multimnist with {made}" if source.get("knobs") else
              "not made by this generator (or changed since): calibrated on nothing, so no claim is by construction")
    return f"your dataset {source.get('path')} ({files}), {origin}"


def write_results(run: str | Path, results: dict) -> Path:
    path = Path(run) / "results.json"
    write_json(path, results)
    return path


def config_summary(runs: list[dict]) -> dict:
    """One configuration over its seeds: {n, seeds, n_params, KEY: {mean, std, n}} for each SUMMARY_KEYS."""
    return {"n": len(runs), "seeds": [m.get("seed") for m in runs], "n_params": runs[0].get("n_params"),
            **{k: summarize([m.get(k) for m in runs]) for k in SUMMARY_KEYS}}


def data_summary(stats: dict | None) -> dict | None:
    if not stats:
        return None
    t = stats["train"]
    return {"n_classes": t.get("n_classes"), "train_total": t.get("total"), "test_total": stats["test"].get("total"),
            "mean": t.get("mean"), "std": t.get("std"), "min_class": t.get("min_class"),
            "min_count": t.get("min_count"), "max_class": t.get("max_class"), "max_count": t.get("max_count"),
            "counts": {str(k): v for k, v in (t.get("counts") or {}).items()}}


def pair_rows(confusions: dict, top: int = 10) -> list[dict]:
    """The unregularized runs' top confused pairs (summed over seeds) and the study's named pairs: each side's
    count per seed as {mean, std, n}, and the relative change of the means."""
    before, after = (confusions.get(g) or [] for g in PAIR_GROUPS)
    if not before or not after:
        return []
    classes = before[0]["classes"]
    summed = np.sum([np.asarray(c["matrix"]) for c in before if c["classes"] == classes], axis=0)
    pairs = [(p["true"], p["predicted"]) for p in top_confused_pairs(summed, classes, top)]
    pairs += [p for p in CONFUSED_PAIRS if p not in pairs and set(p) <= set(classes)]
    rows = []
    for true, pred in pairs:
        b, a = summarize(pair_counts(before, true, pred)), summarize(pair_counts(after, true, pred))
        rows.append({"true": true, "predicted": pred, "before": b, "after": a,
                     "change": (a["mean"] - b["mean"]) / b["mean"] if b["mean"] and a["mean"] is not None else None})
    return rows


def compression_rows(compression: dict) -> list[dict]:
    return [{"factor": int(f), "latent_size": runs[0].get("latent_size"),
             "test_mse": summarize([m.get("test_mse") for m in runs]),
             "latent_values_outside_unit_share": summarize([m.get("latent_values_outside_unit_share") for m in runs])}
            for f, runs in sorted(compression.items())]


def autoencoder_summary(runs: list[dict]) -> dict | None:
    """The final autoencoder over its seeds: {n, seeds, latent_size, KEY: {mean, std, n}}."""
    if not runs:
        return None
    return {"n": len(runs), "seeds": [m.get("seed") for m in runs], "latent_size": runs[0].get("latent_size"),
            **{k: summarize([m.get(k) for m in runs]) for k in ("test_mse", "test_bce", "epochs_run",
                                                                "latent_values_outside_unit_share")}}


SEED_KEYS = ("readable_share", "distinct_numbers", "entropy_bits", "outside_1_50_share", "frechet_distance",
             "nn_distance_mean", "near_copy_share", "nn_ratio", "code_nn_ratio", "as_requested_share",
             "numbers_below_half")  # read per autoencoder seed, summarized over the seeds


def generation_summary(seeds: list[dict]) -> dict | None:
    """Every image set (samplers, reconstructions, real images) over the autoencoder seeds: each figure's
    {mean, std, n} over the seeds (what the claims compare), and the pooled counts with their Wilson
    intervals (a secondary figure: pooling ignores the training variance between autoencoders)."""
    if not seeds:
        return None
    names = list(dict.fromkeys(r["sampler"] for scores in seeds for r in scores["rows"]))
    rows = []
    for name in names:
        per_seed = [r for scores in seeds for r in scores["rows"] if r["sampler"] == name]
        n, readable = sum(r["n"] for r in per_seed), sum(r["readable"] for r in per_seed)
        outside = sum(r["outside_1_50"] for r in per_seed)
        rows.append({"sampler": name, "kind": per_seed[0]["kind"], "fitted": per_seed[0].get("fitted"),
                     "seeds": len(per_seed), "n": n, "readable": readable,
                     "readable_share_pooled_ci": wilson_interval(readable, n),
                     "outside_1_50": outside, "outside_1_50_pooled_ci": wilson_interval(outside, readable),
                     **{k: summarize([r.get(k) for r in per_seed]) for k in SEED_KEYS}})
    first = seeds[0]
    return {"readable_threshold": first["readable_threshold"], "n_per_seed": first["n"],
            "equal_n": [s["equal_n"] for s in seeds], "autoencoder_seeds": [s.get("autoencoder_seed") for s in seeds],
            "interval": first.get("interval"), "rows": rows}


def _pick(data: dict | None, keys) -> dict | None:
    return None if data is None else {k: data.get(k) for k in keys}

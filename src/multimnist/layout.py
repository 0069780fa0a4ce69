"""Where things are in a run folder, and strict readers for them.

A training run folder:

    RUN/config.yaml     the resolved configuration, written once the model is built
    RUN/history.csv     one row per epoch, the figures Keras' fit would log (training/pack.py writes it)
    RUN/model.keras     the trained model
    RUN/metrics.json    final metrics, data hash, versions, timings: written last, so it marks the run finished
    RUN/*.png, *.csv    figures and tables of the run
    RUN/backup/         the whole training state after the last finished epoch, while a run is unfinished

A dataset folder (`data make --out`, the cache of `load_data`, a study's RUN/data):

    DATA/train.npz, DATA/test.npz   the two splits: x, y and what made each image (src, intensity, placement)
    DATA/meta.json                  settings, seed, MNIST hash, counts and the arrays' hash: written last, so it
                                    marks the dataset complete

Every reader here names the file it could not read; none of them guesses a value for a broken file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from multimnist.errors import UserError
from multimnist.paper import HEADLINE

CONFIG, HISTORY, MODEL, METRICS, BACKUP = "config.yaml", "history.csv", "model.keras", "metrics.json", "backup"
DATA_META = "meta.json"
DATA_SPLITS = {"train": "train.npz", "test": "test.npz"}  # split -> its file in a dataset folder


def seeds_for(base: Sequence[int], wanted: int | None) -> tuple[int, ...]:
    """`base` (the profile's seeds), then the next unused seeds up to `wanted` in all (None: `base` as it is)."""
    if wanted is None or wanted <= len(base):
        return tuple(base)
    start = max(base) + 1
    return (*base, *range(start, start + wanted - len(base)))


def configuration_seeds(profile: Mapping, more: Mapping[str, int] | None, name: str) -> tuple[int, ...]:
    """The seeds a study's steps train of configuration `name` (a headline network, an ablation's or a side sweep's
    setting, cf-F for a compression factor, `autoencoder` for the final autoencoders and the samplers scored on
    them; the name of its folder): the profile's seed list for it (`profile`: the fields of profile.json's
    "profile"), then the seeds a later look of the sequential design added (`more`, by configuration)."""
    if name in HEADLINE:
        base = profile["seeds"]
    elif name.startswith("cf-"):
        base = profile["sweep_seeds"]
    elif name == "autoencoder":
        base = profile["autoencoder_seeds"]
    else:
        base = profile["ablation_seeds"]
    return seeds_for(base, (more or {}).get(name))


def is_complete(run_dir: str | Path) -> bool:
    """A run is finished once its metrics.json exists (it is written last, atomically)."""
    return (Path(run_dir) / METRICS).is_file()


def require_finished_run(run_dir: str | Path, what: str, command: str) -> Path:
    """`run_dir` if it holds a finished run; else a UserError that names the finished runs inside it (a study's
    autoencoder/final holds seed-0, seed-1, ...: the run is the seed folder), or says how to make one."""
    run_dir = Path(run_dir)
    if is_complete(run_dir):
        return run_dir
    inside = sorted(p.parent for p in run_dir.glob(f"*/{METRICS}")) if run_dir.is_dir() else []
    if inside:
        names = ", ".join(p.name for p in inside[:3]) + (", ..." if len(inside) > 3 else "")
        raise UserError(f"{run_dir} holds finished runs in its folders ({names}), not one itself: give one of them, "
                        f"e.g. {inside[0]}")
    missing = "" if run_dir.exists() else " (no such folder)"
    raise UserError(f"{run_dir} holds no finished {what} run{missing}: train one with `{command}`")


def read_json(path: str | Path):
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"missing {path}") from None
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path}: {e}") from None


def read_metrics(run_dir: str | Path) -> dict:
    return read_json(Path(run_dir) / METRICS)


def read_csv_rows(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError:
        raise UserError(f"missing {path}") from None
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {path}: {e}") from None


def read_history(path: str | Path) -> dict[str, list[float]]:
    """history.csv -> {column: values}, one value per epoch."""
    rows = read_csv_rows(path)
    try:
        return {k: [float(r[k]) for r in rows] for k in (rows[0] if rows else {})}
    except (TypeError, ValueError) as e:
        raise UserError(f"cannot read {path}: {e}") from None


def step_seconds(record: dict) -> float:
    """All the seconds a reproduce folder's steps.json says were spent on a step: its last run, and the earlier runs
    a later look of the sequential design (or a changed input) replaced (`earlier`; older steps.json have none)."""
    return record.get("seconds", 0.0) + sum(r.get("seconds", 0.0) for r in record.get("earlier", []))

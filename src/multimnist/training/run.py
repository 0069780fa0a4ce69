"""The one protocol every training run follows, whatever the model (the folder's layout: `multimnist.layout`).

A training function calls `open_run` first: it returns the metrics of the very same finished run (nothing to
do), None for a new or resumable run, and refuses a folder that holds something else. Once the model is built
it calls `start_run` (config.yaml), trains, and ends with `finish_run` (metrics.json, strict JSON).
"""

from __future__ import annotations

import logging
import platform
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from multimnist._version import __version__
from multimnist.config import to_dict
from multimnist.data import Dataset, read_dataset
from multimnist.errors import UserError
from multimnist.files import finite, sha256_arrays, write_json, write_yaml
from multimnist.layout import BACKUP, CONFIG, HISTORY, METRICS, MODEL, is_complete, read_metrics

import jax
import keras
import numpy as np
import sklearn

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    return {
        "multimnist": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


def dataset_fingerprint(data: str | Path | Dataset) -> tuple[Dataset, dict]:
    """The dataset a run trains on and what identifies it in metrics.json: its path and the hash of its arrays."""
    ds = data if isinstance(data, Dataset) else read_dataset(data)
    return ds, {"path": None if isinstance(data, Dataset) else str(data),
                "sha256": sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)}


def open_run(out: str | Path, cfg: Any, load_config: Callable[[Path], Any], data_sha: str | None = None,
             replace: bool = False) -> dict | None:
    """The finished run's metrics if `out` holds this very run; None to train (fresh, or resuming); else refuse.

    The saved config.yaml is read back through `load_config` (the same dataclasses as `cfg`), so settings added
    since the run was made take their defaults and the old folder still resumes. A folder holding another config
    is refused, unless that run never finished an epoch (a failed start): then it is cleared for this one.
    `data_sha`, if given, must match the finished run's data hash. `replace`: a folder the caller owns (a step of
    `reproduce`), where a run of another config (an edited config file) or other data is deleted and trained anew.
    """
    out = Path(out)
    _remove_leftovers(out)
    if not (out / CONFIG).is_file():
        if out.exists() and any(p.name not in (BACKUP, HISTORY) for p in out.iterdir()):
            raise UserError(f"{out} is not empty and holds no run: choose another --out")
        return None
    try:
        previous = to_dict(load_config(out / CONFIG))
    except UserError as e:
        raise UserError(f"{out} holds a run this version cannot read ({e}): choose another --out") from None
    differences = sorted(_differences(previous, to_dict(cfg)))
    if differences and replace:
        log.warning("%s held a run of another config (differs in %s); replacing it", out, ", ".join(differences[:5]))
        shutil.rmtree(out)
        return None
    if differences:
        if not is_complete(out) and not _epochs_done(out):
            log.warning("%s held a run of another config that never finished an epoch; starting afresh", out)
            _clear(out)
            return None
        raise UserError(f"{out} holds a run of another config (differs in {', '.join(differences[:5])}): "
                        "choose another --out or delete it")
    if not is_complete(out):
        return None
    metrics = read_metrics(out)
    if data_sha is not None and metrics.get("data", {}).get("sha256") != data_sha and replace:
        log.warning("%s was trained on other data; replacing it", out)
        shutil.rmtree(out)
        return None
    if data_sha is not None and metrics.get("data", {}).get("sha256") != data_sha:
        raise UserError(f"{out} was trained on other data: choose another --out")
    return metrics


def start_run(out: str | Path, cfg: Any) -> Path:
    """Write the resolved config; call it once the model is built, so a refused config leaves no run folder."""
    out = Path(out)
    write_yaml(out / CONFIG, to_dict(cfg))
    return out


def finish_run(out: str | Path, metrics: dict) -> dict:
    """Write metrics.json last (NaN and infinities as null): its presence marks the run finished; the training
    checkpoint (RUN/backup) goes once it is there."""
    metrics = finite(metrics)
    write_json(Path(out) / METRICS, metrics)
    shutil.rmtree(Path(out) / BACKUP, ignore_errors=True)
    return metrics


def load_model(run_dir: str | Path, name: str = MODEL):
    """The trained Keras model of a run folder (safe mode: no arbitrary code is loaded)."""
    path = Path(run_dir) / name
    if not path.is_file():
        raise UserError(f"no trained model at {path}: train it first, or check the run folder")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot load {path}: {str(e).splitlines()[0]}") from None


def _differences(a, b, prefix="") -> list[str]:
    """Dotted names of the settings that differ between two nested configs."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in set(a) | set(b) for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


def _remove_leftovers(out: Path) -> None:
    """Temporary files (.NAME.RANDOM.tmp.SUFFIX) a killed run left half-written: never read, so removed."""
    for tmp in out.glob(".*.tmp*") if out.is_dir() else ():
        if tmp.is_file():
            log.info("removing %s, left half-written by an interrupted run", tmp)
            tmp.unlink(missing_ok=True)


def _epochs_done(out: Path) -> bool:
    history = out / HISTORY
    return (out / BACKUP).exists() or (history.is_file() and len(history.read_text().splitlines()) > 1)


def _clear(out: Path) -> None:
    """Remove what a run writes before its first epoch ends (never anything else in the folder)."""
    (out / CONFIG).unlink(missing_ok=True)
    (out / HISTORY).unlink(missing_ok=True)
    shutil.rmtree(out / BACKUP, ignore_errors=True)

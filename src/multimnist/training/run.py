"""Run folders: what every training run leaves behind, and the versions it ran with.

    RUN/config.yaml     the resolved configuration
    RUN/history.csv     one row per epoch (Keras CSVLogger)
    RUN/metrics.json    final metrics, seed, versions, timings
    RUN/model.keras     the trained model
    RUN/*.png           figures
    RUN/backup/         Keras BackupAndRestore state while a run is unfinished
"""

from __future__ import annotations

import csv
import platform
from pathlib import Path

from multimnist import __version__


def versions() -> dict[str, str]:
    import jax
    import keras
    import numpy
    import sklearn

    return {
        "multimnist": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "jax": jax.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def read_history(path: str | Path) -> dict[str, list[float]]:
    """history.csv -> {column: values}, one value per epoch."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def is_complete(run_dir: str | Path) -> bool:
    """A run is complete once its metrics.json exists (it is written last, atomically)."""
    return (Path(run_dir) / "metrics.json").is_file()


def load_model(run_dir: str | Path, name: str = "model.keras"):
    """The trained Keras model of a run folder (safe mode: no arbitrary code is loaded)."""
    import multimnist  # noqa: F401  (selects the JAX backend before Keras loads)
    from multimnist.errors import UserError

    import keras

    path = Path(run_dir) / name
    if not path.is_file():
        raise UserError(f"no trained model at {path}: train it first, or check the run folder")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot load {path}: {str(e).splitlines()[0]}") from None


def check_run_folder(out: str | Path, config: dict, data_sha: str | None = None) -> dict | None:
    """The finished run's metrics.json if `out` holds this very run; None to train (or resume); else refuse.

    `config` is the resolved config as config.yaml stores it; `data_sha` (if given) must match the
    metrics' data.sha256, so a folder trained on other data is never reused.
    """
    import json

    from multimnist.config import read_config
    from multimnist.errors import UserError

    out = Path(out)
    if not (out / "config.yaml").is_file():
        if out.exists() and any(p.name != "backup" for p in out.iterdir()):
            raise UserError(f"{out} is not empty and holds no run: choose another --out")
        return None
    _, previous = read_config(out / "config.yaml")
    if previous != config:
        diff = sorted(k for k in set(previous) | set(config) if previous.get(k) != config.get(k))
        raise UserError(f"{out} holds a run of another config (differs in {', '.join(diff)}): "
                        "choose another --out or delete it")
    if not is_complete(out):
        return None
    metrics = json.loads((out / "metrics.json").read_text())
    if data_sha is not None and metrics.get("data", {}).get("sha256") != data_sha:
        raise UserError(f"{out} was trained on other data: choose another --out")
    return metrics

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

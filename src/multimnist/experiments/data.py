"""Study sections 1-2 as steps: make the dataset files (or take a user's), then inspect them (figures 1-3 and
class statistics).

Making data needs only the core install (numpy, PyYAML, Pillow); the figures of `inspect_data` import
matplotlib when they are drawn, so `data make` works without the `[report]` extra.
"""

from __future__ import annotations

from pathlib import Path

from multimnist.data import GeneratorConfig, export_dataset, load_mnist, make_dataset, read_dataset, save_dataset
from multimnist.data.config import LABELS
from multimnist.data.dataset import check_trainable
from multimnist.data.export import Progress
from multimnist.data.generate import Dataset
from multimnist.data.inspect import class_stats, first_unique, hardness
from multimnist.data.mnist import Digits
from multimnist.data.store import recorded_mismatch
from multimnist.errors import UserError
from multimnist.files import sha256_arrays, sha256_file, write_json
from multimnist.layout import DATA_META, DATA_SPLITS

import numpy as np


def make_data(out: Path, config: GeneratorConfig, seed: int = 0, mnist: str | Path | None = None) -> Path:
    """Generate a dataset and write it to `out` (train.npz, test.npz, meta.json), whatever `out` holds: the
    study's data step, which the pipeline reruns only when the step's settings changed. To make a dataset only
    when it is not already there, use `data.ensure_dataset`."""
    digits = load_mnist(mnist)
    ds = make_dataset(digits, config, seed=seed)
    return save_dataset(ds, out)


STUDY_CLASSES = (1, 50)  # the study's class numbers, lowest and highest: its claims name classes such as 50 and 30


def dataset_files(source: str | Path) -> dict[str, str]:
    """Each file of a user's dataset with its SHA-256: a folder's train.npz, test.npz (and meta.json if there),
    or the one .npz. What names the data in the report, and what the study's data step hashes."""
    source = Path(source)
    if not source.exists():
        raise UserError(f"dataset not found: {source}")
    names = [*DATA_SPLITS.values(), DATA_META] if source.is_dir() else [source.name]
    folder = source if source.is_dir() else source.parent
    files = {n: sha256_file(folder / n) for n in names if (folder / n).is_file()}
    missing = [n for n in DATA_SPLITS.values() if source.is_dir() and n not in files]
    if missing:
        raise UserError(f"missing dataset file {source / missing[0]}: a dataset folder holds train.npz and test.npz "
                        "(or give one .npz with x_train, y_train, x_test, y_test)")
    return files


def read_study_data(source: str | Path) -> Dataset:
    """A user's dataset, checked as every reader checks it (shapes, dtypes, ranges, label convention), with enough
    to train on (`check_trainable`) and only the study's classes: the numbers 1..50."""
    ds = read_dataset(source)
    check_trainable(ds.y_train, str(source))
    check_study_labels(np.concatenate([ds.y_train, ds.y_test]), source)
    return ds


def check_study_labels(labels: np.ndarray, source: str | Path) -> None:
    """Refuse labels outside the study's class numbers 1..50."""
    lo, hi = STUDY_CLASSES
    labels = np.unique(labels)
    outside = labels[(labels < lo) | (labels > hi)]
    if len(outside):
        raise UserError(f"{source}: labels {', '.join(map(str, outside[:5].tolist()))}"
                        f"{', ...' if len(outside) > 5 else ''} are not among the study's classes {lo}..{hi} (the "
                        "class numbers, a leading-zero '07' as 7)")


def copy_data(source: str | Path, out: Path) -> Path:
    """The study's data step on a user's dataset: check it (`read_study_data`), then write it to `out` as a dataset
    folder whose meta.json names the user's files with their SHA-256 (`source`). The recipe of a dataset
    `data make` wrote (generator settings, preset, seed) is kept only while its arrays still match it; anything
    else is a user's own data, made to match nothing (`generator` empty, `preset` None)."""
    ds = read_study_data(source)
    digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    files = dataset_files(source)
    recipe = ds.meta.get("generator") and ds.meta.get("sha256") == digest and recorded_mismatch(ds) is None
    own = {"generator": {}, "preset": None, "seed": None, "labels": LABELS, "classes": list(ds.classes)}
    ds.meta = {**(ds.meta if recipe else own), "sha256": digest,
               "source": {"path": str(Path(source).resolve()), "files": files}}
    return save_dataset(ds, out)


def export_data(data: Path, out: Path, fmt: str, force: bool = False, progress: Progress | None = None) -> list[Path]:
    """Export the dataset at `data` to `out` as an ImageFolder tree or Hugging Face Parquet (see data/export.py)."""
    return export_dataset(read_dataset(data), out, fmt, force=force, progress=progress)


def inspect_data(data: Path, out: Path, mnist: str | Path | None = None, n_hard: int = 16) -> dict:
    """Write samples.png, histogram.png, hard.png and stats.json for the dataset at `data`."""
    ds = read_dataset(data)  # first: a missing or broken dataset is named even where matplotlib is missing

    from multimnist.figures.png import class_histogram_figure, sample_grid_figure

    out = Path(out)
    first = first_unique(ds.y_train, 16)
    sample_grid_figure(ds.x_train[first], [f"{ds.y_train[i]:02d}" for i in first], out / "samples.png",
                       title="First 16 training samples with distinct labels")
    train, test = class_stats(ds.y_train, ds.classes), class_stats(ds.y_test, ds.classes)
    class_histogram_figure(train, out / "histogram.png",
                           f"Training samples per class: mean {train['mean']:.0f}, std {train['std']:.0f}")
    score, measure = hardness(ds, _digits_for(ds, mnist))
    hard = np.argsort(-score, kind="stable")[:n_hard]
    sample_grid_figure(ds.x_test[hard], [f"{ds.y_test[i]:02d} ({score[i]:.2f})" for i in hard], out / "hard.png",
                       title=f"Hardest test samples by {measure.split(' (')[0]} (label, score)")
    stats = {"train": train, "test": test, "hardness_measure": measure,
             "hard_samples": [{"index": int(i), "label": int(ds.y_test[i]), "score": float(score[i])} for i in hard],
             "hardness_mean": float(score.mean()), "dataset": str(data)}
    write_json(out / "stats.json", stats)
    return stats


def _digits_for(ds, mnist) -> Digits | None:
    """The MNIST digits the dataset was drawn from, if they are at hand (hashes match)."""
    recorded = ds.meta.get("mnist", {})
    if "sha256" not in recorded:
        return None
    if mnist is None and recorded.get("source") not in (None, "vendored"):
        mnist = recorded["source"] if Path(recorded["source"]).exists() else None
    digits = load_mnist(mnist)
    return digits if digits.sha256 == recorded["sha256"] else None

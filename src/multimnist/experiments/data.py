"""Study sections 1-2 as steps: make the dataset files, then inspect them (figures 1-3 and class statistics).

Making data needs only the core install (numpy, PyYAML, Pillow); the figures of `inspect_data` import
matplotlib when they are drawn, so `data make` works without the `[report]` extra.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from multimnist.data import GeneratorConfig, export_dataset, load_mnist, make_dataset, read_dataset, save_dataset
from multimnist.data.export import Progress
from multimnist.data.inspect import class_stats, first_unique, hardness
from multimnist.data.mnist import Digits
from multimnist.data.presets import matching_preset
from multimnist.errors import UserError
from multimnist.files import write_json

import numpy as np


def make_data(out: Path, config: GeneratorConfig, seed: int = 0, mnist: str | Path | None = None) -> Path:
    """Generate a dataset and write it to `out` (train.npz, test.npz, meta.json)."""
    digits = load_mnist(mnist)
    ds = make_dataset(digits, config, seed=seed)
    return save_dataset(ds, out)


def same_dataset_there(out: Path, config, seed: int, mnist_sha256: str) -> bool:
    """True if `out` holds a dataset of these very settings; False if it holds none; else a UserError (use --force)."""
    meta_path = out / "meta.json"
    if not meta_path.is_file():
        if any((out / f"{split}.npz").exists() for split in ("train", "test")):
            raise UserError(f"{out} holds train.npz/test.npz without meta.json (an unfinished or foreign dataset): "
                            "add --force to replace it, or choose another --out")
        return False
    try:
        meta = json.loads(meta_path.read_text())
        recorded = {**meta["generator"], "seed": meta["seed"], "mnist": meta["mnist"]["sha256"]}
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{meta_path} is not a meta.json written by `data make`: add --force to replace the "
                        "dataset, or choose another --out") from None
    wanted = {**_as_json(dataclasses.asdict(config)), "seed": seed, "mnist": mnist_sha256}
    # A setting added after the dataset was made counts as its default; the preset's name is only a label.
    defaults = {f.name: _as_json(f.default) for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
    differ = [k for k in wanted if k != "preset" and recorded.get(k, defaults.get(k)) != wanted[k]]
    if differ:
        shown = ", ".join(f"{k} {_short(recorded.get(k))} (now {_short(wanted[k])})" for k in differ[:4])
        held, asked = meta.get("preset"), matching_preset(config)
        if held != asked and held is not None:  # another preset: say so before the knobs
            now = f"preset {asked!r}" if asked else "custom settings"
            raise UserError(f"this folder holds preset {held!r}, not {now}: {out} was made with other settings "
                            f"({shown}); add --force to replace it, or choose another --out")
        raise UserError(f"{out} holds a dataset made with other settings ({shown}): add --force to replace it, or "
                        "choose another --out")
    return True


def _as_json(value):
    """As the value reads back from meta.json (tuples as lists)."""
    return json.loads(json.dumps(value, default=list))


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 20 else text[:17] + "..."


def ensure_data(out: Path, config: GeneratorConfig, seed: int = 0) -> Path:
    """The dataset of `config` and `seed` in `out`: made if absent, kept if there, refused if of other settings."""
    if not same_dataset_there(Path(out), config, seed, load_mnist().sha256):
        make_data(Path(out), config, seed=seed)
    return Path(out)


def export_data(data: Path, out: Path, fmt: str, force: bool = False, progress: Progress | None = None) -> list[Path]:
    """Export the dataset at `data` to `out` as an ImageFolder tree or Hugging Face Parquet (see data/export.py)."""
    return export_dataset(read_dataset(data), out, fmt, force=force, progress=progress)


def inspect_data(data: Path, out: Path, mnist: str | Path | None = None, n_hard: int = 16) -> dict:
    """Write samples.png, histogram.png, hard.png and stats.json for the dataset at `data`."""
    ds = read_dataset(data)  # first: a missing or broken dataset is named even where matplotlib is missing

    from multimnist.report.figures import class_histogram_figure, sample_grid_figure

    out = Path(out)
    first = first_unique(ds.y_train, 16)
    sample_grid_figure(ds.x_train[first], [f"{ds.y_train[i]}" for i in first], out / "samples.png",
                       title="First 16 training samples with distinct labels")
    train, test = class_stats(ds.y_train, ds.classes), class_stats(ds.y_test, ds.classes)
    class_histogram_figure(train, out / "histogram.png",
                           f"Training samples per class: mean {train['mean']:.0f}, std {train['std']:.0f}")
    score, measure = hardness(ds, _digits_for(ds, mnist))
    hard = np.argsort(-score, kind="stable")[:n_hard]
    sample_grid_figure(ds.x_test[hard], [f"{ds.y_test[i]} ({score[i]:.2f})" for i in hard], out / "hard.png",
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

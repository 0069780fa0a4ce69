"""Multi-MNIST datasets: generate them from MNIST digits, write them to files, load and check them.

A dataset is a pure function of (digit source, generator config, seed): the same three give the same
bytes. Train images use only MNIST train digits and test images only MNIST test digits, and every image
records the indices of its two source digits (`src`) and their intensities.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from multimnist import __version__
from multimnist.data.compose import BLENDS, compose, split_label
from multimnist.data.mnist import Digits
from multimnist.data.plans import load_plan, plan_stats, scale_plan
from multimnist.errors import UserError
from multimnist.files import write_json, write_npz

import numpy as np

HEIGHT, WIDTH = 28, 39
FLAT = HEIGHT * WIDTH  # 1092


@dataclass
class GeneratorConfig:
    """How to draw a Multi-MNIST dataset. Defaults reproduce the study's data (see docs/calibration.md)."""

    plan: str = "study"  # "study", "balanced" or a YAML/JSON file of {label: train count}
    classes: tuple[int, ...] | None = None  # None: the plan's classes (1..50 for the study)
    train_size: int | None = None  # None: the plan's total (83,550 for the study); else scaled to this
    test_fraction: float = 0.2  # test images per train image, same class proportions
    intensity: tuple[float, float] = (0.05, 1.0)  # each digit's brightness, uniform in this range (calibrated)
    blend: str = "max"  # how overlapping pixels combine: max, sum (clipped) or alpha (see compose)
    offset: int = 11  # columns between the two digits' left edges; 28 - offset columns overlap

    def __post_init__(self):
        if self.classes is not None:
            self.classes = tuple(int(c) for c in self.classes)
        self.intensity = tuple(float(v) for v in self.intensity)
        lo, hi = self.intensity
        if not 0.0 < lo <= hi <= 1.0:
            raise UserError(f"intensity range must satisfy 0 < low <= high <= 1, got {self.intensity}")
        if self.blend not in BLENDS:
            raise UserError(f"blend must be one of {', '.join(BLENDS)}, got {self.blend!r}")
        if self.offset != 11:
            raise UserError("offset must be 11: the study's images are 28x39 (17 overlapping columns)")
        if not 0.0 < self.test_fraction <= 1.0:
            raise UserError(f"test fraction must be in (0, 1], got {self.test_fraction}")
        if self.train_size is not None and self.train_size < 1:
            raise UserError(f"train size must be positive, got {self.train_size}")


@dataclass
class Dataset:
    """Images (N, 28, 39) as uint8 0..255 or float32 0..1, integer labels, and what made them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    src_train: np.ndarray | None = None  # (N, 2) indices of the tens and units digits in MNIST train
    src_test: np.ndarray | None = None  # (N, 2) indices in MNIST test
    intensity_train: np.ndarray | None = None  # (N, 2) brightness of each digit
    intensity_test: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


def make_dataset(digits: Digits, config: GeneratorConfig | None = None, seed: int = 0) -> Dataset:
    """Draw train and test sets from `digits` following `config`; deterministic in `seed`."""
    config = config or GeneratorConfig()
    plan = load_plan(config.plan, config.classes)
    if config.train_size is not None:
        plan = scale_plan(plan, config.train_size)
    test_plan = scale_plan(plan, max(len(plan), round(sum(plan.values()) * config.test_fraction)))
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    x_tr, y_tr, src_tr, int_tr = _draw(digits.x_train, digits.y_train, plan, config, train_rng)
    x_te, y_te, src_te, int_te = _draw(digits.x_test, digits.y_test, test_plan, config, test_rng)
    meta = {
        "generator": asdict(config),
        "seed": seed,
        "classes": list(plan),
        "train": plan_stats(plan),
        "test": plan_stats(test_plan),
        "mnist": {"source": digits.source, "sha256": digits.sha256},
        "multimnist_version": __version__,
    }
    return Dataset(x_tr, y_tr, x_te, y_te, tuple(plan), src_tr, src_te, int_tr, int_te, meta)


def _draw(x_digits, y_digits, plan, config, rng, chunk=8192):
    labels = np.repeat(np.array(list(plan), dtype=np.int64), list(plan.values()))
    labels = labels[rng.permutation(len(labels))]
    src = np.empty((len(labels), 2), dtype=np.int64)
    pools = [np.flatnonzero(y_digits == d) for d in range(10)]
    for col, digit_of in enumerate(split_label(labels)):
        for d in range(10):
            where = np.flatnonzero(digit_of == d)
            src[where, col] = pools[d][rng.integers(len(pools[d]), size=len(where))]
    intensity = rng.uniform(*config.intensity, size=(len(labels), 2)).astype(np.float32)
    x = np.empty((len(labels), HEIGHT, WIDTH), dtype=np.uint8)
    for s in range(0, len(labels), chunk):
        sl = slice(s, s + chunk)
        x[sl] = compose(
            x_digits[src[sl, 0]], x_digits[src[sl, 1]], intensity[sl, 0], intensity[sl, 1],
            blend=config.blend, offset=config.offset,
        )
    return x, labels, src, intensity


def save_dataset(ds: Dataset, out: str | Path) -> Path:
    """Write train.npz, test.npz and meta.json (last, so its presence marks a complete dataset)."""
    out = Path(out)
    for split in ("train", "test"):
        arrays = {"x": getattr(ds, f"x_{split}"), "y": getattr(ds, f"y_{split}")}
        for name in ("src", "intensity"):
            if getattr(ds, f"{name}_{split}") is not None:
                arrays[name] = getattr(ds, f"{name}_{split}")
        write_npz(out / f"{split}.npz", **arrays)
    write_json(out / "meta.json", ds.meta)
    return out


def load_dataset(path: str | Path) -> Dataset:
    """Load and check a dataset: a folder with train.npz and test.npz (as `data make` writes, or a user's own
    with x/y arrays), or one .npz with x_train, y_train, x_test, y_test.

    Images may be (N, 28, 39) or flattened (N, 1092), uint8 0..255 or float in [0, 1]; labels are integers
    0..99. Every problem raises UserError naming the file and what is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"dataset not found: {path}")
    meta = {}
    if path.is_dir():
        splits = {s: _read_npz(path / f"{s}.npz", "") for s in ("train", "test")}
        if (path / "meta.json").is_file():
            try:
                meta = json.loads((path / "meta.json").read_text())
            except ValueError as e:
                raise UserError(f"{path / 'meta.json'} is not valid JSON: {e}") from None
    else:
        both = _read_npz(path, "_train") | {k + "@test": v for k, v in _read_npz(path, "_test").items()}
        splits = {"train": {k: v for k, v in both.items() if "@" not in k},
                  "test": {k[:-5]: v for k, v in both.items() if k.endswith("@test")}}
    checked = {s: _check_split(a, f"{path} [{s}]") for s, a in splits.items()}
    classes = tuple(meta.get("classes") or np.unique(checked["train"]["y"]).tolist())
    for split, arrays in checked.items():
        unknown = sorted(set(np.unique(arrays["y"]).tolist()) - set(classes))
        if unknown:
            raise UserError(f"{path} [{split}]: labels {unknown[:10]} are not among the training classes")
    if checked["train"]["x"].dtype != checked["test"]["x"].dtype:
        raise UserError(f"{path}: train images are {checked['train']['x'].dtype}, test {checked['test']['x'].dtype}")
    tr, te = checked["train"], checked["test"]
    return Dataset(tr["x"], tr["y"], te["x"], te["y"], classes, tr.get("src"), te.get("src"),
                   tr.get("intensity"), te.get("intensity"), meta)


def _read_npz(path: Path, suffix: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise UserError(f"missing dataset file {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k[: len(k) - len(suffix)] if suffix else k: f[k] for k in f.files if k.endswith(suffix)}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(f"cannot read {path}: {str(e).splitlines()[0]}") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise UserError(f"{path} has no '{key}{suffix}' array")
    return arrays


def _check_split(arrays: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    x, y = arrays["x"], arrays["y"]
    if x.ndim == 2 and x.shape[1] == FLAT:
        x = x.reshape(-1, HEIGHT, WIDTH)  # (N, 1092) -> (N, 28, 39)
    if x.ndim != 3 or x.shape[1:] != (HEIGHT, WIDTH):
        raise UserError(f"{where}: images have shape {x.shape}, expected (N, 28, 39) or (N, 1092)")
    if len(x) == 0:
        raise UserError(f"{where}: no images")
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            raise UserError(f"{where}: images hold NaN or infinite values")
        if x.min() < 0.0 or x.max() > 1.0:
            raise UserError(f"{where}: float images must lie in [0, 1], found {x.min():.3g}..{x.max():.3g}")
        x = x.astype(np.float32)
    elif x.dtype != np.uint8:
        raise UserError(f"{where}: images must be uint8 (0..255) or float in [0, 1], got {x.dtype}")
    if y.ndim != 1 or len(y) != len(x):
        raise UserError(f"{where}: labels have shape {y.shape}, expected ({len(x)},) to match the images")
    if np.issubdtype(y.dtype, np.floating) and np.isfinite(y).all() and (y == np.round(y)).all():
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{where}: labels must be integers, got {y.dtype}")
    if y.min() < 0 or y.max() > 99:
        raise UserError(f"{where}: labels must lie in 0..99 (two digits), found {y.min()}..{y.max()}")
    out = {"x": x, "y": y.astype(np.int64)}
    for name in ("src", "intensity"):
        if name in arrays and arrays[name].shape == (len(x), 2):
            out[name] = arrays[name]
    return out

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

from multimnist._version import __version__
from multimnist.data.compose import BLENDS, compose, split_label
from multimnist.data.mnist import Digits
from multimnist.data.plans import load_plan, plan_stats, scale_plan
from multimnist.errors import UserError
from multimnist.files import write_json, write_npz

import numpy as np

HEIGHT, WIDTH = 28, 39
FLAT = HEIGHT * WIDTH  # 1092
MAX_JITTER = 4  # MNIST digits sit in a 20x20 box centred in 28x28: 4 empty rows above and below
INTENSITY_MODES = ("independent", "shared")
MIN_POOL = 100  # the first 100 MNIST training digits hold every class (the first 10 do not)


@dataclass
class GeneratorConfig:
    """How to draw a Multi-MNIST dataset. Defaults reproduce the study's data (see docs/calibration.md)."""

    plan: str = "study"  # "study", "balanced" or a YAML/JSON file of {label: train count}
    classes: tuple[int, ...] | None = None  # None: the plan's classes (1..50 for the study)
    train_size: int | None = None  # None: the plan's total (83,550 for the study); else scaled to this
    test_fraction: float = 0.2  # test images per train image, same class proportions
    intensity: tuple[float, float] = (0.05, 1.0)  # each digit's brightness, uniform in this range (calibrated)
    blend: str = "max"  # how overlapping pixels combine: max, sum (clipped) or alpha (see compose)
    offset: int = 11  # columns between the two digits' left edges; 28 - offset columns overlap (fixes the width)
    offset_min: int | None = None  # if set, each image's right digit starts at a column drawn in offset_min..offset
    jitter: int = 0  # each digit moves up or down by a whole number of rows drawn in -jitter..jitter
    intensity_mode: str = "independent"  # "independent": each digit draws its own; "shared": one per image
    train_pool: int | None = None  # train images draw only from the first N MNIST training digits (None: all)
    train_distinct: int | None = None  # the training split holds only ~N distinct images, the rest exact repeats
    preset: str | None = None  # the named preset these settings came from (data/presets.py); a label only

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
        if self.offset_min is not None and not 0 <= self.offset_min <= self.offset:
            raise UserError(f"offset_min must lie in 0..{self.offset}, got {self.offset_min}")
        if not 0 <= self.jitter <= MAX_JITTER:
            raise UserError(f"jitter must lie in 0..{MAX_JITTER} rows (MNIST's empty margin), got {self.jitter}")
        if self.intensity_mode not in INTENSITY_MODES:
            raise UserError(f"intensity_mode must be one of {', '.join(INTENSITY_MODES)}, got {self.intensity_mode!r}")
        if self.train_pool is not None and not MIN_POOL <= self.train_pool:
            raise UserError(f"train_pool must be at least {MIN_POOL} digits (or unset for all), got {self.train_pool}")
        if self.train_distinct is not None and self.train_distinct < 1:
            raise UserError(f"train_distinct must be positive (or unset), got {self.train_distinct}")
        if not 0.0 < self.test_fraction <= 1.0:
            raise UserError(f"test fraction must be in (0, 1], got {self.test_fraction}")
        if self.train_size is not None and self.train_size < 1:
            raise UserError(f"train size must be positive, got {self.train_size}")


@dataclass(repr=False)
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
    placement_train: np.ndarray | None = None  # (N, 3) right digit's column, row shifts; only if drawn per image
    placement_test: np.ndarray | None = None

    def __repr__(self) -> str:
        """A few lines of counts and settings instead of the arrays (a printed dataset fits on a screen)."""
        shape = "x".join(str(d) for d in self.x_train.shape[1:])
        lines = [f"Dataset: {len(self.x_train):,} train and {len(self.x_test):,} test images, "
                 f"{shape} {self.x_train.dtype}",
                 f"    classes: {len(self.classes)} ({_span(self.classes)})"]
        generator = self.meta.get("generator")
        if generator is not None:
            settings = ", ".join(f"{k}={v}" for k, v in generator.items() if v is not None)
            lines.append(f"    made with seed {self.meta.get('seed')}: {settings}")
        if "mnist" in self.meta:
            lines.append(f"    MNIST: {self.meta['mnist'].get('source')}")
        return "\n".join(lines)


def _span(classes) -> str:
    """(1, 2, ..., 50) -> '1..50'; a set with holes is listed, shortened when long."""
    classes = list(classes)
    if not classes:
        return "none"
    if classes == list(range(classes[0], classes[-1] + 1)):
        return f"{classes[0]}..{classes[-1]}"
    return ", ".join(str(c) for c in classes[:8]) + (", ..." if len(classes) > 8 else "")


def make_dataset(digits: Digits, config: GeneratorConfig | None = None, seed: int = 0) -> Dataset:
    """Draw train and test sets from `digits` following `config`; deterministic in `seed`."""
    config = config or GeneratorConfig()
    plan = load_plan(config.plan, config.classes)
    if config.train_size is not None:
        plan = scale_plan(plan, config.train_size)
    test_plan = scale_plan(plan, max(len(plan), round(sum(plan.values()) * config.test_fraction)))
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    pool = len(digits.x_train) if config.train_pool is None else min(config.train_pool, len(digits.x_train))
    x_tr, y_tr, src_tr, int_tr, place_tr = _draw(digits.x_train[:pool], digits.y_train[:pool], plan, config,
                                                 train_rng, distinct=config.train_distinct)
    x_te, y_te, src_te, int_te, place_te = _draw(digits.x_test, digits.y_test, test_plan, config, test_rng)
    meta = {
        "generator": asdict(config),
        "preset": _preset_name(config),
        "seed": seed,
        "classes": list(plan),
        "train": plan_stats(plan),
        "test": plan_stats(test_plan),
        "mnist": {"source": digits.source, "sha256": digits.sha256},
        "multimnist_version": __version__,
    }
    return Dataset(x_tr, y_tr, x_te, y_te, tuple(plan), src_tr, src_te, int_tr, int_te, meta,
                   place_tr, place_te)


def _preset_name(config: GeneratorConfig) -> str | None:
    from multimnist.data.presets import matching_preset  # presets builds on this module

    return matching_preset(config)


def _draw(x_digits, y_digits, plan, config, rng, distinct=None, chunk=8192):
    """Labels, source digits, intensities and (when a placement knob is on) placements, then the images.

    Draws happen in a fixed order and a knob left at its default draws nothing, so the default settings give
    the same bytes as before the knobs existed.
    """
    labels = np.repeat(np.array(list(plan), dtype=np.int64), list(plan.values()))
    labels = labels[rng.permutation(len(labels))]
    n = len(labels)
    src = np.empty((n, 2), dtype=np.int64)
    pools = [np.flatnonzero(y_digits == d) for d in range(10)]
    for col, digit_of in enumerate(split_label(labels)):
        for d in range(10):
            where = np.flatnonzero(digit_of == d)
            src[where, col] = pools[d][rng.integers(len(pools[d]), size=len(where))]
    if config.intensity_mode == "shared":
        intensity = np.repeat(rng.uniform(*config.intensity, size=(n, 1)), 2, axis=1).astype(np.float32)
    else:
        intensity = rng.uniform(*config.intensity, size=(n, 2)).astype(np.float32)
    placement = None  # (N, 3): the right digit's column, the left and right digits' row shifts
    if config.offset_min is not None or config.jitter:
        placement = np.empty((n, 3), dtype=np.int64)
        low = config.offset if config.offset_min is None else config.offset_min
        placement[:, 0] = rng.integers(low, config.offset + 1, size=n)
        placement[:, 1:] = rng.integers(-config.jitter, config.jitter + 1, size=(n, 2))
    if distinct is not None and distinct < n:
        _repeat_within_classes(labels, distinct, rng, src, intensity, placement)
    x = np.empty((n, HEIGHT, WIDTH), dtype=np.uint8)
    for s in range(0, n, chunk):
        sl = slice(s, s + chunk)
        offset = config.offset if placement is None else placement[sl, 0]
        shift = None if placement is None else placement[sl, 1:]
        x[sl] = compose(
            x_digits[src[sl, 0]], x_digits[src[sl, 1]], intensity[sl, 0], intensity[sl, 1],
            blend=config.blend, offset=offset, width=WIDTH, shift=shift,
        )
    return x, labels, src, intensity, placement


def _repeat_within_classes(labels, distinct, rng, *draws) -> None:
    """Keep ~`distinct` distinct compositions, each class its share (at least one): every other image of a
    class becomes an exact copy (same sources, intensities, placement) of one of its class's kept ones."""
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        keep = max(1, round(len(where) * distinct / len(labels)))
        copies, originals = where[keep:], where[rng.integers(keep, size=len(where) - keep)]
        for arr in draws:
            if arr is not None:
                arr[copies] = arr[originals]


def save_dataset(ds: Dataset, out: str | Path) -> Path:
    """Write train.npz, test.npz and meta.json (last, so its presence marks a complete dataset)."""
    out = Path(out)
    for split in ("train", "test"):
        arrays = {"x": getattr(ds, f"x_{split}"), "y": getattr(ds, f"y_{split}")}
        for name in ("src", "intensity", "placement"):
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
                   tr.get("intensity"), te.get("intensity"), meta, tr.get("placement"), te.get("placement"))


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
    for name, cols in (("src", 2), ("intensity", 2), ("placement", 3)):
        if name in arrays and arrays[name].shape == (len(x), cols):
            out[name] = arrays[name]
    return out

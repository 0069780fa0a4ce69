"""Multi-MNIST dataset files: write them, load them and check what they hold.

A dataset folder holds train.npz and test.npz (x, y and what made each image: src, intensity, placement)
and meta.json, written last so that its presence marks a complete dataset (file names in `multimnist.layout`).
Loading checks shapes, dtypes and label ranges and names the file and the problem in one UserError; a user's
own folder (x/y arrays, no meta.json) or one .npz loads too. Drawing lives in `data/generate.py`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from multimnist.data.config import FLAT, HEIGHT, LABELS, WIDTH
from multimnist.data.generate import Dataset
from multimnist.errors import UserError
from multimnist.files import write_json, write_npz
from multimnist.layout import DATA_META, DATA_SPLITS

import numpy as np


def save_dataset(ds: Dataset, out: str | Path) -> Path:
    """Write train.npz, test.npz and meta.json (last, so its presence marks a complete dataset)."""
    out = Path(out)
    for split in DATA_SPLITS:
        arrays = {"x": getattr(ds, f"x_{split}"), "y": getattr(ds, f"y_{split}")}
        for name in ("src", "intensity", "placement"):
            if getattr(ds, f"{name}_{split}") is not None:
                arrays[name] = getattr(ds, f"{name}_{split}")
        write_npz(out / DATA_SPLITS[split], **arrays)
    write_json(out / DATA_META, ds.meta)
    return out


def load_dataset(path: str | Path) -> Dataset:
    """Load and check a dataset: a folder with train.npz and test.npz (as `data make` writes, or a user's own
    with x/y arrays), or one .npz with x_train, y_train, x_test, y_test.

    Images may be (N, 28, 39) or flattened (N, 1092), uint8 0..255 or float in [0, 1]; labels are the class
    numbers 0..99 (meta.json's "labels": "number"), not class indices: own files with labels 0..49 and no
    meta.json saying so are refused as indices. Every problem raises UserError naming the file and what is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"dataset not found: {path}")
    meta = {}
    if path.is_dir():
        splits = {s: _read_npz(path / name, "") for s, name in DATA_SPLITS.items()}
        if (path / DATA_META).is_file():
            try:
                meta = json.loads((path / DATA_META).read_text())
            except ValueError as e:
                raise UserError(f"{path / DATA_META} is not valid JSON: {e}") from None
    else:
        both = _read_npz(path, "_train") | {k + "@test": v for k, v in _read_npz(path, "_test").items()}
        splits = {"train": {k: v for k, v in both.items() if "@" not in k},
                  "test": {k[:-5]: v for k, v in both.items() if k.endswith("@test")}}
    checked = {s: _check_split(a, f"{path} [{s}]") for s, a in splits.items()}
    _check_label_convention(path, meta, np.concatenate([checked["train"]["y"], checked["test"]["y"]]))
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


def _check_label_convention(path: Path, meta: dict, y: np.ndarray) -> None:
    """Files hold class numbers. Refuse another recorded convention, and unrecorded labels that are exactly 0..49:
    what load_data() returns, class indices, which would be read as the numbers one below (an export's "00".."49")."""
    recorded = meta.get("labels", LABELS if "generator" in meta else None)  # data make before 0.2.1: numbers
    if recorded not in (None, LABELS):
        raise UserError(f"{path / 'meta.json'}: labels {recorded!r}; dataset files hold the class numbers "
                        f"({LABELS!r}, e.g. 1..50): convert them (index i is class_names()[i]) and record {LABELS!r}")
    if recorded is None and np.array_equal(np.unique(y), np.arange(50)):
        raise UserError(f"{path}: labels 0..49 look like class indices (load_data()'s); files hold the class "
                        "numbers 1..50: save y + 1 (or load_data(labels='number')), or, if 0.. are the numbers you "
                        "mean, add meta.json with {\"labels\": \"number\"} beside train.npz")


# The least a dataset needs to be trained on: two classes (a classifier tells classes apart; one class makes a
# 1-way softmax that learns nothing) and ten training images (the 20% validation split then holds two: with fewer
# it may hold one or none, and the validation curves, early stopping and intervals have nothing to stand on). A class
# may have a single image, as the study's own plan has at small sizes: it is one class among the others.
MIN_CLASSES = 2
MIN_TRAIN = 10
NPY_MAGIC = b"\x93NUMPY"  # the first bytes of one array saved by np.save
ZIP_MAGIC = b"PK\x03\x04"  # of a zip archive (an .npz)


def check_dataset_files(path: str | Path) -> Path:
    """Check a dataset path without reading its images, in a fraction of a second: it exists, and each file is an
    .npz archive holding the arrays `load_dataset` reads. The CLI runs this before it imports Keras, JAX or
    matplotlib, so that a wrong file is one line at once; `load_dataset` checks the contents."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"dataset not found: {path}")
    if path.is_dir():
        missing = [name for name in DATA_SPLITS.values() if not (path / name).is_file()]
        if missing:
            raise UserError(f"missing dataset file {path / missing[0]}: a dataset folder holds train.npz and "
                            "test.npz (or give one .npz with x_train, y_train, x_test, y_test)")
        for name in DATA_SPLITS.values():
            _npz_keys(path / name, "")
    else:
        _npz_keys(path, "_train")
        _npz_keys(path, "_test")
    return path


def check_training_files(path: str | Path) -> Path:
    """`check_dataset_files`, then the training labels alone (not the images): enough classes and images to train
    on (MIN_CLASSES, MIN_TRAIN). For the commands that train."""
    path = check_dataset_files(path)
    check_trainable(read_labels(path)["train"], str(path))
    return path


def read_labels(path: Path) -> dict[str, np.ndarray]:
    """The labels of each split of a dataset `check_dataset_files` passed, reading no image: {"train": y, ...}."""
    labels = {}
    for split, name in DATA_SPLITS.items():
        file, key = (path / name, "y") if path.is_dir() else (path, f"y_{split}")
        try:
            with np.load(file, allow_pickle=False) as f:
                labels[split] = f[key]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise UserError(f"cannot read {file}: {str(e).splitlines()[0]}") from None
    return labels


def check_trainable(y_train: np.ndarray, where: str) -> None:
    """Refuse training labels too few to train on, stating the minimum (MIN_CLASSES, MIN_TRAIN)."""
    if y_train.ndim != 1:
        return  # a shape problem: load_dataset names it
    n_classes = len(np.unique(y_train))
    if n_classes < MIN_CLASSES or len(y_train) < MIN_TRAIN:
        raise UserError(f"{where}: {len(y_train)} training image{'s' * (len(y_train) != 1)} of {n_classes} "
                        f"class{'es' * (n_classes != 1)}; training needs at least {MIN_CLASSES} classes and "
                        f"{MIN_TRAIN} training images (the 20% validation split then holds 2)")


def _npz_keys(path: Path, suffix: str) -> list[str]:
    """The array names of an .npz file (x, y, ... with `suffix` taken off), refusing what is not one."""
    if not path.is_file():
        raise UserError(f"missing dataset file {path}")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            start = f.read(len(NPY_MAGIC))
        if start.startswith(ZIP_MAGIC):
            raise UserError(f"cannot read {path}: a damaged .npz archive (cut short?)")
        one_array = start == NPY_MAGIC
        what = "it holds one array, as np.save writes" if one_array else "np.savez's zip of arrays"
        raise UserError(f"{path} is not an .npz archive ({what}): save x and y with np.savez for each split, or "
                        "x_train, y_train, x_test, y_test in one .npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = [k[: len(k) - len(suffix)] if suffix else k for k in f.files if k.endswith(suffix)]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(f"cannot read {path}: {str(e).splitlines()[0]}") from None
    for key in ("x", "y"):
        if key not in keys:
            raise UserError(f"{path} has no '{key}{suffix}' array")
    return keys


def _read_npz(path: Path, suffix: str) -> dict[str, np.ndarray]:
    _npz_keys(path, suffix)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k[: len(k) - len(suffix)] if suffix else k: f[k] for k in f.files if k.endswith(suffix)}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(f"cannot read {path}: {str(e).splitlines()[0]}") from None
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

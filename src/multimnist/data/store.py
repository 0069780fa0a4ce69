"""The dataset store: `ensure_dataset` makes a folder hold the dataset of given settings and seed, generating
it only when it is not already there.

Every place that needs "this dataset, in this folder" goes through it: `data make`, the study's and the
calibration's data steps, the reader's data, `load_data`'s cache and `MultiMNIST`.

- Concurrency: processes asking for the same folder take turns on a lock beside it (`.NAME.dataset.lock`,
  `files.lock_folder`): the first generates, the others wait, then find the dataset there and read it.
- Checks: a dataset already there is checked against its meta.json, which records each split's image count
  and (since 0.2) the SHA-256 of the arrays. One that differs (a truncated train.npz, another dataset's files
  copied in) or cannot be read is generated again, with a warning, when its meta.json holds the settings
  asked for; a dataset of other settings is refused unless the caller replaces it (`data make --force`, the
  cache) or keeps whatever is there (`MultiMNIST` reads the folder it is given).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import NamedTuple

from multimnist.data.config import GeneratorConfig, matching_preset
from multimnist.data.dataset import load_dataset, save_dataset
from multimnist.data.generate import Dataset, make_dataset
from multimnist.data.mnist import Digits, load_mnist
from multimnist.errors import UserError
from multimnist.files import lock_folder, sha256_arrays
from multimnist.layout import DATA_META, DATA_SPLITS

import numpy as np

log = logging.getLogger(__name__)

STORE_LOCK = "dataset.lock"  # the lock file's suffix: .NAME.dataset.lock beside the folder


class _Again(NamedTuple):
    """Why a folder's dataset is generated again: damaged (a warning) or replaced on purpose (`replace`)."""

    reason: str
    damaged: bool


class Stored(NamedTuple):
    """What `ensure_dataset` found or made: the dataset as read from its folder, and whether it was generated."""

    dataset: Dataset
    made: bool


def ensure_dataset(folder: str | Path, config: GeneratorConfig, seed: int = 0,
                   mnist: str | Path | Digits | None = None, replace: bool = False,
                   keep_other: bool = False) -> Stored:
    """The dataset of (`config`, `seed`, `mnist`) in `folder`: generated unless already there, checked.

    `mnist` is the digit source (None: the vendored MNIST). A folder holding something else (a dataset of other
    settings, train.npz/test.npz without meta.json, a meta.json not written by multimnist) is a UserError,
    unless `replace` (generate over it) or `keep_other` (read what is there, as `MultiMNIST` does with a folder
    of the user's own files; only half a dataset is still refused).
    """
    folder = Path(folder)
    found = _found(folder, config, seed, mnist, replace, keep_other)
    if isinstance(found, Dataset):  # a complete dataset is read without the lock (a read-only folder works)
        return Stored(found, made=False)
    label = f"multimnist dataset (preset {config.preset or 'custom'}, seed {seed})"
    with lock_folder(folder, label, wait=True, name=STORE_LOCK):
        found = _found(folder, config, seed, mnist, replace, keep_other)  # what the lock's last holder left
        if isinstance(found, Dataset):
            return Stored(found, made=False)
        if found is not None:
            (log.warning if found.damaged else log.info)("%s: %s; generating it again", folder, found.reason)
        digits = mnist if isinstance(mnist, Digits) else load_mnist(mnist)
        log.debug("generator settings: %s", ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(config).items()))
        log.debug("MNIST digits: %s (sha256 %s), %d training and %d test digits", digits.source, digits.sha256[:16],
                  len(digits.y_train), len(digits.y_test))
        start = time.perf_counter()
        ds = make_dataset(digits, config, seed=seed)
        counts = np.unique(ds.y_train, return_counts=True)[1]
        log.debug("generated in %.1f s: %d classes, %d..%d training images a class", time.perf_counter() - start,
                  len(counts), counts.min(), counts.max())
        log.info("made %d training and %d test images (preset %s, seed %d); writing %s", len(ds.y_train),
                 len(ds.y_test), ds.meta["preset"] or "custom", seed, folder)
        (folder / DATA_META).unlink(missing_ok=True)  # written last: until then the folder is an unfinished dataset
        save_dataset(ds, folder)
        return Stored(load_dataset(folder), made=True)


def _found(folder: Path, config: GeneratorConfig, seed: int, mnist, replace: bool,
           keep_other: bool) -> Dataset | _Again | None:
    """The checked dataset in `folder` if it can be kept; else why it is generated again (None: the folder holds
    no dataset). Raises UserError for what may be neither kept nor replaced."""
    meta_path = folder / DATA_META
    if not meta_path.is_file():
        present = [name for name in DATA_SPLITS.values() if (folder / name).exists()]
        if not present:
            return None
        if replace:
            return _Again("it holds train.npz/test.npz without meta.json (an unfinished dataset)", damaged=False)
        if keep_other and len(present) == len(DATA_SPLITS):
            return load_dataset(folder)  # the user's own files: nothing recorded to check them against
        if keep_other:  # never overwrite half of someone's dataset
            raise UserError(f"{folder} holds {present[0]} but not the other split; complete or remove it")
        raise UserError(f"{folder} holds train.npz/test.npz without meta.json (an unfinished or foreign dataset): "
                        "add --force to replace it, or choose another --out")
    try:
        meta = json.loads(meta_path.read_text())
        recorded = {**meta["generator"], "seed": meta["seed"], "mnist": meta["mnist"]["sha256"],
                    "source": meta["mnist"].get("source")}
    except (OSError, ValueError, KeyError, TypeError):
        if replace:
            return _Again("its meta.json is not one written by multimnist", damaged=True)
        if keep_other:
            return load_dataset(folder)
        raise UserError(f"{meta_path} is not a meta.json written by `data make`: add --force to replace the "
                        "dataset, or choose another --out") from None
    differ = _differences(recorded, config, seed, mnist)
    if differ and replace:
        return _Again(f"it holds a dataset made with other settings ({_shown(differ)})", damaged=False)
    if differ and not keep_other:
        held, asked = meta.get("preset"), matching_preset(config)
        if held is not None and held != asked:  # another preset: say so before the knobs
            now = f"preset {asked!r}" if asked else "custom settings"
            raise UserError(f"this folder holds preset {held!r}, not {now}: {folder} was made with other settings "
                            f"({_shown(differ)}); add --force to replace it, or choose another --out")
        raise UserError(f"{folder} holds a dataset made with other settings ({_shown(differ)}): add --force to "
                        "replace it, or choose another --out")
    try:
        ds = load_dataset(folder)
    except UserError as e:
        if differ:
            raise
        return _Again(str(e), damaged=True)
    problem = recorded_mismatch(ds)
    if problem is None:
        return ds
    if differ:
        raise UserError(f"{folder}: {problem}; the files were changed after they were made: remove the folder "
                        "or make it again with `data make --force`")
    return _Again(problem, damaged=True)


def recipe(meta: dict) -> tuple[GeneratorConfig, int]:
    """The settings and seed a meta.json records, to make the same dataset again elsewhere (a Ray worker).

    A setting this version does not know (the dataset was made by a newer multimnist) is one UserError."""
    try:
        return GeneratorConfig(**meta["generator"]), int(meta["seed"])
    except TypeError as e:
        raise UserError(f"the dataset was made by another multimnist version ({e}): install the same version "
                        "everywhere the dataset is rebuilt") from None
    except (KeyError, ValueError):
        raise UserError("meta.json records no generator settings and seed: the dataset cannot be made again "
                        "from it") from None


def recorded_mismatch(ds: Dataset) -> str | None:
    """What differs between a dataset's arrays and what its meta.json records (image counts, arrays' SHA-256),
    or None. Datasets without a record (a user's own, or made before the hash was recorded) pass what they
    do not record."""
    meta = ds.meta
    for split, y in (("train", ds.y_train), ("test", ds.y_test)):
        stats = meta.get(split)
        recorded = stats.get("total") if isinstance(stats, dict) else None
        if recorded is not None and recorded != len(y):
            return f"{DATA_SPLITS[split]} holds {len(y):,} images, meta.json records {recorded:,}"
    if "sha256" in meta and meta["sha256"] != sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        return "the images or labels differ from those meta.json records (SHA-256)"
    return None


def _differences(recorded: dict, config: GeneratorConfig, seed: int, mnist) -> dict[str, tuple]:
    """Setting -> (recorded, wanted) for each setting that differs; the preset's name is only a label.

    A setting added after the dataset was made counts as its default (every knob defaults to off, as data
    made before the knob existed was drawn). The digits count as the same when both are the vendored MNIST,
    else when their content hashes match (only then is `mnist` loaded).
    """
    wanted = {**_as_json(dataclasses.asdict(config)), "seed": seed}
    defaults = {f.name: _as_json(f.default) for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
    differ = {k: (recorded.get(k, defaults.get(k)), v) for k, v in wanted.items()
              if k != "preset" and recorded.get(k, defaults.get(k)) != v}
    if not (mnist is None and recorded["source"] == "vendored"):
        digits = mnist if isinstance(mnist, Digits) else load_mnist(mnist)
        if digits.sha256 != recorded["mnist"]:
            differ["mnist"] = (recorded["mnist"], digits.sha256)
    return differ


def _as_json(value):
    """As the value reads back from meta.json (tuples as lists)."""
    return json.loads(json.dumps(value, default=list))


def _shown(differ: dict[str, tuple]) -> str:
    """'seed 0 (now 1), blend "max" (now "sum")': the first four differences."""
    return ", ".join(f"{k} {_short(old)} (now {_short(new)})" for k, (old, new) in list(differ.items())[:4])


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 20 else text[:17] + "..."

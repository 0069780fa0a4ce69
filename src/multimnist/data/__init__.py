"""Digit sources, generator settings and presets, drawing, dataset files and their checks, the dataset store,
exports. Needs only the core install.

Imports go one way: config (settings, presets) <- generate (drawing) <- dataset (files, checks) <- store.
`read_dataset(path)` reads a dataset folder or .npz (named so that it does not shadow Hugging Face's
`datasets.load_dataset` in a user's namespace); `load_dataset` is its deprecated old name.
"""

import warnings

from multimnist.data.config import GeneratorConfig, preset_config
from multimnist.data.dataset import load_dataset as read_dataset
from multimnist.data.dataset import save_dataset
from multimnist.data.export import export_dataset
from multimnist.data.generate import Dataset, make_dataset
from multimnist.data.mnist import Digits, load_mnist
from multimnist.data.prepare import Prepared, decode_labels, encode_labels, prepare
from multimnist.data.store import ensure_dataset

__all__ = [
    "Dataset",
    "Digits",
    "GeneratorConfig",
    "Prepared",
    "decode_labels",
    "encode_labels",
    "ensure_dataset",
    "export_dataset",
    "load_mnist",
    "make_dataset",
    "preset_config",
    "prepare",
    "read_dataset",
    "save_dataset",
]


def __getattr__(name: str):
    if name == "load_dataset":  # the name of multimnist <= 0.2.0
        warnings.warn("multimnist.data.load_dataset is now read_dataset (the old name clashes with Hugging Face's "
                      "datasets.load_dataset); load_dataset will be removed in a later release",
                      DeprecationWarning, stacklevel=2)
        return read_dataset
    raise AttributeError(f"module 'multimnist.data' has no attribute {name!r}")

"""Digit sources, two-digit composition, dataset files and their checks, exports. Needs only the core install.

`read_dataset(path)` reads a dataset folder or .npz (named so that it does not shadow Hugging Face's
`datasets.load_dataset` in a user's namespace); `load_dataset` is its deprecated old name.
"""

import warnings

from multimnist.data.dataset import Dataset, GeneratorConfig, make_dataset, save_dataset
from multimnist.data.dataset import load_dataset as read_dataset
from multimnist.data.export import export_dataset
from multimnist.data.mnist import Digits, load_mnist
from multimnist.data.prepare import Prepared, decode_labels, encode_labels, prepare

__all__ = [
    "Dataset",
    "Digits",
    "GeneratorConfig",
    "Prepared",
    "decode_labels",
    "encode_labels",
    "export_dataset",
    "load_mnist",
    "make_dataset",
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

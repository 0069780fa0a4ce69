"""Digit sources, generator settings and presets, drawing, dataset files and their checks, the dataset store,
exports. Needs only the core install.

Imports go one way: config (settings, presets) <- generate (drawing) <- dataset (files, checks) <- store.
"""

from multimnist.data.config import GeneratorConfig, preset_config
from multimnist.data.dataset import load_dataset, save_dataset
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
    "load_dataset",
    "load_mnist",
    "make_dataset",
    "preset_config",
    "prepare",
    "save_dataset",
]

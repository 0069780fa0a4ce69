"""Digit sources, two-digit composition, dataset files and their checks, exports. Needs only the core install."""

from multimnist.data.dataset import Dataset, GeneratorConfig, load_dataset, make_dataset, save_dataset
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
    "load_dataset",
    "load_mnist",
    "make_dataset",
    "prepare",
    "save_dataset",
]

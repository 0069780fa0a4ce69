"""Digit sources, two-digit composition, dataset files and their checks."""

from multimnist.data.dataset import Dataset, GeneratorConfig, load_dataset, make_dataset, save_dataset
from multimnist.data.mnist import Digits, load_mnist
from multimnist.data.prepare import Prepared, decode_labels, encode_labels, prepare

__all__ = [
    "Dataset",
    "Digits",
    "GeneratorConfig",
    "Prepared",
    "decode_labels",
    "encode_labels",
    "load_dataset",
    "load_mnist",
    "make_dataset",
    "prepare",
    "save_dataset",
]

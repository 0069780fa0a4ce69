"""multimnist: the Multi-MNIST study, reproduced offline from one command, and its dataset for any framework.

    (x_train, y_train), (x_test, y_test) = multimnist.load_data()   # like keras.datasets.mnist.load_data()
    names = multimnist.class_names()                                 # index -> "01".."50"
    train = multimnist.MultiMNIST("data/", train=True)               # like torchvision.datasets.MNIST

Importing the package is cheap: the API above loads on first use and needs only numpy, PyYAML and Pillow.
It also selects Keras' JAX backend unless the user already chose one (`backend.select_backend`; Keras is never
imported here), before any of its modules can load Keras.
"""

from typing import TYPE_CHECKING

from multimnist._version import __version__
from multimnist.backend import select_backend

select_backend()

if TYPE_CHECKING:  # for editors and type checkers; at run time they load on first use (__getattr__ below)
    from multimnist.datasets import MultiMNIST, class_names, load_data

__all__ = ["MultiMNIST", "__version__", "class_names", "load_data"]

_API = {"load_data", "class_names", "MultiMNIST"}


def __getattr__(name: str):
    # Deferred so that `import multimnist` (and every CLI start) does not pay for numpy and the data layer.
    if name in _API:
        from multimnist import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'multimnist' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _API)

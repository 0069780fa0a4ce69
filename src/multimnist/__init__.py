"""multimnist: the Multi-MNIST study, reproduced offline from one command.

Importing the package selects Keras' JAX backend unless the user already chose one.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"

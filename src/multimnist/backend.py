"""Keras' backend, chosen in one place: JAX, the backend the pack trainer compiles its programs with.

`select_backend` runs at the two entries: the package's import (Python imports `multimnist` before any of its
modules, so every module that imports Keras finds the choice made, with no import for a side effect) and the CLI,
which owns its process and insists on JAX. `require_jax` is where training starts: a Keras already loaded with
another backend (a user's own choice in their process) ends in one line instead of an error deep in a program.
"""

from __future__ import annotations

import os
import sys

from multimnist.errors import UserError

BACKEND = "jax"


def select_backend(force: bool = False) -> str:
    """Make JAX Keras' backend for this process, unless the user chose another (`force`: JAX even then, for a
    process of ours, the CLI's); returns the backend Keras will use. Call it before Keras loads."""
    if force and "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = BACKEND
    else:
        os.environ.setdefault("KERAS_BACKEND", BACKEND)
    return os.environ["KERAS_BACKEND"]


def require_jax() -> None:
    """Refuse to train on a Keras that runs on another backend than JAX (its programs are compiled with JAX)."""
    import keras

    if keras.backend.backend() != BACKEND:
        raise UserError(f"multimnist trains with Keras' {BACKEND} backend, but Keras runs on "
                        f"{keras.backend.backend()!r} here (KERAS_BACKEND): unset it, or set it to {BACKEND}, "
                        "before Keras is first imported")

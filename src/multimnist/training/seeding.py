"""The one seeding function: Python, NumPy and the Keras backend all follow it."""

from __future__ import annotations


def seed_everything(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(int(seed))

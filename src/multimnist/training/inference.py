"""A trained model's outputs, in large batches and silently."""

from __future__ import annotations

import numpy as np

PREDICT_BATCH = 2048  # inference batch size: fast on CPU, small enough for every model here


def predict(model, x):
    """Inference over `x` in large batches, silently."""
    return model.predict(x, batch_size=PREDICT_BATCH, verbose=0)


def accuracy(model, x, y_onehot) -> float:
    """Share of `x` whose most probable class is the one-hot target's, in inference mode (dropout off)."""
    return float(np.mean(np.asarray(predict(model, x)).argmax(1) == np.asarray(y_onehot).argmax(1)))

"""The digit-pair reader: two 10-way heads and a feature layer; it learns to read 00..99 from tiny data."""

from __future__ import annotations

import json

from multimnist.errors import UserError
from multimnist.experiments.reader import load_reader, load_reader_config, read_images, train_reader
from multimnist.models.reader import ReaderModelConfig, build_reader, feature_model, reading_model

import keras
import numpy as np
import pytest

FAST = ["training.batch_size=200"]  # 1800 training and 200 validation images: whole batches, fewer compilations


def test_two_heads_and_features():
    model = build_reader(ReaderModelConfig(conv=(8,), kernels=(3,), dense=(32,)))
    x = np.random.default_rng(0).random((4, 1092)).astype(np.float32)
    out = model.predict(x)
    assert set(out) == {"tens", "units"} and out["tens"].shape == (4, 10) and out["units"].shape == (4, 10)
    np.testing.assert_allclose(out["units"].sum(axis=1), 1.0, rtol=1e-5)
    assert feature_model(model).predict(x).shape == (4, 32)


def test_a_dense_reader_is_allowed_and_bad_settings_refused():
    assert build_reader(ReaderModelConfig(conv=(), kernels=(), dense=(16,))).get_layer("features").units == 16
    with pytest.raises(UserError, match="kernel sizes"):
        ReaderModelConfig(conv=(8, 16), kernels=(3,))
    with pytest.raises(UserError):
        ReaderModelConfig(dense=())
    with pytest.raises(UserError, match="not a digit-pair reader"):
        feature_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


def test_the_builtin_config():
    cfg = load_reader_config("reader")
    assert cfg.data.train_size == 60000 and cfg.model.dense[-1] == 256
    assert load_reader_config("reader", train_size=500, epochs=2).training.epochs == 2
    with pytest.raises(UserError, match="autoencoder config"):
        load_reader_config({"kind": "autoencoder"})


@pytest.mark.slow
def test_the_reader_learns_above_chance_on_tiny_data(tmp_path):
    out = tmp_path / "reader"
    m = train_reader(out, seed=0, epochs=3, train_size=2000, overrides=FAST)
    assert m["tens_accuracy"] > 0.3 and m["units_accuracy"] > 0.3, m  # chance is 0.1 per digit
    for name in ("config.yaml", "history.csv", "model.keras", "metrics.json", "samples.png", "data/meta.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "data" / "meta.json").read_text())["classes"] == list(range(100))
    assert m["test_images"] == 400 and m["versions"]["keras"]
    assert train_reader(out, seed=0, epochs=3, train_size=2000, overrides=FAST) == m  # finished: reused
    reads = read_images(reading_model(load_reader(out)), np.zeros((3, 1092), np.float32))
    assert reads["features"].shape == (3, 256) and reads["tens"].shape == (3, 10)


def test_loading_an_unfinished_reader_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no finished reader run"):
        load_reader(tmp_path)

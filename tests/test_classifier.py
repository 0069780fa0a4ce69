"""The classifier builder, its regularizers, and the run folder that train_classifier writes (idempotent,
refuses a folder of another config); the trainer's early stopping and resume are tests/test_pack.py's."""

from __future__ import annotations

import json

import multimnist.experiments.classifier as clf
from multimnist.config import read_config
from multimnist.data import read_dataset
from multimnist.errors import UserError
from multimnist.experiments.classifier import SWEEPS, load_classifier_config, train_classifier
from multimnist.models.classifier import ModelConfig, build_classifier, count_params

import keras
import numpy as np
import pytest

RUN_FILES = ("config.yaml", "history.csv", "metrics.json", "model.keras", "loss.png", "accuracy.png",
             "confusion.png", "confusion.csv", "confused_pairs.csv", "per_class.png")


def test_the_study_network_has_96660_parameters():
    model = build_classifier(ModelConfig())
    assert model.count_params() == 96_660 == count_params(ModelConfig())
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [80, 70, 50]


@pytest.mark.parametrize("cfg", [
    ModelConfig(norm="layer", activation="leaky_relu", negative_slope=0.01, input_dropout=0.1, dropout=(0.1, 0.2)),
    ModelConfig(pool=2, hidden=(240, 96), norm="batch", activation="gelu"),
])
def test_count_params_matches_keras(cfg):
    assert build_classifier(cfg).count_params() == count_params(cfg)


def test_every_sweep_setting_fits_the_budget():
    for settings in SWEEPS.values():
        for name, overrides in settings.items():
            cfg = load_classifier_config("unregularized", overrides)
            assert count_params(cfg.model) < 100_000, name
    assert set(SWEEPS) == {"depth", "optimizer", "batch", "activation"}
    depths = [len(load_classifier_config("unregularized", o).model.hidden) for o in SWEEPS["depth"].values()]
    assert depths == [2, 3, 4, 5]


def test_parameter_budget_and_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="over the budget of 100,000"):
        build_classifier(ModelConfig(hidden=(100, 70)))
    assert build_classifier(ModelConfig(hidden=(100, 70), max_params=None)).count_params() > 100_000
    with pytest.raises(UserError, match="activation"):
        ModelConfig(activation="softsign")
    with pytest.raises(UserError, match="2 hidden layers"):
        ModelConfig(dropout=(0.1, 0.1, 0.1))
    with pytest.raises(UserError, match="initializer"):
        ModelConfig(initializer="no_such_init")
    with pytest.raises(UserError, match="unknown setting"):
        load_classifier_config("unregularized", ["model.widths=[3]"])


def test_l1_and_l2_add_their_keras_penalty_to_the_loss():
    x = np.zeros((2, 1092), np.float32)
    for l1, l2 in ((1e-3, 0.0), (0.0, 1e-4)):
        model = build_classifier(ModelConfig(l1=l1, l2=l2))
        model(x)
        kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        expected = sum(l1 * np.abs(k).sum() + l2 * np.square(k).sum() for k in map(np.asarray, kernels))
        assert np.isclose(float(sum(model.losses)), expected, rtol=1e-4) and expected > 0
    plain = build_classifier(ModelConfig())
    plain(x)
    assert not plain.losses


def test_dropout_is_active_only_in_training():
    x = np.random.default_rng(0).uniform(size=(8, 1092)).astype(np.float32)
    model = build_classifier(ModelConfig(dropout=0.3))
    a, b = np.asarray(model(x, training=False)), np.asarray(model(x, training=True))
    assert np.allclose(a, np.asarray(model(x, training=False))) and not np.allclose(a, b)


def test_the_pipeline_packs_one_dropout_rate_at_a_time():
    """The trainer takes dropout rates per network (tests/test_pack.py), but the pipeline keeps the study's rates
    apart, so the committed runs keep their bits (training/pack.py's pack_key says why); everything else of the
    ablations packs."""
    key = {name: clf.CLASSIFIER.key(load_classifier_config(name)) for name in
           ("dropout_0.1", "dropout_0.2", "regularized", "unregularized", "l2_1e-5", "l1_1e-3", "early_stopping")}
    assert key["dropout_0.1"] == key["regularized"] != key["dropout_0.2"]  # early stopping is per network
    assert key["unregularized"] == key["l2_1e-5"] == key["l1_1e-3"] == key["early_stopping"] != key["dropout_0.1"]


@pytest.fixture(scope="module")
def tiny_run(small_dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("clf") / "run"
    metrics = train_classifier("regularized", small_dataset_dir, out, seed=1, epochs=2)
    return out, metrics


@pytest.mark.slow
def test_train_classifier_writes_the_run_folder(tiny_run):
    out, metrics = tiny_run
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    assert not (out / "backup").exists()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics
    assert metrics["name"] == "regularized" and metrics["seed"] == 1 and metrics["n_params"] == 96_660
    assert metrics["epochs_run"] == 2 and 1 <= metrics["best_epoch"] <= 2
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and len(metrics["per_class_accuracy"]) == len(metrics["classes"])
    assert {"keras", "jax", "numpy", "multimnist"} <= set(metrics["versions"])
    assert len(metrics["data"]["sha256"]) == 64
    _, cfg = read_config(out / "config.yaml")
    assert cfg["model"]["dropout"] == 0.1 and cfg["training"]["early_stopping"]["monitor"] == "val_loss"
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert model.count_params() == 96_660
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0].split(",") == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"] and len(rows) == 3


@pytest.mark.slow
def test_a_finished_run_is_returned_as_is(tiny_run, small_dataset_dir):
    out, metrics = tiny_run
    stamp = (out / "model.keras").stat().st_mtime_ns
    again = train_classifier(out / "config.yaml", small_dataset_dir, out, seed=None)
    assert again == metrics and (out / "model.keras").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_a_folder_of_another_config_is_refused(tiny_run, small_dataset_dir):
    out, _ = tiny_run
    with pytest.raises(UserError, match="another config"):
        train_classifier("regularized", small_dataset_dir, out, seed=2, epochs=2)


@pytest.mark.slow
def test_train_accuracy_is_measured_in_inference_mode_with_the_kept_weights(tiny_run, small_dataset_dir):
    out, metrics = tiny_run
    cfg = load_classifier_config(out / "config.yaml", seed=None)
    arrays = clf.classifier_inputs(read_dataset(small_dataset_dir), cfg).arrays
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    for split in ("train", "val"):
        x, y = getattr(arrays, f"x_{split}"), getattr(arrays, f"y_{split}")
        expected = float(np.mean(np.asarray(model.predict(x, verbose=0)).argmax(1) == y.argmax(1)))
        assert metrics[f"{split}_accuracy"] == pytest.approx(expected)
    assert metrics["train_val_gap"] == pytest.approx(metrics["train_accuracy"] - metrics["val_accuracy"])
    history = (out / "history.csv").read_text().splitlines()[metrics["best_epoch"]].split(",")
    assert metrics["train_accuracy_running"] == pytest.approx(float(history[1]))  # Keras' dropout-on average
    assert metrics["schema"] == clf.METRICS_SCHEMA


@pytest.mark.slow
def test_a_run_of_an_older_metrics_schema_is_measured_again_not_retrained(small_dataset_dir, tmp_path):
    out = tmp_path / "run"
    metrics = train_classifier("unregularized", small_dataset_dir, out, seed=0, epochs=1)
    old = {k: v for k, v in metrics.items() if k not in ("schema", "train_accuracy_running")}
    (out / "metrics.json").write_text(json.dumps({**old, "train_accuracy": 0.123}))
    stamp = (out / "model.keras").stat().st_mtime_ns
    again = train_classifier("unregularized", small_dataset_dir, out, seed=0, epochs=1)
    assert again == metrics and json.loads((out / "metrics.json").read_text()) == metrics
    assert (out / "model.keras").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_reproduce_replaces_a_run_of_an_edited_config(tiny_run, small_dataset_dir, tmp_path):
    out = tmp_path / "run"
    train_classifier("unregularized", small_dataset_dir, out, seed=0, epochs=1)
    edited = train_classifier("unregularized", small_dataset_dir, out, seed=0, epochs=2, replace=True)
    assert edited["epochs_run"] == 2 and len((out / "history.csv").read_text().splitlines()) == 3

"""The autoencoder: architecture and latent size, the encoder/decoder split, a tiny training run, the sweep."""

from __future__ import annotations

import json

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset
from multimnist.errors import UserError
from multimnist.experiments.autoencoder import (
    load_autoencoder_config,
    sweep_compression,
    sweep_verdict,
    train_autoencoder,
)
from multimnist.layout import read_history
from multimnist.models.autoencoder import AutoencoderModelConfig, build_autoencoder, latent_size, split
from multimnist.training import pack
from multimnist.training.run import load_model

import keras
import numpy as np
import pytest
import yaml


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    ds = make_dataset(load_mnist(), GeneratorConfig(train_size=300), seed=0)
    return save_dataset(ds, tmp_path_factory.mktemp("ae_data"))


@pytest.fixture(scope="module")
def tiny_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ae_run") / "run"
    return out, train_autoencoder("autoencoder", tiny_data, out, seed=0, epochs=2)


@pytest.mark.parametrize(("cf", "size"), [(20, 54), (21, 52), (25, 43), (30, 36), (1, 1092)])
def test_latent_size_is_floor_of_1092_over_cf(cf, size):
    assert latent_size(cf) == size
    assert AutoencoderModelConfig(compression_factor=cf).latent_size == size


def test_a_direct_latent_size_overrides_the_factor():
    assert AutoencoderModelConfig(compression_factor=20, latent=7).latent_size == 7


def test_the_study_architecture():
    parts = build_autoencoder()
    dense = [layer for layer in parts.encoder.layers + parts.decoder.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [256, 128, 54, 128, 256, 512, 1092]
    leaky = [layer for layer in parts.encoder.layers + parts.decoder.layers
             if isinstance(layer, keras.layers.LeakyReLU)]
    assert len(leaky) == 6 and all(abs(layer.negative_slope - 0.01) < 1e-9 for layer in leaky)
    assert dense[-1].activation.__name__ == "sigmoid"
    widths = [1092, 256, 128, 54, 128, 256, 512, 1092]
    assert parts.autoencoder.count_params() == sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    assert parts.encoder.output_shape == (None, 54) and parts.decoder.input_shape == (None, 54)


def test_encoder_and_decoder_share_the_autoencoders_weights(tmp_path):
    parts = build_autoencoder(AutoencoderModelConfig(compression_factor=30))
    x = np.random.default_rng(0).random((5, 1092)).astype(np.float32)
    whole = parts.autoencoder.predict(x)
    np.testing.assert_allclose(parts.decoder.predict(parts.encoder.predict(x)), whole,
                               rtol=1e-5, atol=1e-6)
    parts.autoencoder.save(tmp_path / "m.keras")
    loaded = split(keras.saving.load_model(tmp_path / "m.keras", safe_mode=True))
    np.testing.assert_allclose(loaded.decoder.predict(loaded.encoder.predict(x)), whole,
                               rtol=1e-5, atol=1e-6)


def test_bad_model_settings_are_user_errors():
    with pytest.raises(UserError):
        AutoencoderModelConfig(compression_factor=0)
    with pytest.raises(UserError):
        AutoencoderModelConfig(latent=0)
    with pytest.raises(UserError):
        AutoencoderModelConfig(compression_factor=None, latent=None)
    with pytest.raises(UserError, match="not an autoencoder"):
        split(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


def test_configs_load_and_refuse_other_kinds():
    cfg = load_autoencoder_config("autoencoder")
    assert cfg.model.latent_size == 54 and cfg.model.loss == "binary_crossentropy"
    assert cfg.training.optimizer == "adam"
    assert load_autoencoder_config("autoencoder", ["model.compression_factor=25"]).model.latent_size == 43
    with pytest.raises(UserError, match="classifier config"):
        load_autoencoder_config({"kind": "classifier"})
    with pytest.raises(UserError, match="unknown setting"):
        load_autoencoder_config({"model": {"widths": [3]}})


@pytest.mark.slow
def test_a_tiny_run_writes_its_folder(tiny_run):
    out, m = tiny_run
    for name in ("config.yaml", "history.csv", "model.keras", "metrics.json", "loss.png", "reconstructions.png",
                 "latent.png", "encodings.npz"):
        assert (out / name).is_file(), name
    assert not (out / "backup").exists()
    h = read_history(out / "history.csv")
    assert {"loss", "mse", "val_loss", "val_mse"} <= set(h) and len(h["mse"]) == 2
    assert m["latent_size"] == 54 and m["epochs_run"] == 2 and m["seed"] == 0
    assert 0 < m["test_mse"] < 0.3 and m["test_bce"] > 0 and m["versions"]["keras"]
    assert 0.0 <= m["latent_values_outside_unit_share"] <= 1.0 and len(m["latent_std"]) == 54
    with np.load(out / "encodings.npz", allow_pickle=False) as f:
        assert f["train"].shape == (240, 54) and f["val"].shape == (60, 54) and f["test"].shape[1] == 54
        assert len(np.intersect1d(f["train_idx"], f["val_idx"])) == 0
    assert split(load_model(out)).encoder.output_shape == (None, 54)


@pytest.mark.slow
def test_a_finished_run_is_reused_and_another_config_refused(tiny_run, tiny_data):
    out, m = tiny_run
    stamp = (out / "model.keras").stat().st_mtime_ns
    assert train_autoencoder("autoencoder", tiny_data, out, seed=0, epochs=2) == m
    assert (out / "model.keras").stat().st_mtime_ns == stamp
    with pytest.raises(UserError, match="another config"):
        train_autoencoder("autoencoder", tiny_data, out, seed=0, epochs=3)


def _stop_after_first_epoch(monkeypatch):
    """Interrupt training as Ctrl-C would, once the first epoch is checkpointed."""
    real = pack._checkpoint

    def checkpoint(*args):
        real(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(pack, "_checkpoint", checkpoint)


@pytest.mark.slow
def test_a_run_folder_from_before_a_config_field_was_added_still_resumes(tiny_data, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _stop_after_first_epoch(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train_autoencoder("autoencoder", tiny_data, out, seed=0, epochs=2)
    monkeypatch.undo()
    first_epoch = (out / "history.csv").read_text().splitlines()[1]
    # As an older version wrote it: without the settings added since (they take their defaults when read).
    saved = yaml.safe_load((out / "config.yaml").read_text())
    del saved["model"]["negative_slope"], saved["training"]["lr_schedule"]
    (out / "config.yaml").write_text(yaml.safe_dump(saved))

    m = train_autoencoder("autoencoder", tiny_data, out, seed=0, epochs=2)
    lines = (out / "history.csv").read_text().splitlines()
    assert m["epochs_run"] == 2 and len(lines) == 3 and lines[1] == first_epoch  # resumed, not restarted
    # A run of another config that never finished an epoch is a failed start: a corrected rerun replaces it.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text(yaml.safe_dump({**saved, "seed": 7}))
    assert train_autoencoder("autoencoder", tiny_data, broken, seed=0, epochs=1)["seed"] == 0


def test_sweep_verdict_reads_the_error_bars():
    def rows(means, stds):
        return [{"factor": f, "latent_size": 1092 // f, "n_seeds": 3, "test_mse_mean": m, "test_mse_std": s}
                for f, m, s in zip((20, 21, 22), means, stds, strict=True)]

    clear = sweep_verdict(rows([0.010, 0.020, 0.015], [0.001, 0.001, 0.001]))
    assert "support 'cf 20 best'" in clear and "support 'not monotone'" in clear and "do not" not in clear
    noisy = sweep_verdict(rows([0.010, 0.011, 0.012], [0.002, 0.002, 0.002]))
    assert "do not support 'cf 20 best'" in noisy and "do not support 'not monotone'" in noisy
    one = [dict(r, n_seeds=1) for r in rows([0.01, 0.02, 0.03], [0, 0, 0])]
    assert "no error bars" in sweep_verdict(one)


@pytest.mark.slow
def test_sweep_writes_table_and_figures(tiny_data, tmp_path):
    rows = sweep_compression([20, 30], tiny_data, tmp_path, seeds=(0,), epochs=1)
    assert [(r["factor"], r["latent_size"], r["n_seeds"]) for r in rows] == [(20, 54, 1), (30, 36, 1)]
    assert all(np.isnan(r["test_mse_std"]) and 0 < r["test_mse_mean"] < 0.3 for r in rows)
    for name in ("sweep.csv", "sweep.md", "verdict.txt", "mse_epochs.png", "mse_factor.png", "sweep.json"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "sweep.csv").read_text().splitlines()[0].startswith("factor,latent_size,n_seeds,test_mse_mean")
    assert "cf 20" in (tmp_path / "verdict.txt").read_text()
    assert json.loads((tmp_path / "cf-30" / "seed-0" / "metrics.json").read_text())["latent_size"] == 36

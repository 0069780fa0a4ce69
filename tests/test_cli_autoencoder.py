"""End to end on tiny data through the CLI: `train autoencoder`, `sweep compression`, `generate`, and the one-line
errors a user can cause (`score` runs end to end in test_generation.py, through the same library call)."""

from __future__ import annotations

import csv
import json

from multimnist.cli import main
from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset

import numpy as np
import pytest


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_ae")
    save_dataset(make_dataset(load_mnist(), GeneratorConfig(train_size=300), seed=0), root / "data")
    assert main(["train", "autoencoder", "--data", str(root / "data"), "--out", str(root / "ae"), "--epochs", "1",
                 "--set", "model.compression_factor=30"]) == 0
    return root


@pytest.mark.slow
def test_train_autoencoder(root, capsys):
    m = json.loads((root / "ae" / "metrics.json").read_text())
    assert m["latent_size"] == 36 and m["epochs_run"] == 1
    for name in ("config.yaml", "history.csv", "model.keras", "loss.png", "reconstructions.png", "latent.png"):
        assert (root / "ae" / name).is_file(), name
    # Rerunning the same command reuses the finished run.
    assert main(["train", "autoencoder", "--data", str(root / "data"), "--out", str(root / "ae"), "--epochs", "1",
                 "--set", "model.compression_factor=30"]) == 0
    assert "test MSE" in capsys.readouterr().out


@pytest.mark.slow
def test_sweep_compression(root, capsys):
    out = root / "sweep"
    # factor 30, as the fixture's run: the same architecture and data shapes reuse its compiled pack programs
    assert main(["sweep", "compression", "--factors", "30..30", "--data", str(root / "data"), "--out", str(out),
                 "--epochs", "1"]) == 0
    with open(out / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["factor"], r["latent_size"], r["n_seeds"]) for r in rows] == [("30", "36", "1")]
    assert (out / "mse_epochs.png").is_file() and (out / "mse_factor.png").is_file()
    assert "no error bars" in capsys.readouterr().out


@pytest.mark.slow
def test_generate(root):
    assert main(["generate", "--model", str(root / "ae"), "--sampler", "full-gaussian", "--n", "8",
                 "--out", str(root / "gen"), "--seed", "1"]) == 0
    with np.load(root / "gen" / "images.npz", allow_pickle=False) as f:
        assert f["images"].shape == (8, 28, 39)
    assert (root / "gen" / "grid.png").is_file()


@pytest.mark.slow
def test_generate_numbers_on_request(root, capsys):
    with np.load(root / "data" / "train.npz", allow_pickle=False) as f:
        common = sorted(np.argsort(-np.bincount(f["y"]))[:3].tolist())  # numbers with codes enough in 300 images
    out = root / "numbers"
    assert main(["generate", "--model", str(root / "ae"), "--sampler", "class-gmm", "--numbers",
                 ",".join(map(str, common)), "--n", "5", "--data", str(root / "data"), "--out", str(out)]) == 0
    assert "5 images of each of 3 numbers" in capsys.readouterr().out
    with np.load(out / "images.npz", allow_pickle=False) as f:
        assert f["images"].shape == (15, 28, 39) and f["numbers"].tolist() == np.repeat(common, 5).tolist()
    assert json.loads((out / "generate.json").read_text())["numbers"] == common
    assert (out / "grid.png").is_file()
    again = root / "numbers-again"
    assert main(["generate", "--model", str(root / "ae"), "--sampler", "class-gmm", "--number", str(common[0]),
                 "--n", "5", "--data", str(root / "data"), "--out", str(again)]) == 0
    with np.load(again / "images.npz", allow_pickle=False) as f:
        assert f["numbers"].tolist() == [common[0]] * 5


@pytest.mark.parametrize(("argv", "message"), [
    (["generate", "--model", "{root}/ae", "--sampler", "gaussian", "--number", "37", "--out", "{root}/x"],
     "sampler gaussian cannot draw a requested number; conditional samplers: class-gmm, class-diffusion"),
    (["generate", "--model", "{root}/ae", "--sampler", "class-gmm", "--numbers", "1..x", "--out", "{root}/x"],
     "cannot read"),
    (["generate", "--model", "{root}/ae", "--sampler", "class-gmm", "--number", "37", "--out", "{root}/x"],
     "needs the number of every code"),
    (["generate", "--model", "{root}/ae", "--sampler", "class-gmm", "--numbers", "1,100", "--out", "{root}/x"],
     "the numbers run from 0 to 99"),
    (["generate", "--model", "{root}/ae", "--sampler", "class-gmm", "--numbers", "5..1", "--out", "{root}/x"],
     "empty range"),
    (["generate", "--model", "{root}/ae", "--sampler", "class-gmm", "--number", "77", "--data", "{root}/data",
      "--out", "{root}/x"], "it cannot draw 77"),
    (["train", "autoencoder", "--data", "{root}/missing", "--out", "{root}/x"], "dataset not found"),
    (["train", "autoencoder", "--config", "unregularized", "--data", "{root}/data", "--out", "{root}/x"],
     "classifier config, not a autoencoder config"),
    (["train", "autoencoder", "--data", "{root}/data", "--out", "{root}/x", "--set", "model.compression_factor=0"],
     "compression factor"),
    (["sweep", "compression", "--factors", "20..x", "--data", "{root}/data", "--out", "{root}/x"], "cannot read"),
    (["generate", "--model", "{root}/data", "--n", "3", "--out", "{root}/x"], "no finished autoencoder"),
    (["generate", "--model", "{root}/ae", "--n", "0", "--out", "{root}/x"], "--n must be a whole number >= 1"),
    (["score", "--model", "{root}/ae", "--reader", "{root}/nothing", "--data", "{root}/data", "--out", "{root}/x",
      "--samplers", "vae"], "unknown sampler"),
    (["score", "--model", "{root}/ae", "--reader", "{root}/nothing", "--data", "{root}/data", "--out", "{root}/x"],
     "no finished reader"),
    (["train", "reader", "--out", "{root}/x", "--train-size", "10"], "at least 100"),
])
@pytest.mark.slow
def test_user_errors_are_one_line(root, capsys, argv, message):
    assert main([a.format(root=root) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (root / "x" / "metrics.json").exists()


@pytest.mark.parametrize("argv", [["generate", "--n", "3"],
                                  ["score", "--reader", "{final}/seed-0", "--data", "{data}"]])
def test_a_folder_of_runs_as_model_names_the_run_inside_it(tmp_path, capsys, argv):
    """A study's autoencoder/final holds seed-0, seed-1, ...: `--model .../final` points at them, before Keras loads."""
    final = tmp_path / "autoencoder" / "final"
    for seed in (0, 1):
        (final / f"seed-{seed}").mkdir(parents=True)
        (final / f"seed-{seed}" / "metrics.json").write_text("{}")
    y = np.repeat([3, 7], 5)
    np.savez(tmp_path / "d.npz", x_train=np.zeros((10, 28, 39), np.uint8), y_train=y,
             x_test=np.zeros((10, 28, 39), np.uint8), y_test=y)
    argv = [a.format(final=final, data=tmp_path / "d.npz") for a in argv]
    assert main([*argv, "--model", str(final), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err == (f"multimnist: error: {final} holds finished runs in its folders (seed-0, seed-1), not one itself: "
                   f"give one of them, e.g. {final / 'seed-0'}\n")
    assert not (tmp_path / "x").exists()

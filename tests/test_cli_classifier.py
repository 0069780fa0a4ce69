"""End to end on tiny data: `train classifier` (one seed and --seeds), `compare` with --pairs, `sweep`, and the
one-line errors a user can cause."""

from __future__ import annotations

import csv
import json
import shutil

from multimnist.cli import main
from multimnist.experiments import classifier as clf
from multimnist.experiments import runs as run_protocol
from multimnist.files import write_json, write_text

import pytest


@pytest.fixture(scope="module")
def runs(small_dataset_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_clf")
    assert main(["train", "classifier", "--config", "unregularized", "--data", str(small_dataset_dir), "--out",
                 str(root / "seeds"), "--seeds", "0,1", "--epochs", "1", "--set", "training.batch_size=128"]) == 0
    # A second config for the tables: a copy of seed 1 under another name (compare only reads the files).
    shutil.copytree(root / "seeds" / "unregularized" / "seed-1", root / "reg")
    metrics = json.loads((root / "reg" / "metrics.json").read_text())
    write_json(root / "reg" / "metrics.json", {**metrics, "name": "regularized"})
    return root


@pytest.mark.slow
def test_train_writes_run_folders(runs):
    for seed in (0, 1):
        run = runs / "seeds" / "unregularized" / f"seed-{seed}"
        for name in ("config.yaml", "history.csv", "metrics.json", "model.keras", "loss.png", "accuracy.png",
                     "confusion.png", "confusion.csv", "confused_pairs.csv", "per_class.png"):
            assert (run / name).is_file(), run / name
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["seed"] == seed and metrics["epochs_run"] == 1
        assert metrics["config"]["training"]["batch_size"] == 128


def test_train_passes_its_options_to_the_library(small_dataset_dir, tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_train(config, data, out, seed, epochs, overrides, **_):
        seen.update(config=config, data=data, out=out, seed=seed, epochs=epochs, overrides=overrides)
        return {"name": "regularized", "seed": seed, "test_accuracy": 0.5, "best_val_accuracy": 0.5, "epochs_run": 3}

    monkeypatch.setattr(clf, "train_classifier", fake_train)
    assert main(["train", "classifier", "--config", "regularized", "--data", str(small_dataset_dir), "--out",
                 str(tmp_path / "r"), "--seed", "4", "--epochs", "3", "--set", "model.dropout=0.2"]) == 0
    assert seen == {"config": "regularized", "data": small_dataset_dir, "out": tmp_path / "r", "seed": 4, "epochs": 3,
                    "overrides": ["model.dropout=0.2"]}
    assert f"wrote {tmp_path / 'r'}" in capsys.readouterr().out


@pytest.mark.slow
def test_compare_tables_mean_and_std_with_the_study_beside(runs, capsys):
    out = runs / "compare"
    assert main(["compare", str(runs / "seeds"), str(runs / "reg"), "--out", str(out),
                 "--pairs", str(runs / "seeds" / "unregularized"), str(runs / "reg")]) == 0
    with open(out / "compare.csv", newline="") as f:
        rows = {r["name"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"unregularized", "regularized"}
    assert rows["unregularized"]["n_seeds"] == "2" and rows["unregularized"]["test_accuracy_std"] != ""
    assert rows["regularized"]["test_accuracy_std"] == ""  # one seed: no std
    assert float(rows["unregularized"]["study_test_accuracy"]) == 0.89
    assert float(rows["regularized"]["study_val_accuracy"]) == 0.93
    md = (out / "compare.md").read_text()
    assert "| unregularized | 2 |" in md and "±" in md and "91.5 / 89.0 / 100.0" in md
    with open(out / "pair_change.csv", newline="") as f:
        pairs = list(csv.DictReader(f))
    assert {("50", "30"), ("19", "17")} <= {(p["true"], p["predicted"]) for p in pairs}
    assert "wrote" in capsys.readouterr().out


def test_sweep_trains_each_setting_and_tables_them(small_dataset_dir, tmp_path, monkeypatch):
    calls = []

    def fake_train(kind, configs, data, out, **_):
        assert kind is clf.CLASSIFIER
        results = []
        for config, folder in zip(configs, out, strict=True):
            cfg = clf.load_classifier_config(config)
            calls.append((cfg.name, cfg.model.activation, cfg.seed))
            metrics = {"name": cfg.name, "seed": cfg.seed, "n_params": 96_660, "epochs_run": 1, "test_accuracy": 0.5,
                       "best_val_accuracy": 0.5, "train_accuracy": 0.6, "train_val_gap": 0.1,
                       "balanced_accuracy": 0.5}
            write_json(f"{folder}/metrics.json", metrics)
            write_text(f"{folder}/confusion.csv", "true\\predicted,1,2\n1,3,1\n2,0,4\n")
            results.append(metrics)
        return results

    monkeypatch.setattr(run_protocol, "train", fake_train)
    out = tmp_path / "sweep"
    assert main(["sweep", "activation", "--data", str(small_dataset_dir), "--out", str(out), "--seeds", "0,1"]) == 0
    assert sorted(calls) == [("activation-leaky_relu", "leaky_relu", 0), ("activation-leaky_relu", "leaky_relu", 1),
                             ("activation-sigmoid", "sigmoid", 0), ("activation-sigmoid", "sigmoid", 1)]
    with open(out / "compare.csv", newline="") as f:
        assert [r["n_seeds"] for r in csv.DictReader(f)] == ["2", "2"]


@pytest.mark.parametrize("argv, message", [
    (["train", "classifier", "--data", "{tmp}/missing", "--out", "{tmp}/r"], "dataset not found"),
    (["train", "classifier", "--config", "nope", "--data", "{data}", "--out", "{tmp}/r"], "no built-in config"),
    (["train", "classifier", "--data", "{data}", "--out", "{tmp}/r", "--set", "model.hidden=[200, 70]"],
     "over the budget"),
    (["train", "classifier", "--data", "{data}", "--out", "{tmp}/r", "--set", "training.optimizer=lbfgs"],
     "optimizer must be one of"),
    (["train", "classifier", "--data", "{data}", "--out", "{tmp}/r", "--set", "model.l1=lots"], "expected a number"),
    (["compare", "{tmp}", "--out", "{tmp}/c"], "no finished run"),
    (["sweep", "depth", "--data", "{data}", "--out", "{tmp}/s", "--jobs", "0"], "--jobs"),
])
def test_user_errors_are_one_line_and_exit_2(argv, message, small_dataset_dir, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, data=small_dataset_dir) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing left behind


def test_seed_and_seeds_are_exclusive(small_dataset_dir, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["train", "classifier", "--data", str(small_dataset_dir), "--out", str(tmp_path), "--seed", "1",
              "--seeds", "0,1"])
    assert e.value.code == 2

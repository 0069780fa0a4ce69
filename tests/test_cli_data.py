"""End-to-end `multimnist data make` + `data inspect` on small plans in tmp_path, and the CLI's user errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from multimnist.cli import main, parse_range
from multimnist.data import read_dataset
from multimnist.errors import UserError

import numpy as np
import pytest


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_make_balanced_then_inspect(tmp_path, capsys):
    data, figures = tmp_path / "data", tmp_path / "figures"
    code, out, err = _run(["data", "make", "--out", str(data), "--plan", "balanced", "--train-size", "500",
                           "--seed", "3"], capsys)
    assert code == 0, err
    assert "train.npz" in out
    ds = read_dataset(data)
    assert np.bincount(ds.y_train, minlength=51)[1:].tolist() == [10] * 50
    assert len(ds.y_test) == 100
    meta = json.loads((data / "meta.json").read_text())
    assert meta["seed"] == 3 and meta["generator"]["plan"] == "balanced"

    code, out, err = _run(["data", "inspect", "--data", str(data), "--out", str(figures)], capsys)
    assert code == 0, err
    assert "50 classes, 500 training images" in out
    assert sorted(p.name for p in figures.iterdir()) == ["hard.png", "histogram.png", "samples.png", "stats.json"]
    stats = json.loads((figures / "stats.json").read_text())
    assert stats["train"]["std"] == 0 and stats["hardness_measure"].startswith("ink overlap")


def test_make_study_plan_with_options(tmp_path, capsys):
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d"), "--train-size", "1000",
                         "--intensity", "0.5", "0.9", "--blend", "sum"], capsys)
    assert code == 0, err
    ds = read_dataset(tmp_path / "d")
    counts = np.bincount(ds.y_train, minlength=51)[1:]
    assert counts.sum() == 1000 and counts.argmin() + 1 == 43 and counts.argmax() + 1 == 11
    assert ds.intensity_train.min() >= 0.5 and ds.intensity_train.max() <= 0.9
    assert ds.meta["generator"]["blend"] == "sum" and ds.meta["generator"]["intensity"] == [0.5, 0.9]


def test_make_hundred_classes_from_user_mnist(tmp_path, capsys, digits):
    np.savez(tmp_path / "mnist.npz", x_train=digits.x_train[:3000], y_train=digits.y_train[:3000],
             x_test=digits.x_test[:1000], y_test=digits.y_test[:1000])
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d"), "--plan", "balanced", "--classes", "0-99",
                         "--train-size", "300", "--mnist", str(tmp_path / "mnist.npz")], capsys)
    assert code == 0, err
    ds = read_dataset(tmp_path / "d")
    assert ds.classes == tuple(range(100)) and ds.src_train.max() < 3000 and ds.src_test.max() < 1000
    assert ds.meta["mnist"]["source"] == str(tmp_path / "mnist.npz")


def test_make_from_plan_file(tmp_path, capsys):
    (tmp_path / "plan.yaml").write_text("counts: {5: 30, 55: 10}\n")
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d"), "--plan", str(tmp_path / "plan.yaml")],
                        capsys)
    assert code == 0, err
    ds = read_dataset(tmp_path / "d")
    assert np.bincount(ds.y_train).tolist()[5::50] == [30, 10] and len(ds.y_test) == 8


def _bad_plan(tmp_path):
    (tmp_path / "plan.yaml").write_text("counts: {5: 30, 123: 10}\n")
    return str(tmp_path / "plan.yaml")


@pytest.mark.parametrize(
    "extra, message",
    [
        (lambda t: ["--mnist", str(t / "no-such-mnist")], "MNIST source not found"),
        (lambda t: ["--plan", _bad_plan(t)], "outside 0..99"),
        (lambda t: ["--plan", str(t / "missing.yaml")], "--plan must be"),
        (lambda t: ["--plan", "balanced", "--classes", "a-z"], "cannot read 'a-z' as a range"),
        (lambda t: ["--classes", "0-99"], "study plan covers classes 1..50"),
        (lambda t: ["--intensity", "0", "2"], "intensity range"),
        (lambda t: ["--train-size", "0"], "--train-size must be a whole number >= 1, got 0"),
        (lambda t: ["--train-size", "20"], "cannot hold 50 classes"),
    ],
    ids=["missing-mnist", "bad-plan", "missing-plan", "bad-classes", "classes-vs-study", "intensity", "size-0",
         "size-too-small"],
)
def test_make_user_errors(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    code, stdout, err = _run(["data", "make", "--out", str(out), *extra(tmp_path)], capsys)
    assert code == 2
    assert err.startswith("multimnist: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (out / "train.npz").exists() and not (out / "meta.json").exists()


@pytest.mark.parametrize(
    "argv, line",
    [
        (["data", "make", "--seed", "-1"], "--seed must be a whole number >= 0, got -1"),
        (["data", "make", "--seed", "1.5"], "--seed must be a whole number >= 0, got '1.5'"),
        (["data", "make", "--train-size", "-5"], "--train-size must be a whole number >= 1, got -5"),
        (["generate", "--model", "m", "--n", "0"], "--n must be a whole number >= 1, got 0"),
        (["train", "classifier", "--epochs", "0", "--data", "d"], "--epochs must be a whole number >= 1, got 0"),
        (["train", "classifier", "--data", "{data}", "--seeds=-1..2"], "--seeds: must be whole numbers >= 0, got -1"),
        (["reproduce", "--jobs", "0"], "--jobs must be a whole number >= 1, got 0"),
    ],
    ids=["seed-negative", "seed-float", "train-size", "n", "epochs", "seeds", "jobs"],
)
def test_bad_numbers_are_one_line_naming_the_option(tmp_path, capsys, argv, line):
    y = np.repeat([3, 7], 5)  # the least data a command trains on (data/dataset.py: MIN_CLASSES, MIN_TRAIN)
    np.savez(tmp_path / "d.npz", x_train=np.zeros((10, 28, 39), np.uint8), y_train=y, x_test=np.zeros((10, 28, 39),
             np.uint8), y_test=y)
    argv = [a.replace("{data}", str(tmp_path / "d.npz")) for a in argv]
    code, _, err = _run([*argv, "--out", str(tmp_path / "out")], capsys)
    assert (code, err) == (2, f"multimnist: error: {line}\n")
    assert not (tmp_path / "out").exists()


def test_inspect_user_errors(tmp_path, capsys):
    code, _, err = _run(["data", "inspect", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "dataset not found" in err and err.count("\n") == 1
    (tmp_path / "d").mkdir()
    np.savez(tmp_path / "d" / "train.npz", x=np.zeros((4, 28, 28), np.uint8), y=np.ones(4, np.int64))
    np.savez(tmp_path / "d" / "test.npz", x=np.zeros((4, 28, 39), np.uint8), y=np.ones(4, np.int64))
    code, _, err = _run(["data", "inspect", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "expected (N, 28, 39)" in err and err.count("\n") == 1
    assert not (tmp_path / "f").exists()


def _synopsis(command: str) -> str:
    """The README's synopsis of `multimnist COMMAND`: its line and the indented lines that continue it."""
    lines = (Path(__file__).parents[1] / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"multimnist {command} "))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        block.append(line)
    return " ".join(block)


def test_the_readme_synopsis_of_data_make_lists_every_option_and_runs(tmp_path, capsys):
    from multimnist.cli import build_parser

    synopsis = _synopsis("data make")
    make = build_parser()._subparsers._group_actions[0].choices["data"]._subparsers._group_actions[0].choices["make"]
    options = {o for a in make._actions for o in a.option_strings if o.startswith("--")} - {"--help", "--quiet",
                                                                                          "--verbose"}
    assert options == set(re.findall(r"--[a-z-]+", synopsis))
    assert "--plan balanced [--classes 1..50]" in synopsis  # --classes belongs to the balanced plan only
    classes = re.search(r"--classes ([0-9.]+)", synopsis)[1]
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d"), "--plan", "balanced", "--classes", classes,
                         "--train-size", "100", "--intensity", "0.5", "1", "--blend", "sum"], capsys)
    assert code == 0, err


def test_parse_range():
    assert parse_range("1-50") == tuple(range(1, 51))
    assert parse_range("0-99")[-1] == 99
    assert parse_range("3,5,7") == (3, 5, 7)
    assert parse_range("0..2") == parse_range("0-2") == parse_range("0,1,2") == (0, 1, 2)
    assert parse_range("0,3..5, 9") == (0, 3, 4, 5, 9) and parse_range("4") == (4,) and parse_range("2..2") == (2,)
    for text, message in [("2-0", "'2-0' is an empty range"), ("5..1", "(meant 1..5?)"), ("", "cannot read ''"),
                          ("1,,2", "cannot read"), ("0..", "cannot read"), ("1-3,2", "lists 2 more than once")]:
        with pytest.raises(UserError, match=re.escape(message)):
            parse_range(text, "--seeds")


@pytest.mark.slow
def test_make_keeps_the_same_dataset_and_refuses_other_settings_without_force(tmp_path, capsys):
    data = tmp_path / "d"
    make = ["data", "make", "--out", str(data), "--plan", "balanced", "--train-size", "100"]
    assert _run(make, capsys)[0] == 0
    before = {p.name: p.stat().st_mtime_ns for p in data.iterdir()}
    code, out, _ = _run(make, capsys)  # the same settings: kept as it is, not rewritten
    assert code == 0 and "already holds this dataset" in out
    assert {p.name: p.stat().st_mtime_ns for p in data.iterdir()} == before
    # A dataset made before a setting existed (its meta.json lacks it) holds that setting's default.
    meta = json.loads((data / "meta.json").read_text())
    del meta["generator"]["train_distinct"]
    (data / "meta.json").write_text(json.dumps(meta))
    code, out, _ = _run(make, capsys)
    assert code == 0 and "already holds this dataset" in out
    code, _, err = _run([*make, "--seed", "1"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"{data} holds a dataset made with other settings (seed 0 (now 1))" in err and "--force" in err
    assert json.loads((data / "meta.json").read_text())["seed"] == 0  # untouched
    code, _, err = _run([*make, "--train-size", "200", "--force"], capsys)
    assert code == 0, err
    assert read_dataset(data).y_train.shape == (200,) and json.loads((data / "meta.json").read_text())["seed"] == 0


def test_make_refuses_a_folder_holding_foreign_data(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    np.savez(tmp_path / "d" / "train.npz", x=np.zeros((4, 28, 39), np.uint8), y=np.ones(4, np.int64))
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d")], capsys)
    assert code == 2 and "without meta.json" in err and "--force" in err
    (tmp_path / "d" / "meta.json").write_text("{}")
    code, _, err = _run(["data", "make", "--out", str(tmp_path / "d")], capsys)
    assert code == 2 and "not a meta.json written by `data make`" in err


def _console_script() -> str:
    script = Path(sys.executable).parent / "multimnist"
    return str(script) if script.exists() else shutil.which("multimnist")


@pytest.mark.slow  # its subject is the installed console script: two processes started through it
def test_installed_console_script(tmp_path):
    script = _console_script()
    assert script, "the multimnist console script is not installed"
    done = subprocess.run([script, "data", "make", "--out", str(tmp_path / "d"), "--plan", "balanced",
                           "--train-size", "100"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert read_dataset(tmp_path / "d").y_train.shape == (100,)
    failed = subprocess.run([script, "data", "make", "--out", str(tmp_path / "e"), "--mnist", str(tmp_path / "no")],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    assert failed.stderr.startswith("multimnist: error: MNIST source not found") and "Traceback" not in failed.stderr


def test_verbose_data_make_adds_the_settings_the_digits_and_the_time(tmp_path, capsys):
    make = ["data", "make", "--plan", "balanced", "--train-size", "100"]
    code, _, quiet = _run([*make, "--out", str(tmp_path / "a")], capsys)
    code_v, _, verbose = _run([*make, "-v", "--out", str(tmp_path / "b")], capsys)
    assert code == code_v == 0
    assert "generator settings" not in quiet and len(verbose.splitlines()) == len(quiet.splitlines()) + 3
    assert "generator settings: plan=balanced, classes=None, train_size=100," in verbose
    assert "MNIST digits: vendored (sha256 " in verbose
    assert "50 classes, 2..2 training images a class" in verbose

"""`data make --preset` and `multimnist calibrate score|search` on tiny data: every target printed, the search's
table, its resume, and a search folder of other settings refused in one line."""

from __future__ import annotations

import json

from multimnist.cli import main

import pytest
import yaml


def test_data_make_faint_preset_gives_the_old_default_bytes(small_dataset_dir, tmp_path):
    from conftest import SMALL_TRAIN

    out = tmp_path / "faint"
    assert main(["data", "make", "--out", str(out), "--preset", "faint", "--train-size", str(SMALL_TRAIN)]) == 0
    for name in ("train.npz", "test.npz"):
        assert (out / name).read_bytes() == (small_dataset_dir / name).read_bytes()
    assert json.loads((out / "meta.json").read_text())["preset"] == "faint"


def test_data_make_defaults_to_the_study_preset_and_a_changed_knob_drops_its_name(tmp_path):
    assert main(["data", "make", "--out", str(tmp_path / "d"), "--train-size", "300"]) == 0
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert meta["preset"] == "study" and meta["generator"]["train_pool"] == 25_000
    assert main(["data", "make", "--out", str(tmp_path / "e"), "--train-size", "300", "--blend", "sum"]) == 0
    meta = json.loads((tmp_path / "e" / "meta.json").read_text())
    assert meta["preset"] is None and meta["generator"]["blend"] == "sum" and meta["generator"]["jitter"] == 2


@pytest.mark.slow
def test_calibrate_score_prints_every_target(small_dataset_dir, tmp_path, capsys):
    out = tmp_path / "score"
    assert main(["calibrate", "score", "--data", str(small_dataset_dir), "--out", str(out), "--seeds", "100",
                 "--epochs", "2"]) == 0
    printed = capsys.readouterr().out
    for target in ("train_accuracy", "plateau_epoch", "val_stable", "best_val_accuracy", "score"):
        assert target in printed
    assert not any(line.startswith(("min_val_loss", "val_loss_rise")) for line in printed.splitlines())
    saved = json.loads((out / "score.json").read_text())
    assert saved["seeds"] == [100] and "test_accuracy" not in json.dumps(saved)  # never a test figure


@pytest.mark.slow
def test_calibrate_search_tables_resumes_and_refuses_other_settings(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"settings": [{"intensity": [0.5, 1.0]}, {"jitter": 2}]}))
    out = tmp_path / "search"
    argv = ["calibrate", "search", "--out", str(out), "--grid", str(grid), "--train-size", "300", "--epochs", "1",
            "--seeds", "100"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "best: " in first and "2 settings finished" in first
    rows = json.loads((out / "search.json").read_text())["rows"]
    assert {r["label"] for r in rows} == {"intensity=0.5-1", "jitter=2"}
    done = sorted(p.stat().st_mtime_ns for p in out.glob("settings/*/seed-100/fidelity.json"))
    assert main(argv) == 0  # a rerun trains nothing
    assert sorted(p.stat().st_mtime_ns for p in out.glob("settings/*/seed-100/fidelity.json")) == done
    capsys.readouterr()
    assert main([*argv[:-4], "--epochs", "2", "--seeds", "100"]) == 2
    assert "holds a search with other epochs" in capsys.readouterr().err


@pytest.mark.slow
def test_calibrate_rank_rescores_tables_against_the_study_preset(tmp_path, capsys):
    from multimnist.data.config import PRESETS
    from multimnist.experiments.calibration import run_search, setting_id

    run_search(tmp_path / "s", [PRESETS["study"].knobs, {"jitter": 1}], train_size=300, epochs=1, seeds=(100, 101, 102))
    table = tmp_path / "s" / "search.json"
    assert main(["calibrate", "rank", str(table), "--out", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    study = next(line for line in lines if "(reference)" in line)
    other = next(line for line in lines if "jitter=1 " in line)
    assert "intensity=0.8-1 jitter=2 train_pool=25000" in study and " ± " in study
    assert "val_stable" in lines[0] and "Welch p" in lines[0] and other.count("|") == study.count("|")
    rows = json.loads((tmp_path / "r" / "search.json").read_text())["rows"]
    assert {r["id"] for r in rows} == {setting_id(PRESETS["study"].knobs), setting_id({"jitter": 1})}
    assert main(["calibrate", "rank", str(table), "--reference", "0123456789"]) == 2
    assert "not among the rows" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", ["2..0", ""])
def test_calibrate_bad_seeds_are_one_line(small_dataset_dir, tmp_path, capsys, seeds):
    assert main(["calibrate", "score", "--data", str(small_dataset_dir), "--out", str(tmp_path / "s"),
                 "--seeds", seeds]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

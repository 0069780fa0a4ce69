"""Calibration: grids and settings, scoring a dataset, and the search's resume after a kill (tiny data, one
epoch: the machinery, not the figures)."""

from __future__ import annotations

import json

from multimnist.errors import UserError
from multimnist.evaluation.fidelity import TARGETS
from multimnist.experiments import calibration
from multimnist.experiments.calibration import (
    BUILTIN_GRID,
    FIDELITY,
    expand_grid,
    load_grid,
    normalize,
    pick,
    read_tables,
    rescore_rows,
    run_search,
    score_dataset,
    setting_id,
    setting_label,
    versus,
)

import pytest

TINY = {"train_size": 300, "epochs": 1, "seeds": (100,)}


def test_builtin_grid_is_valid_and_distinct():
    grid = load_grid(None)
    assert len(grid) >= 30 and len({setting_id(s) for s in grid}) == len(grid)
    assert normalize({}) in grid  # today's data is in the search, as a reference
    assert sum(len(b) for b in BUILTIN_GRID) > 0


def test_ids_and_labels_ignore_how_a_setting_is_written():
    a = {"intensity": [0.2, 1], "train_pool": 25000}
    b = {"train_pool": 25000, "intensity": (0.2, 1.0), "blend": "max"}
    assert setting_id(a) == setting_id(b)
    assert setting_label(a) == "intensity=0.2-1 train_pool=25000" and setting_label({}) == "defaults"


def test_yaml_grid_blocks_and_settings(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("grid:\n  intensity: [[0.05, 1.0], [0.3, 1.0]]\n  train_pool: [null, 15000]\n"
                    "settings:\n  - {intensity: [0.3, 1.0], offset_min: 6}\n  - {train_pool: 15000}\n")
    grid = load_grid(path)
    assert len(grid) == 5  # 2 x 2 from the block, one new explicit setting, one duplicate dropped
    assert expand_grid([{"intensity": [0.3, 1.0]}]) == [normalize({"intensity": (0.3, 1.0)})]


@pytest.mark.parametrize("text, message", [
    ("grid:\n  colour: [red]\n", "unknown generator knob"),
    ("grid:\n  intensity: [[0.0, 1.0]]\n", "intensity range"),
    ("other: 1\n", "expected a mapping"),
    ("grid: [3]\n", "grid block"),
])
def test_bad_grids_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_grid(path)
    with pytest.raises(UserError, match="not found"):
        load_grid(tmp_path / "missing.yaml")


@pytest.mark.slow
def test_score_dataset_writes_strict_json(small_dataset_dir, tmp_path):
    summary = score_dataset(small_dataset_dir, tmp_path / "score", seeds=(100,), epochs=1)
    saved = json.loads((tmp_path / "score" / "score.json").read_text(), parse_constant=_refuse)
    assert saved["seeds"] == [100] and [t["name"] for t in saved["targets"]] == [t.name for t in TARGETS]
    assert saved["score_mean"] == pytest.approx(summary["score_mean"])
    run = saved["runs"][0]
    assert "evaluated" in run["train_accuracy_source"] and 0 <= run["train_accuracy_evaluated"] <= 1
    assert not any("test" in key for key in _keys(saved))  # test accuracy is never computed here


@pytest.mark.slow
def test_search_resumes_after_a_kill_without_retraining(tmp_path, monkeypatch):
    real, calls = calibration.train_study_network, []

    def dies_on_the_second_setting(data, run_dir, seed, epochs):
        calls.append(run_dir)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(data, run_dir, seed, epochs)

    grid = [{"train_pool": 1000}, {}]
    monkeypatch.setattr(calibration, "train_study_network", dies_on_the_second_setting)
    with pytest.raises(RuntimeError, match="killed"):
        run_search(tmp_path, grid, **TINY)
    first, second = (tmp_path / "settings" / setting_id(s) for s in grid)
    assert (first / "seed-100" / FIDELITY).is_file() and not (second / "seed-100" / FIDELITY).exists()
    assert len(json.loads((tmp_path / "search.json").read_text())["rows"]) == 1  # what finished is tabled
    finished = (first / "seed-100" / FIDELITY).stat().st_mtime_ns

    calls.clear()
    monkeypatch.setattr(calibration, "train_study_network", lambda *a: calls.append(a[1]) or real(*a))
    rows = run_search(tmp_path, grid, **TINY)
    assert calls == [str(second / "seed-100")]  # only the unfinished run trained
    assert (first / "seed-100" / FIDELITY).stat().st_mtime_ns == finished
    assert len(rows) == 2 and rows[0]["score_mean"] <= rows[1]["score_mean"]
    assert {r["label"] for r in rows} == {"train_pool=1000", "defaults"}
    header = (tmp_path / "search.csv").read_text().splitlines()[0].split(",")
    assert {"score_mean", "best_val_accuracy_mean", "train_pool", "intensity"} <= set(header)
    assert not any("test" in c for c in header)
    assert pick(tmp_path)["id"] == rows[0]["id"]

    with pytest.raises(UserError, match="other epochs"):
        run_search(tmp_path, grid, **{**TINY, "epochs": 2})


@pytest.mark.slow
def test_stored_runs_are_rescored_with_todays_targets_without_training(tmp_path, monkeypatch):
    run_search(tmp_path, [{"jitter": 1}], **TINY)
    done = next(tmp_path.glob(f"settings/*/seed-100/{FIDELITY}"))
    stored = json.loads(done.read_text())
    fresh = stored["score"]
    stale = {**stored, "score": 99.0, "targets": [{"name": "val_loss_rise", "value": 0.0}]}  # an old target set
    done.write_text(json.dumps(stale))
    monkeypatch.setattr(calibration, "train_study_network", lambda *a: pytest.fail("retrained"))
    rows = run_search(tmp_path, [{"jitter": 1}], **TINY)
    assert rows[0]["score_mean"] == pytest.approx(fresh)  # scored from the history, not the stored score
    assert [k for k in rows[0] if k.endswith("_mean") and k != "score_mean"] == [f"{t.name}_mean" for t in TARGETS]
    del stored["history"]
    done.write_text(json.dumps(stored))
    with pytest.raises(UserError, match="no history"):
        run_search(tmp_path, [{"jitter": 1}], **TINY)


@pytest.mark.slow
def test_search_json_keeps_the_curves_that_rescore_it(tmp_path):
    run_search(tmp_path, [{"jitter": 1}, {}], **{**TINY, "epochs": 2})
    table = json.loads((tmp_path / "search.json").read_text())
    assert table["std"].startswith("sample std") and "runs" not in (tmp_path / "search.csv").read_text()
    row = table["rows"][0]
    run = row["runs"][0]
    assert run["seed"] == 100 and len(run["val_accuracy"]) == len(run["val_loss"]) == len(run["accuracy"]) == 2
    again = rescore_rows(table["rows"])
    assert [r["id"] for r in again] == [r["id"] for r in table["rows"]]
    assert again[0]["score_mean"] == pytest.approx(row["score_mean"], abs=1e-3)
    assert read_tables([tmp_path / "search.json", tmp_path / "search.json"]) == again  # a setting counted once
    with pytest.raises(UserError, match="keeps no runs"):
        rescore_rows([{k: v for k, v in row.items() if k != "runs"}])


def _row(sid, scores):
    return {"id": sid, "runs": [{"score": s} for s in scores]}


def test_versus_tests_each_setting_against_the_reference_with_welch():
    rows = [_row("ref", [3.2, 3.4, 3.6]), _row("close", [3.1, 3.3, 3.6]), _row("far", [2.0, 2.1, 2.2]),
            _row("one-seed", [1.0])]
    tests = versus(rows, "ref")
    assert set(tests) == {"close", "far", "one-seed"}
    assert tests["close"].p > 0.05 and tests["far"].p < 0.05 and tests["far"].diff == pytest.approx(-1.3)
    assert tests["one-seed"].p is None  # fewer than 3 seeds: no test
    with pytest.raises(UserError, match="not among the rows"):
        versus(rows, "missing")


def test_pick_without_a_search_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no finished setting"):
        pick(tmp_path)


def _refuse(name):
    raise ValueError(f"non-strict JSON constant {name}")


def _keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v)


def test_cli_pick_prints_every_target_and_the_knobs(tmp_path, capsys):
    from multimnist.cli import main

    run_search(tmp_path, [{"jitter": 1}], **TINY)
    assert main(["calibrate", "search", "--out", str(tmp_path), "--pick"]) == 0
    out = capsys.readouterr().out
    assert "best setting: jitter=1" in out and all(t.name in out for t in TARGETS) and "train_pool=None" in out
    assert main(["calibrate", "search", "--out", str(tmp_path / "empty"), "--pick"]) == 2
    assert "no finished setting" in capsys.readouterr().err

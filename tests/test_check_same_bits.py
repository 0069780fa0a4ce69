"""scripts/check_same_bits.py: a retrained run folder counts as the same only if its files and metrics are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("check_same_bits")


def _run(folder: Path, history: str = "epoch,loss\n0,0.5\n", **metrics) -> Path:
    folder.mkdir(parents=True)
    (folder / "history.csv").write_text(history)
    (folder / "confusion.csv").write_text("1,0\n0,1\n")
    base = {"test_accuracy": 0.9, "test_loss": 0.29159662, "seconds_per_epoch": 1.0,
            "data": {"path": "runs/x/data", "sha256": "ab"}}
    (folder / "metrics.json").write_text(json.dumps(base | metrics))
    return folder


def test_only_what_a_retraining_may_change_is_left_out(script, tmp_path):
    kept = _run(tmp_path / "kept")
    # seconds and where the data lay may differ; nothing else may
    same = _run(tmp_path / "same", seconds_per_epoch=2.5, data={"path": "/elsewhere/data", "sha256": "ab"})
    assert script.differences(kept, same) == []
    assert script.differences(kept, _run(tmp_path / "loss", test_loss=0.29159665)) == ["metrics.json:test_loss"]
    assert script.differences(kept, _run(tmp_path / "hist", history="epoch,loss\n0,0.50000001\n")) == ["history.csv"]
    other_data = _run(tmp_path / "data", data={"path": "runs/x/data", "sha256": "cd"})
    assert script.differences(kept, other_data) == ["metrics.json:data"]

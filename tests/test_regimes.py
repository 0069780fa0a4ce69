"""The regime study: the noise test behind each verdict, the table from run folders, and a tiny end-to-end run
whose report carries the regime section."""

from __future__ import annotations

import json
from pathlib import Path

from multimnist.experiments.regimes import BASELINE, gain_test, holm_verdicts, regime_rows, run_regimes
from multimnist.experiments.study import PROFILES, build_steps
from multimnist.files import write_json
from multimnist.report.study import regime_summary, write_report

import numpy as np
import pytest


@pytest.mark.parametrize(("after", "before", "verdict"), [
    ([0.93, 0.935, 0.94], [0.90, 0.905, 0.91], "helps"),
    ([0.88, 0.885, 0.89], [0.90, 0.905, 0.91], "hurts"),
    ([0.90, 0.92, 0.91], [0.91, 0.90, 0.92], "within noise"),
    ([0.99, 0.99], [0.90, 0.905, 0.91], "n/a"),  # two seeds make no noise estimate
])
def test_gain_verdicts(after, before, verdict):
    result = gain_test(np.array(after), np.array(before))
    assert result["verdict"] == verdict
    assert result["gain_mean"] == pytest.approx(np.mean(after) - np.mean(before))
    if verdict != "n/a":
        assert 0.0 <= result["p_value"] <= 1.0 and result["gain_se"] > 0


def test_a_large_gain_with_large_noise_is_within_noise():
    result = gain_test(np.array([0.80, 0.99, 0.95]), np.array([0.90, 0.905, 0.91]))
    assert result["gain_mean"] > 0 and result["verdict"] == "within noise"


def test_holm_over_a_presets_row_decides_the_verdict():
    rows = [{"config": BASELINE, "p_value": None, "gain_mean": None, "verdict": "baseline"},
            {"config": "a", "p_value": 0.02, "gain_mean": 0.01, "verdict": "helps"},
            {"config": "b", "p_value": 0.03, "gain_mean": -0.01, "verdict": "hurts"},
            {"config": "c", "p_value": 0.004, "gain_mean": 0.02, "verdict": "helps"}]
    out = {r["config"]: r for r in holm_verdicts(rows)}
    assert out["c"]["p_holm"] == pytest.approx(0.012) and out["c"]["verdict"] == "helps"
    assert out["a"]["p_holm"] == pytest.approx(0.04) and out["a"]["verdict"] == "helps"
    assert out["b"]["p_holm"] == pytest.approx(0.04) and out["b"]["verdict"] == "hurts"
    rows[1]["p_value"] = 0.03  # now a and b: 0.06 each, beyond 0.05 once corrected
    out = {r["config"]: r for r in holm_verdicts(rows)}
    assert out["a"]["verdict"] == out["b"]["verdict"] == "within noise" and out[BASELINE]["verdict"] == "baseline"


def _fake_run(folder, test, epochs=50):
    write_json(folder / "metrics.json", {"test_accuracy": test, "best_val_accuracy": test + 0.01,
                                         "train_accuracy": 0.99, "best_epoch": epochs, "epochs_run": epochs})


def test_rows_from_run_folders(tmp_path):
    for seed, (base, drop) in enumerate([(0.90, 0.93), (0.905, 0.935), (0.91, 0.94)]):
        _fake_run(tmp_path / "faint" / BASELINE / f"seed-{seed}", base)
        _fake_run(tmp_path / "faint" / "dropout_0.1" / f"seed-{seed}", drop, epochs=30)
    rows = regime_rows(tmp_path, ["faint"], [BASELINE, "dropout_0.1", "l2_1e-5"])
    by = {r["config"]: r for r in rows}
    assert by[BASELINE]["verdict"] == "baseline" and by[BASELINE]["n"] == 3
    assert by["dropout_0.1"]["verdict"] == "helps" and by["dropout_0.1"]["gain_mean"] == pytest.approx(0.03)
    assert by["dropout_0.1"]["epochs_run_mean"] == 30
    assert by["l2_1e-5"]["n"] == 0 and by["l2_1e-5"]["verdict"] == "n/a"  # not run: no verdict
    assert regime_summary(rows, "faint") == "faint: helps: dropout_0.1; n/a: l2_1e-5."


def test_the_regimes_profile_runs_only_the_regime_study():
    steps = build_steps(Path("/x"), PROFILES["regimes"])
    assert [s.name for s in steps] == ["regimes"]
    assert set(steps[0].settings["presets"]) == {"study", "faint", "few-source-digits"}


@pytest.mark.slow  # the regime study: 6 trainings (2 configs x 3 seeds), its figures and the report
def test_tiny_regime_study_end_to_end_and_its_report(tmp_path):
    out = tmp_path / "run"
    rows = run_regimes(out / "regimes", presets=("study",), configs=(BASELINE, "dropout_0.1"), seeds=(0, 1, 2),
                       epochs=1, train_size=300)
    assert [(r["preset"], r["config"], r["n"]) for r in rows] == [("study", BASELINE, 3), ("study", "dropout_0.1", 3)]
    assert {r["verdict"] for r in rows} <= {"baseline", "helps", "hurts", "within noise"}
    saved = json.loads((out / "regimes" / "regimes.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(rows)) and saved["presets"] == ["study"]
    study_meta = json.loads((out / "regimes" / "study" / "data" / "meta.json").read_text())
    assert study_meta["preset"] == "study" and study_meta["generator"]["train_pool"] == 25_000
    for figure in ("regime_gain.png", "regime_curves.png"):
        assert (out / "regimes" / figure).stat().st_size > 10_000
    report = write_report(out).with_suffix(".md").read_text()
    assert "where each regularizer helps" in report and "study: " in report
    assert "| study | unregularized | 3 |" in report and "| study | dropout_0.1 | 3 |" in report
    assert "regimes/regime_gain.png" in report

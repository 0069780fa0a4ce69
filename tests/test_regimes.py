"""The regularizers across regimes: the noise test behind each verdict, the table from run folders, and the
files and section `multimnist report --across` writes from paper runs on several presets."""

from __future__ import annotations

import json
from pathlib import Path

from multimnist.cli import main
from multimnist.evaluation.noise import gain_test
from multimnist.files import write_json
from multimnist.report.claims import BEST_SAMPLER
from multimnist.report.regimes import (
    BASELINE,
    CONFIGS,
    config_folders,
    gain_title,
    holm_verdicts,
    regime_rows,
    regime_summary,
    regime_table_data,
)

import numpy as np
import pytest
from conftest import load_script


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
    folders = {"faint": {name: tmp_path / "faint" / name for name in (BASELINE, "dropout_0.1", "l2_1e-5")}}
    rows = regime_rows(folders)
    by = {r["config"]: r for r in rows}
    assert by[BASELINE]["verdict"] == "baseline" and by[BASELINE]["n"] == 3
    assert by["dropout_0.1"]["verdict"] == "helps" and by["dropout_0.1"]["gain_mean"] == pytest.approx(0.03)
    assert by["dropout_0.1"]["epochs_run_mean"] == 30
    assert by["l2_1e-5"]["n"] == 0 and by["l2_1e-5"]["verdict"] == "n/a"  # not run: no verdict
    assert regime_summary(rows, "faint") == "faint: helps: dropout_0.1; n/a: l2_1e-5."


def _paper_run(root: Path, preset: str, gain: float) -> Path:
    """A reproduce folder as `report --across` reads it: results.json, and the regularizers' seeds where the paper
    profile puts them (the headline networks under classifiers/, the ablations under ablations/)."""
    for name in CONFIGS:
        where = "classifiers" if name in (BASELINE, "regularized") else "ablations"
        for seed, base in enumerate((0.90, 0.905, 0.91)):
            test = base + (gain if name == "dropout_0.1" else 0.0005 * seed)
            folder = root / where / name / f"seed-{seed}"
            _fake_run(folder, test)
            (folder / "history.csv").write_text("epoch,accuracy,val_accuracy\n0,0.5,0.45\n1,0.9,0.8\n")
            (folder / "config.yaml").write_text(f"name: {name}\nseed: {seed}\n")
            (folder / "model.keras").write_bytes(b"weights: not part of a digest")
    write_json(root / "profile.json", {"profile": {"name": "paper"}})
    write_json(root / "steps.json", {"classifiers": {"hash": "abc", "seconds": 12.5, "summary": {"big": [1] * 50}}})
    (root / "report.md").write_text(f"# report on {preset}\n")
    write_json(root / "results.json", {"version": "0.3.0", "profile": {"name": "paper"}, "preset": preset,
                                       "data_source": {"kind": "preset", "preset": preset, "knobs": {}, "seed": 0,
                                                       "train_size": None},
                                       "claims": [], "verdicts": {}})
    return root


@pytest.mark.slow
def test_across_writes_the_regularizers_view_from_paper_runs(tmp_path, capsys):
    runs = [_paper_run(tmp_path / "study", "study", 0.03), _paper_run(tmp_path / "faint", "faint", -0.03)]
    assert config_folders(runs[0])["dropout_0.1"] == runs[0] / "ablations" / "dropout_0.1"
    assert config_folders(tmp_path) is None  # not a reproduce folder
    out = tmp_path / "m"
    assert main(["report", "--across", *map(str, runs), "--out", str(out)]) == 0, capsys.readouterr().err
    table = json.loads((out / "regimes.json").read_text())
    assert table["presets"] == ["study", "faint"] and table["seeds"] == [0, 1, 2]
    by = {(r["preset"], r["config"]): r for r in table["rows"]}
    assert by["study", "dropout_0.1"]["verdict"] == "helps" and by["faint", "dropout_0.1"]["verdict"] == "hurts"
    assert json.loads((out / "across.json").read_text())["regularizers"] == table
    for figure in ("regime_gain.png", "regime_curves.png"):
        assert (out / figure).stat().st_size > 10_000
    report = (out / "across.md").read_text()
    assert "The regularizers across regimes" in report and "study: helps: dropout_0.1" in report
    assert "faint: hurts: dropout_0.1" in report and "| faint | dropout_0.1 | 3 |" in report
    assert gain_title(table).startswith("Test accuracy gain of each regularizer (mean over seeds 0, 1, 2,")
    _fake_run(runs[1] / "classifiers" / BASELINE / "seed-3", 0.9)  # a look gave the baseline more seeds
    more = regime_table_data({r.name: config_folders(r) for r in runs})
    assert "mean over each configuration's seeds in its run, 3 to 4," in gain_title(more)


@pytest.mark.slow
def test_the_matrix_from_committed_digests_is_the_matrix_from_the_runs(tmp_path, capsys):
    digest = load_script("digest_run")
    runs = [_paper_run(tmp_path / "study", "study", 0.03), _paper_run(tmp_path / "faint", "faint", -0.03)]
    digests = [tmp_path / "digests" / r.name for r in runs]
    rng = np.random.default_rng(0)
    for seed in (0, 1, 10):  # the claims' sampler's images of the first autoencoder seed (by number, not name)
        (runs[0] / "generation" / f"seed-{seed}").mkdir(parents=True)
        asked = np.array([7, 3, 7, 50, 3] if seed == 0 else [1, 2])
        np.savez(runs[0] / "generation" / f"seed-{seed}" / f"{BEST_SAMPLER}.npz", asked=asked,
                 images=rng.integers(0, 255, (len(asked), 28, 39), dtype=np.uint8), numbers=asked,
                 readable=np.array([True, False, True, True, True][:len(asked)]))
    write_json(runs[0] / "looks.json", {"looks": [{"look": 1, "seeds": 3, "open": [], "more_seeds": {}}]})
    for run, dest in zip(runs, digests, strict=True):
        assert digest.main([str(run), str(dest)]) == 0
    figure = digests[0] / "generation" / f"{BEST_SAMPLER}-asked.png"  # one image of each of 3, 7, 50: seed 0's
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 5_000
    assert digest.asked_figure(runs[0] / "generation" / "seed-0", tmp_path / "f.png") == tmp_path / "f.png"
    assert not list((digests[0] / "generation").glob("*numbers*"))  # the 1 MB figure of every number stays
    assert not (digests[1] / "generation").exists()
    assert json.loads((digests[0] / "looks.json").read_text())["looks"][0]["seeds"] == 3
    assert not (digests[1] / "looks.json").exists()  # a fixed design has none
    assert not list((tmp_path / "digests").rglob("model.keras"))  # the weights stay behind
    steps = json.loads((digests[0] / "steps.json").read_text())
    assert steps == {"classifiers": {"hash": "abc", "seconds": 12.5}}  # wall times kept, summaries left out
    assert (digests[0] / "ablations" / "dropout_0.1" / "seed-2" / "history.csv").is_file()
    for inputs, out in ((runs, tmp_path / "from-runs"), (digests, tmp_path / "from-digests")):
        assert main(["report", "--across", *map(str, inputs), "--out", str(out)]) == 0, capsys.readouterr().err
    for name in ("regimes.json", "across.json"):  # the same, but for where each regime's folder is
        from_digests = (tmp_path / "from-digests" / name).read_text().replace(str(tmp_path / "digests"), str(tmp_path))
        assert (tmp_path / "from-runs" / name).read_text() == from_digests
    (runs[0] / "results.json").unlink()
    with pytest.raises(SystemExit, match="not a finished reproduce folder: no results.json"):
        digest.main([str(runs[0]), str(tmp_path / "x")])

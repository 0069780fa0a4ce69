"""scripts/select_challenger.py selects on validation figures alone, by its stated rule, on fake run metrics."""

from __future__ import annotations

import pytest
from conftest import load_script


@pytest.fixture(scope="module")
def sc():
    return load_script("select_challenger")


class NoTest(dict):
    """metrics.json content whose test figures may not be looked at."""

    def __getitem__(self, key):
        if key.startswith("test_"):
            raise AssertionError(f"read {key}")
        return super().__getitem__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default


def runs(vals, test):
    return [NoTest(seed=100 + i, val_accuracy=v, best_val_accuracy=v + 0.002, seconds_per_epoch=1.0,
                   test_accuracy=test) for i, v in enumerate(vals)]


def test_the_best_validation_mean_wins_whatever_the_test_figures(sc):
    configs = {name: cfg for name, cfg in sc.candidate_configs().items() if name in ("base", "lr-1e-3")}
    results = {"base": runs([0.90, 0.91, 0.92], test=0.99), "lr-1e-3": runs([0.93, 0.94, 0.95], test=0.50)}
    rows = sc.selection_table(configs, results)
    assert [r["selected"] for r in rows] == ["", "yes"]
    assert rows[1]["val_mean"] == pytest.approx(0.94) and rows[1]["n_seeds"] == 3
    assert not any("test" in key for r in rows for key in r)


def row(name, mean, std, regularizers, n_params):
    return {"candidate": name, "val_mean": mean, "val_std": std, "n_seeds": 3, "regularizers": regularizers,
            "n_params": n_params}


def test_within_one_standard_error_the_simpler_recipe_wins(sc):
    best, simpler = row("best", 0.940, 0.003, 2, 96_770), row("simpler", 0.939, 0.003, 1, 96_770)
    assert sc.select([best, simpler]) == "simpler"  # 0.1 points apart, standard error 0.17 points
    simpler["val_mean"] = 0.937  # 0.3 points apart: no longer a tie
    assert sc.select([best, simpler]) == "best"
    assert sc.select([best, row("smaller", 0.9395, 0.003, 2, 66_290)]) == "smaller"


def test_every_candidate_fits_the_budget(sc):
    assert len(sc.candidate_configs()) == len(sc.CANDIDATES)
    assert "test_accuracy" not in sc.VALIDATION_KEYS

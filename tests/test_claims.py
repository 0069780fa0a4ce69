"""The claims table: every verdict of every claim from small dicts (no training), and the report on a folder of
hand-written run files: missing runs are n/a, broken files are one clear error, partial sweeps work."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

from multimnist.cli import main
from multimnist.errors import UserError
from multimnist.evaluation.noise import gain_test, mean_interval, welch
from multimnist.files import write_json, write_text
from multimnist.report.claims import (
    VERDICTS,
    by_construction,
    claim_specs,
    generation_samples,
    judge,
    study_claims,
)
from multimnist.report.criteria import combine
from multimnist.report.results import load_study
from multimnist.report.study import write_report

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FACTORS = (20, 25, 30)
SPECS = {s.key: s for s in claim_specs(FACTORS)}

BASE = [0.900, 0.902, 0.904]  # the unregularized network: mean 90.2, std 0.2
HIGHER = [0.930, 0.932, 0.934]  # +3 points, far beyond noise
SLIGHTLY_HIGHER = [0.910, 0.912, 0.914]  # +1 point beyond noise: less than the 1.5 a "yes" needs
LOWER = [0.870, 0.872, 0.874]
OVERLAP = [0.896, 0.904, 0.909]  # within noise of BASE
ONE = [0.95]  # one seed: no noise estimate


def runs(values, key="test_accuracy", **same) -> list[dict]:
    return [{key: v, **same} for v in values]


def fits(gaps, vals) -> list[dict]:
    """Runs with a train - val gap and a validation accuracy each."""
    return [{"train_val_gap": g, "val_accuracy": v} for g, v in zip(gaps, vals, strict=True)]


def batch(b256, others, val8) -> dict:
    out = {f"batch-{b}": runs(others) for b in (8, 32, 128, 512)}
    out["batch-256"] = runs(b256)
    out["batch-8"] = [{"test_accuracy": t, "best_val_accuracy": v} for t, v in zip(others, val8, strict=False)]
    return out


def mse(**by_factor) -> dict:
    return {f"cf {f[2:]}": runs(v, "test_mse") for f, v in by_factor.items()}


def row(sampler, readable, n=1000, distinct=None, outside=None, kind="sampler") -> dict:
    """A generation row of scores.json: `distinct` (value, lo, hi), `outside` (count, lo, hi) of the readable."""
    d, lo, hi = distinct or (30.0, 28.0, 32.0)
    k, olo, ohi = outside or (0, 0.0, 0.05)
    return {"sampler": sampler, "kind": kind, "n": n, "readable": readable, "readable_share": readable / n,
            "readable_share_ci": [readable / n - 0.02, readable / n + 0.02], "distinct_numbers": d,
            "distinct_numbers_ci": [lo, hi], "outside_1_50": k,
            "outside_1_50_share": k / readable if readable else None, "outside_1_50_ci": [olo, ohi],
            "frechet_distance": 50.0}


def gen(*rows, comparisons=()) -> dict:
    return generation_samples({"readable_threshold": 0.9, "n": 1000, "equal_n": 60, "rows": list(rows),
                               "comparisons": list(comparisons)})


U = "unregularized"
CASES = {  # claim key -> [(samples, expected verdict)], every verdict each claim can give
    "class_imbalance": [
        ({"training set": [{"mean": 1671.0, "std": 1045.0, "n_classes": 50}]}, "yes"),
        ({"training set": [{"mean": 167.1, "std": 104.5, "n_classes": 50}]}, "yes"),  # scaled down: same ratio
        ({"training set": [{"mean": 1671.0, "std": 100.0, "n_classes": 50}]}, "no"),
        ({}, "n/a"),
    ],
    "unregularized_test": [
        ({U: runs([0.889, 0.890, 0.891])}, "yes"),
        ({U: runs([0.950, 0.951, 0.952])}, "no"),
        ({U: runs([0.90, 0.92, 0.94])}, "within noise"),  # the interval straddles 91.5
        ({U: runs([0.89, 0.89])}, "within noise"),  # two seeds
        ({"regularized": runs(BASE)}, "n/a"),
    ],
    "unregularized_val": [
        ({U: runs([0.914, 0.915, 0.916], "best_val_accuracy")}, "yes"),
        ({U: runs([0.97, 0.971, 0.972], "best_val_accuracy")}, "no"),
        ({U: runs([0.915], "best_val_accuracy")}, "within noise"),
        ({U: runs(BASE)}, "n/a"),  # no best validation accuracy in the records
    ],
    "unregularized_train": [
        ({U: runs([0.992, 0.993, 0.994], "train_accuracy")}, "yes"),
        ({U: runs([0.965, 0.966, 0.967], "train_accuracy")}, "partly"),
        ({U: runs([0.90, 0.901, 0.902], "train_accuracy")}, "no"),
        ({U: runs([0.99], "train_accuracy")}, "within noise"),
        ({}, "n/a"),
    ],
    "regularized_gain": [
        ({U: runs(BASE), "regularized": runs(HIGHER)}, "yes"),
        ({U: runs(BASE), "regularized": runs(SLIGHTLY_HIGHER)}, "partly"),
        ({U: runs(BASE), "regularized": runs(LOWER)}, "no"),
        ({U: runs(BASE), "regularized": runs(OVERLAP)}, "within noise"),
        ({U: runs(BASE), "regularized": runs(HIGHER[:2])}, "within noise"),  # 2 seeds, however far apart
        ({U: runs(BASE)}, "n/a"),
    ],
    "regularized_cure": [
        ({U: fits([0.085, 0.086, 0.087], BASE), "regularized": fits([0.010, 0.011, 0.012], BASE)}, "yes"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "regularized": fits([0.040, 0.041, 0.042], BASE)}, "partly"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "regularized": fits([0.010, 0.011, 0.012], LOWER)}, "no"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "regularized": fits([0.100, 0.101, 0.102], BASE)}, "no"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "regularized": fits([0.080, 0.086, 0.092], BASE)}, "within noise"),
        ({U: fits([0.085], BASE[:1]), "regularized": fits([0.010], BASE[:1])}, "within noise"),
        ({U: fits([0.085, 0.086, 0.087], BASE)}, "n/a"),
    ],
    "rare_classes": [
        ({U: [{"frequency_correlation": {"spearman_rho": r}} for r in (0.50, 0.52, 0.54)]}, "yes"),
        ({U: [{"frequency_correlation": {"spearman_rho": r}} for r in (0.10, 0.12, 0.14)]}, "partly"),
        ({U: [{"frequency_correlation": {"spearman_rho": r}} for r in (-0.5, -0.52, -0.54)]}, "no"),
        ({U: [{"frequency_correlation": {"spearman_rho": 0.5}}]}, "within noise"),
        ({U: [{"frequency_correlation": {"spearman_rho": None}}]}, "n/a"),
    ],
    "pair_50_30": [
        ({"unregularized 50->30": runs([20, 22, 24], "count"), "regularized 50->30": runs([10, 11, 12], "count")},
         "yes"),
        ({"unregularized 50->30": runs([10, 11, 12], "count"), "regularized 50->30": runs([20, 22, 24], "count")},
         "no"),
        ({"unregularized 50->30": runs([20, 10, 15], "count"), "regularized 50->30": runs([12, 18, 14], "count")},
         "within noise"),
        ({"unregularized 50->30": runs([0, 0, 0], "count"), "regularized 50->30": runs([2, 3, 1], "count")},
         "n/a"),  # never confused before: nothing to cut, not a "no"
        ({"unregularized 50->30": runs([20, 22, 24], "count")}, "n/a"),
    ],
    "pair_19_17": [
        ({"unregularized 19->17": runs([20, 22, 24], "count"), "regularized 19->17": runs([5, 6, 7], "count")},
         "yes"),
        ({"unregularized 19->17": runs([5, 6, 7], "count"), "regularized 19->17": runs([20, 22, 24], "count")},
         "no"),
        ({"unregularized 19->17": runs([20], "count"), "regularized 19->17": runs([5], "count")}, "within noise"),
        ({"unregularized 19->17": runs([0], "count"), "regularized 19->17": runs([0], "count")}, "n/a"),
    ],
    "l1_underfits": [
        ({U: runs(BASE), "l1_1e-3": runs(LOWER), "l1_1e-4": runs(LOWER), "l1_1e-5": runs(LOWER)}, "yes"),
        ({U: runs(BASE), "l1_1e-3": runs(LOWER), "l1_1e-4": runs(LOWER), "l1_1e-5": runs(OVERLAP)}, "partly"),
        ({U: runs(BASE), "l1_1e-3": runs(LOWER), "l1_1e-4": runs(HIGHER), "l1_1e-5": runs(HIGHER)}, "partly"),
        ({U: runs(BASE), "l1_1e-3": runs(HIGHER), "l1_1e-4": runs(HIGHER), "l1_1e-5": runs(OVERLAP)}, "no"),
        ({U: runs(BASE), "l1_1e-3": runs(OVERLAP), "l1_1e-4": runs(ONE), "l1_1e-5": runs(OVERLAP)}, "within noise"),
        ({U: runs(BASE), "l1_1e-3": runs(LOWER), "l1_1e-4": runs(LOWER)}, "n/a"),
    ],
    "l2_worse": [
        ({U: runs(BASE), "l2_1e-5": runs(LOWER)}, "yes"),
        ({U: runs(BASE), "l2_1e-5": runs(HIGHER)}, "no"),
        ({U: runs(BASE), "l2_1e-5": runs(OVERLAP)}, "within noise"),
        ({U: runs(BASE), "l2_1e-5": []}, "n/a"),
    ],
    "dropout_rates": [
        ({"dropout_0.1": runs(HIGHER), "dropout_0.2": runs(BASE), "dropout_0.3": runs(LOWER)}, "yes"),
        ({"dropout_0.1": runs(BASE), "dropout_0.2": runs(HIGHER), "dropout_0.3": runs(LOWER)}, "no"),
        ({"dropout_0.1": runs(OVERLAP), "dropout_0.2": runs(BASE), "dropout_0.3": runs(LOWER)}, "within noise"),
        ({"dropout_0.1": runs(BASE), "dropout_0.2": runs(ONE), "dropout_0.3": runs(LOWER)}, "within noise"),
        ({"dropout_0.1": runs(HIGHER), "dropout_0.2": runs(BASE)}, "n/a"),
    ],
    "augmentation": [
        ({U: runs(HIGHER), "aug_noise": runs(LOWER), "aug_shift": runs(BASE), "aug_rotation": runs(SLIGHTLY_HIGHER)},
         "yes"),
        ({U: runs(BASE), "aug_noise": runs(LOWER), "aug_shift": runs(OVERLAP), "aug_rotation": runs(HIGHER)},
         "partly"),
        ({U: runs(LOWER), "aug_noise": runs(HIGHER), "aug_shift": runs(HIGHER), "aug_rotation": runs(BASE)}, "no"),
        ({U: runs(BASE), "aug_noise": runs(OVERLAP), "aug_shift": runs(OVERLAP), "aug_rotation": runs(BASE)},
         "within noise"),
        ({U: runs(BASE), "aug_noise": runs(LOWER), "aug_shift": runs(LOWER)}, "n/a"),
    ],
    "early_stopping": [
        ({U: fits([0.085, 0.086, 0.087], BASE), "early_stopping": fits([0.030, 0.031, 0.032], BASE)}, "yes"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "early_stopping": fits([0.060, 0.061, 0.062], BASE)}, "partly"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "early_stopping": fits([0.030, 0.031, 0.032], LOWER)}, "no"),
        ({U: fits([0.085, 0.086, 0.087], BASE), "early_stopping": fits([0.07, 0.09, 0.10], BASE)}, "within noise"),
        ({"early_stopping": fits([0.030, 0.031, 0.032], BASE)}, "n/a"),
    ],
    "depth": [
        ({"depth-2": runs(HIGHER), "depth-3": runs(BASE), "depth-4": runs(BASE), "depth-5": runs(LOWER)}, "yes"),
        ({"depth-2": runs(BASE), "depth-3": runs(HIGHER), "depth-4": runs(BASE), "depth-5": runs(LOWER)}, "no"),
        ({"depth-2": runs([0.93, 0.94, 0.95]), "depth-3": runs([0.92, 0.945, 0.95]), "depth-4": runs(BASE),
          "depth-5": runs(LOWER)}, "within noise"),
        ({"depth-2": runs(HIGHER), "depth-3": runs(BASE), "depth-5": runs(LOWER)}, "n/a"),  # depth-4 did not run
    ],
    "optimizer": [
        ({"sgd-he_normal": runs([0.02, 0.021, 0.022]), "sgd-glorot_normal": runs(BASE),
          "adam-he_normal": runs(HIGHER), "rmsprop-he_normal": runs(HIGHER)}, "yes"),
        ({"sgd-he_normal": runs(BASE), "sgd-glorot_normal": runs(BASE),
          "adam-he_normal": runs(HIGHER), "rmsprop-he_normal": runs(HIGHER)}, "partly"),
        ({"sgd-he_normal": runs(BASE), "sgd-glorot_normal": runs(BASE),
          "adam-he_normal": runs(LOWER), "rmsprop-he_normal": runs(LOWER)}, "no"),
        ({"sgd-he_normal": runs([0.02]), "sgd-glorot_normal": runs([0.90]),
          "adam-he_normal": runs([0.93]), "rmsprop-he_normal": runs([0.93])}, "within noise"),
        ({"sgd-he_normal": runs(BASE), "sgd-glorot_normal": runs(BASE), "adam-he_normal": runs(HIGHER)}, "n/a"),
    ],
    "batch": [
        (batch(HIGHER, BASE, [0.89, 0.891, 0.892]), "yes"),
        (batch(HIGHER, BASE, [0.80, 0.801, 0.802]), "partly"),
        (batch(LOWER, BASE, [0.80, 0.801, 0.802]), "no"),
        (batch(OVERLAP, BASE, [0.89]), "within noise"),
        ({"batch-256": runs(HIGHER)}, "n/a"),
    ],
    "leaky_relu": [
        ({"activation-leaky_relu": [{"val_loss_rise": r, "val_loss_min_epoch": e}
                                    for r, e in ((0.3, 14), (0.31, 15), (0.32, 16))]}, "yes"),
        ({"activation-leaky_relu": [{"val_loss_rise": r, "val_loss_min_epoch": e}
                                    for r, e in ((0.3, 20), (0.31, 30), (0.32, 40))]}, "partly"),
        ({"activation-leaky_relu": [{"val_loss_rise": r, "val_loss_min_epoch": e}
                                    for r, e in ((0.01, 48), (0.011, 49), (0.012, 50))]}, "no"),
        ({"activation-leaky_relu": [{"val_loss_rise": 0.3, "val_loss_min_epoch": 14}]}, "within noise"),
        ({"activation-sigmoid": runs(BASE)}, "n/a"),
    ],
    "cf20_best": [
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf25=[0.0060, 0.0061, 0.0062], cf30=[0.0070, 0.0071, 0.0072]), "yes"),
        (mse(cf20=[0.0060, 0.0061, 0.0062], cf25=[0.0050, 0.0051, 0.0052], cf30=[0.0070, 0.0071, 0.0072]), "no"),
        (mse(cf20=[0.0050, 0.0055, 0.0060], cf25=[0.0052, 0.0056, 0.0061], cf30=[0.0070, 0.0071, 0.0072]),
         "within noise"),
        (mse(cf20=[0.0050], cf25=[0.0060], cf30=[0.0070]), "within noise"),  # one seed per factor
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf25=[0.0060, 0.0061, 0.0062]), "n/a"),  # cf 30 did not run
    ],
    "not_monotone": [
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf25=[0.0070, 0.0071, 0.0072], cf30=[0.0060, 0.0061, 0.0062]), "yes"),
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf25=[0.0060, 0.0061, 0.0062], cf30=[0.0070, 0.0071, 0.0072]), "no"),
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf25=[0.0060, 0.0058, 0.0062], cf30=[0.0055, 0.0062, 0.0066]),
         "within noise"),
        (mse(cf20=[0.0050], cf25=[0.0070], cf30=[0.0060]), "within noise"),
        (mse(cf20=[0.0050, 0.0051, 0.0052], cf30=[0.0070, 0.0071, 0.0072]), "n/a"),
    ],
    "latent_not_uniform": [
        ({"cf 20": runs([0.90, 0.91, 0.92], "latent_values_outside_unit_share")}, "yes"),
        ({"cf 20": runs([0.10, 0.11, 0.12], "latent_values_outside_unit_share")}, "partly"),
        ({"cf 20": runs([0.01, 0.011, 0.012], "latent_values_outside_unit_share")}, "no"),
        ({"cf 20": runs([0.90], "latent_values_outside_unit_share")}, "within noise"),
        ({"cf 25": runs([0.90, 0.91, 0.92], "latent_values_outside_unit_share")}, "n/a"),
    ],
    "gaussian_better": [
        (gen(row("uniform", 66, distinct=(27, 27, 27)), row("gaussian", 200, distinct=(40, 37, 43))), "yes"),
        (gen(row("uniform", 66, distinct=(38, 38, 38)), row("gaussian", 200, distinct=(40, 37, 43))), "partly"),
        (gen(row("uniform", 200, distinct=(40, 37, 43)), row("gaussian", 66, distinct=(27, 27, 27))), "no"),
        (gen(row("uniform", 100, distinct=(38, 38, 38)), row("gaussian", 105, distinct=(40, 37, 43))),
         "within noise"),
        (gen(row("uniform", 100, distinct=(27, 27, 27)), row("gaussian", 105, distinct=(40, 37, 43)),
             comparisons=[{"sampler": "uniform", "against": "gaussian", "measure": "distinct_numbers",
                           "difference": -13.0, "p_value": 0.3}]), "within noise"),  # the recorded test decides
        (gen(row("gaussian", 200)), "n/a"),
    ],
    "outside_1_50": [
        (gen(row("gaussian", 200, outside=(16, 0.05, 0.12)), row("real", 850, outside=(4, 0.002, 0.012),
                                                                   kind="real")), "yes"),
        (gen(row("gaussian", 200, outside=(0, 0.0, 0.002)), row("real", 850, outside=(9, 0.005, 0.02),
                                                                  kind="real")), "no"),
        (gen(row("gaussian", 200, outside=(2, 0.0, 0.03)), row("real", 850, outside=(4, 0.002, 0.012),
                                                                 kind="real")), "within noise"),
        (gen(row("gaussian", 200, outside=(16, 0.05, 0.12))), "n/a"),  # no real images scored
    ],
    "better_sampler": [
        (gen(row("gaussian", 200), row("gmm", 300), row("full-gaussian", 210)), "yes"),
        (gen(row("gaussian", 200), row("gmm", 100)), "no"),
        (gen(row("gaussian", 200), row("gmm", 205)), "within noise"),
        (gen(row("gaussian", 200), row("uniform", 60)), "n/a"),  # no sampler beyond the study's two
    ],
}
PARAMS = [pytest.param(key, samples, verdict, id=f"{key}-{verdict}-{i}")
          for key, cases in CASES.items() for i, (samples, verdict) in enumerate(cases)]


@pytest.mark.parametrize(("key", "samples", "verdict"), PARAMS)
def test_every_verdict_of_every_claim(key, samples, verdict):
    claim = judge(SPECS[key], samples, {})
    assert claim.verdict == verdict, (claim.ours, claim.why)
    assert claim.criterion and claim.why and claim.statement
    if verdict != "n/a":
        assert claim.n and all(n > 0 for n in claim.n.values())
    if verdict == "within noise" and "seeds" in claim.why:
        assert "fewer than 3 seeds" in claim.why


def test_the_cases_cover_every_claim_and_verdict():
    assert set(CASES) == set(SPECS)
    reached = {v for cases in CASES.values() for _, v in cases} | {"by construction"}
    assert reached == set(VERDICTS)


def test_compared_numbers_read_as_mean_std_n():
    claim = judge(SPECS["regularized_gain"], CASES["regularized_gain"][0][0], {})
    assert claim.ours == ("regularized 93.2 ± 0.2% (n=3) vs unregularized 90.2 ± 0.2% (n=3): +3.0 points")
    assert claim.why.startswith("p = ") and claim.n == {"regularized": 3, U: 3}
    one = judge(SPECS["regularized_gain"], {U: runs(BASE), "regularized": runs(ONE)}, {})
    assert one.verdict == "within noise" and one.why == "fewer than 3 seeds a side (1 v 3)"


def test_a_smaller_gap_from_underfitting_is_no_cure():
    claim = judge(SPECS["regularized_cure"], CASES["regularized_cure"][2][0], {})
    assert claim.verdict == "no" and "underfitting, not a cure" in claim.why
    assert "without" not in claim.criterion and "not lower beyond noise" in claim.criterion


@pytest.mark.parametrize(("preset", "key", "samples"), [
    (None, "class_imbalance", CASES["class_imbalance"][2][0]),  # always, even where the check alone says no
    ("study", "unregularized_val", CASES["unregularized_val"][0][0]),
    ("study", "unregularized_train", CASES["unregularized_train"][2][0]),
    ("faint", "unregularized_test", CASES["unregularized_test"][1][0]),
    ("faint", "unregularized_val", CASES["unregularized_val"][1][0]),
])
def test_calibration_targets_are_by_construction(preset, key, samples):
    claim = judge(SPECS[key], samples, by_construction(preset))
    assert claim.verdict == "by construction" and not claim.counted
    assert "not counted (the check alone:" in claim.why


def test_which_claims_each_preset_makes_by_construction():
    assert set(by_construction("study")) == {"class_imbalance", "unregularized_val", "unregularized_train"}
    assert set(by_construction("faint")) == {"class_imbalance", "unregularized_test", "unregularized_val"}
    assert set(by_construction("few-source-digits")) == set(by_construction(None)) == {"class_imbalance"}
    # test accuracy is a genuine check under the default preset; a claim with no runs stays n/a
    assert judge(SPECS["unregularized_test"], CASES["unregularized_test"][0][0], by_construction("study")).counted
    assert judge(SPECS["unregularized_val"], {}, by_construction("study")).verdict == "n/a"


@pytest.mark.parametrize(("parts", "verdict"), [
    (["yes", "yes"], "yes"), (["no", "no"], "no"), (["within noise"] * 2, "within noise"),
    (["yes", "no"], "partly"), (["yes", "within noise"], "partly"), (["partly"], "partly"),
    (["no", "within noise"], "no"), (["yes", "n/a"], "n/a"),
])
def test_combining_parts(parts, verdict):
    assert combine(parts) == verdict


def test_noise_tests():
    assert welch([0.9, 0.91, 0.92], [0.9]).p is None and welch([0.9, 0.91], []).diff is None
    assert welch(HIGHER, BASE).sign() == 1 and welch(LOWER, BASE).sign() == -1 and welch(OVERLAP, BASE).sign() == 0
    assert mean_interval([0.9, 0.9]) is None
    lo, hi = mean_interval(BASE)
    assert lo < 0.902 < hi
    assert gain_test(HIGHER, BASE)["verdict"] == "helps" and gain_test(ONE, BASE)["verdict"] == "n/a"


# --- the report on a folder of hand-written run files ---

SEEDS = (0, 1, 2)
CLASSIFIERS = {  # group -> test accuracy per seed
    "classifiers/unregularized": BASE, "classifiers/regularized": OVERLAP, "classifiers/challenger": HIGHER,
    **{f"ablations/{n}": LOWER for n in ("l1_1e-3", "l1_1e-4", "l1_1e-5", "l2_1e-5", "aug_noise", "aug_shift")},
    "ablations/aug_rotation": OVERLAP, "ablations/dropout_0.1": HIGHER, "ablations/dropout_0.2": BASE,
    "ablations/dropout_0.3": LOWER, "ablations/early_stopping": OVERLAP,
    **{f"sweeps/depth/depth-{d}": v for d, v in ((2, HIGHER), (3, BASE), (4, BASE), (5, LOWER))},
    **{f"sweeps/optimizer/{o}": v for o, v in (("sgd-glorot_normal", BASE), ("sgd-he_normal", [0.02, 0.021, 0.022]),
                                               ("rmsprop-glorot_normal", BASE), ("rmsprop-he_normal", HIGHER),
                                               ("adam-glorot_normal", BASE), ("adam-he_normal", HIGHER))},
    **{f"sweeps/batch/batch-{b}": (HIGHER if b == 256 else BASE) for b in (8, 32, 128, 256, 512)},
    "sweeps/activation/activation-sigmoid": BASE, "sweeps/activation/activation-leaky_relu": LOWER,
}
CLASSES = [17, 19, 30, 50]


def classifier_run(folder: Path, name: str, seed: int, test: float) -> None:
    val = test + 0.005
    train = min(0.999, val + (0.03 if name == "regularized" else 0.085))
    write_json(folder / "metrics.json", {
        "schema": 2, "name": name, "seed": seed, "test_accuracy": test, "best_val_accuracy": test + 0.01,
        "val_accuracy": val, "train_accuracy": train, "train_val_gap": train - val,
        "balanced_accuracy": test - 0.03, "epochs_run": 50, "n_params": 96660,
        "frequency_correlation": {"spearman_rho": 0.7 + 0.01 * seed}, "versions": {"keras": "3"}})
    counts = {(50, 30): 20 + seed if name == "unregularized" else 10 + seed, (19, 17): 3}
    lines = ["true\\predicted," + ",".join(map(str, CLASSES))]
    lines += [f"{t}," + ",".join(str(counts.get((t, p), 100 if t == p else 1)) for p in CLASSES) for t in CLASSES]
    write_text(folder / "confusion.csv", "\n".join(lines) + "\n")
    losses = [1.0 - 0.05 * e for e in range(15)] + [0.3 + 0.002 * e for e in range(35)]  # minimum at epoch 15
    write_text(folder / "history.csv", "epoch,loss,val_loss\n" + "".join(f"{e},{v},{v}\n"
                                                                         for e, v in enumerate(losses)))


def make_study_folder(root: Path) -> Path:
    """A reproduce folder of hand-written files: every step of the paper profile, three seeds, no training."""
    write_json(root / "profile.json", {"profile": {"name": "paper", "factors": list(FACTORS), "seeds": list(SEEDS),
                                                   "preset": "study"}, "jobs": 1, "multimnist_version": "0.2.0"})
    write_json(root / "steps.json", {"data": {"hash": "a", "seconds": 2.0}, "classifiers": {"hash": "b",
                                                                                         "seconds": 100.0}})
    write_json(root / "data" / "meta.json", {"generator": {"intensity": [0.8, 1.0], "jitter": 2, "plan": "study"},
                                             "seed": 0, "preset": "study"})
    train = {"counts": {"17": 130, "19": 2890, "30": 1671, "50": 1671}, "n_classes": 50, "total": 83550,
             "mean": 1671.0, "std": 1045.0, "min_class": 43, "min_count": 117, "max_class": 11, "max_count": 3112}
    write_json(root / "inspect" / "stats.json", {"train": train, "test": {**train, "total": 16710},
                                                 "hardness_measure": "ink overlap"})
    for group, tests in CLASSIFIERS.items():
        for seed, test in zip(SEEDS, tests, strict=True):
            classifier_run(root / group / f"seed-{seed}", group.rsplit("/", 1)[-1], seed, test)
    for f, base in zip(FACTORS, (0.0050, 0.0070, 0.0060), strict=True):
        for seed in SEEDS:
            write_json(root / "autoencoder" / "sweep" / f"cf-{f}" / f"seed-{seed}" / "metrics.json",
                       {"test_mse": base + 0.0001 * seed, "latent_size": round(1092 / f), "epochs_run": 20,
                        "latent_values_outside_unit_share": 0.9})
    write_json(root / "autoencoder" / "final" / "metrics.json", {"test_mse": 0.0054, "latent_size": 55,
                                                                 "epochs_run": 30,
                                                                 "latent_values_outside_unit_share": 0.91})
    write_json(root / "reader" / "metrics.json", {"tens_accuracy": 0.974, "units_accuracy": 0.972})
    rows = [row("uniform", 66, distinct=(27, 27, 27)), row("gaussian", 200, distinct=(40, 37, 43),
                                                          outside=(16, 0.05, 0.12)),
            row("gmm", 300, distinct=(45, 42, 48)), row("real", 850, distinct=(48, 46, 50), outside=(4, 0.002, 0.012),
                                                        kind="real")]
    write_json(root / "generation" / "scores.json", {"readable_threshold": 0.9, "n": 1000, "equal_n": 66,
                                                     "draws": 200, "interval": "95%", "rows": rows,
                                                     "histograms": {}})
    return root


@pytest.fixture
def study(tmp_path) -> Path:
    return make_study_folder(tmp_path / "run")


def _verdicts(folder: Path) -> dict[str, str]:
    return {c.key: c.verdict for c in study_claims(load_study(folder))}


def test_report_on_a_full_folder(study):
    report = write_report(study).with_suffix(".md").read_text()
    verdicts = _verdicts(study)
    assert verdicts["l2_worse"] == "yes" and verdicts["depth"] == "yes" and verdicts["cf20_best"] == "yes"
    assert verdicts["not_monotone"] == "yes" and verdicts["regularized_gain"] == "within noise"
    assert verdicts["pair_50_30"] == "yes" and verdicts["pair_19_17"] == "within noise"  # identical counts
    assert verdicts["unregularized_val"] == verdicts["unregularized_train"] == "by construction"
    assert "By construction: figures the data was made to match" in report
    assert "21 claims checked:" in report and "3 more hold by construction" in report
    assert "| unregularized | 3 | 90.2 ± 0.2 |" in report  # mean ± std over seeds, n
    assert "readable threshold 0.9" in report
    results = json.loads((study / "results.json").read_text(), parse_constant=_no_nan)
    assert results["verdicts"]["by construction"] == 3 and sum(results["verdicts"].values()) == 24
    assert results["classifiers"]["classifiers/unregularized"]["test_accuracy"]["n"] == 3


def _no_nan(name):
    raise AssertionError(f"results.json holds {name}")


def test_results_json_keeps_the_fixtures_shape(study):
    """tests/fixtures/results.json (made by write_report on this folder) has the keys a fresh report writes."""
    write_report(study)
    fresh = json.loads((study / "results.json").read_text())
    fixture = json.loads((FIXTURES / "results.json").read_text())
    assert set(fresh) == set(fixture)
    assert [c["key"] for c in fresh["claims"]] == [c["key"] for c in fixture["claims"]]
    assert set(fresh["claims"][0]) == set(fixture["claims"][0])


def test_deleting_an_ablations_runs_makes_its_claim_na(study):
    before = _verdicts(study)
    shutil.rmtree(study / "ablations" / "l2_1e-5")
    after = _verdicts(study)
    assert before["l2_worse"] == "yes" and after["l2_worse"] == "n/a"
    assert {k: v for k, v in after.items() if k != "l2_worse"} == {k: v for k, v in before.items() if k != "l2_worse"}
    shutil.rmtree(study / "ablations" / "dropout_0.1" / "seed-2")  # two seeds left: within noise, not a verdict
    assert _verdicts(study)["dropout_rates"] == "within noise"


def test_a_partial_side_sweep_is_reported(study):
    shutil.rmtree(study / "sweeps" / "depth" / "depth-4")
    shutil.rmtree(study / "sweeps" / "batch" / "batch-8" / "seed-1")
    (study / "sweeps" / "batch" / "batch-8" / "seed-2" / "metrics.json").unlink()  # unfinished: not a run yet
    report = write_report(study).with_suffix(".md").read_text()
    verdicts = _verdicts(study)
    assert verdicts["depth"] == "n/a" and verdicts["batch"] in ("within noise", "partly")
    assert "| depth-2 | 3 |" in report and "| batch-8 | 1 |" in report


def test_nothing_run_is_all_na(tmp_path):
    write_report(tmp_path)
    assert set(_verdicts(tmp_path).values()) == {"n/a"}
    assert "The data step has not run." in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(("path", "content"), [
    ("ablations/l1_1e-3/seed-0/metrics.json", "{not json"),
    ("classifiers/unregularized/seed-1/metrics.json", json.dumps({"test_accuracy": 0.9})),  # an older schema
    ("classifiers/regularized/seed-0/confusion.csv", "true\\predicted,17,19\n17,x,1\n"),
    ("sweeps/activation/activation-leaky_relu/seed-0/history.csv", "epoch,loss\n0,1.0\n"),
    ("autoencoder/sweep/cf-25/seed-1/metrics.json", "[]"),
    ("generation/scores.json", json.dumps({"n": 1000, "rows": []})),
    ("data/meta.json", ""),
    ("inspect/stats.json", json.dumps({"train": {}, "test": {}})),
    ("ablations/l2_1e-5/seed-2/metrics.json", json.dumps({k: "0.9" for k in ("test_accuracy", "best_val_accuracy",
                                                         "train_accuracy", "val_accuracy", "train_val_gap",
                                                         "epochs_run")})),
    ("regimes/regimes.json", json.dumps({"rows": [{"preset": "study"}], "presets": [], "seeds": [], "alpha": 0.05})),
])
def test_a_broken_file_is_one_error_naming_it(study, capsys, path, content):
    write_text(study / path, content)
    with pytest.raises(UserError, match=re.escape(str(study / path))):
        write_report(study)
    assert main(["report", str(study)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(study / path) in err
    assert not (study / "report.md").exists()


def test_claims_from_the_fixture_folder_are_finite():
    fixture = json.loads((FIXTURES / "results.json").read_text(), parse_constant=_no_nan)
    for c in fixture["claims"]:
        assert c["verdict"] in VERDICTS and c["criterion"] and c["n"] is not None
    assert not any(isinstance(v, float) and math.isnan(v) for v in fixture["steps"].values())

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
    curve_readings,
    digit_share,
    generation_samples,
    judge,
    study_claims,
    verdict_counts,
)
from multimnist.report.criteria import All, Effect, Level, Margin, NotLinear, NotMeasured, Quantity
from multimnist.report.results import load_study
from multimnist.report.study import write_report

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FACTORS = (20, 25, 30)
SPECS = {s.key: s for s in claim_specs(FACTORS)}

U = "unregularized"
BASE = [0.900, 0.902, 0.904]  # the unregularized network: mean 90.2, std 0.2
HIGHER = [0.930, 0.932, 0.934]  # +3 points, far beyond noise
LOWER = [0.870, 0.872, 0.874]
OVERLAP = [0.896, 0.904, 0.909]  # within noise of BASE


def runs(values, key="test_accuracy", **same) -> list[dict]:
    return [{key: v, **same} for v in values]


def around(mean: float, spread: float, n: int = 3) -> list[float]:
    """n values with this mean and sample std `spread` (n = 2: the same std from two values)."""
    if n == 2:
        return [mean - spread / 2 ** 0.5, mean + spread / 2 ** 0.5]
    return [mean - spread, mean, mean + spread]


# --- every verdict of every claim, from samples built for each of its tests ---
#
# `build(spec, modes)` fills samples so that the claim's tests (its leaves, in order) come out as `modes` says:
# each test sets the labels it reads that are not set yet, around a base value of its quantity. "yes" puts the
# estimate at the claimed effect (1.2x an "at least" one) with a tight spread, "no" at its opposite, "noise" halfway
# with a spread that holds zero and the claim but could detect it, "few" gives two seeds, "drop" leaves a label out.

BASES = {"test_accuracy": 0.90, "best_val_accuracy": 0.91, "val_accuracy": 0.905, "train_accuracy": 0.99,
         "train_val_gap": 0.08, "val_test_gap": 0.025, "test_loss": 0.4, "count": 20.0, "test_mse": 0.012,
         "plateau_epoch": 20.0, "val_drop_after_plateau": 0.005, "best_epoch": 20.0, "val_loss_rise": 0.05,
         "val_loss_min_epoch": 30.0, "readable_share": 0.2, "distinct_numbers": 30.0, "outside_1_50_share": 0.05,
         "digit_3_share": 0.1, "as_requested_share": 0.5,
         "latent_values_outside_unit_share": 0.5, "frequency_correlation.spearman_rho": 0.5}


def _put(samples: dict, label: str, key: str, values) -> None:
    """Set one quantity's values on a label's records (a dotted key nests)."""
    recs = samples.setdefault(label, [])
    while len(recs) < len(values):
        recs.append({})
    *outer, last = key.split(".")
    for i, rec in enumerate(recs):
        for part in outer:
            rec = rec.setdefault(part, {})
        if i < len(values):
            rec[last] = values[i]
        else:  # a record another test made: this quantity has fewer values
            rec.pop(last, None)


def _has(samples: dict, label: str, key: str) -> bool:
    return bool(samples.get(label)) and Quantity(key, "").values(samples[label]) != []


def _difference(leaf, mode: str, base: float) -> tuple[float, float, int]:
    """(difference, spread, seeds) of the computed side for an Effect or Margin test in `mode`."""
    if isinstance(leaf, Margin):
        m = leaf.margin * base if leaf.relative else leaf.margin
        return {"yes": (0.0, m / 20, 3), "no": (-4 * m, m / 20, 3), "noise": (-m, m / 10, 3),
                "few": (0.0, m / 20, 2)}[mode]
    c = leaf.effect * base if leaf.relative else leaf.effect
    target = c if leaf.kind == "size" else 1.2 * c
    return {"yes": (target, abs(c) / 40, 3), "no": (-c, abs(c) / 40, 3), "noise": (c / 2, abs(c) * 0.3, 3),
            "few": (target, abs(c) / 40, 2)}[mode]


def _fill(leaf, mode: str, samples: dict) -> None:
    if isinstance(leaf, (Effect, Margin)):
        key = leaf.q.key
        base = BASES[key]
        diff, spread, n = _difference(leaf, mode, base)
        tight = abs(diff or base) / 1000 + 1e-9
        if _has(samples, leaf.a, key) and not _has(samples, leaf.b, key):  # a is another test's: place b
            a = Quantity(key, "").values(samples[leaf.a])
            _put(samples, leaf.b, key, around(float(np.mean(a)) - diff, spread if n == 3 else tight, n))
            return
        if not _has(samples, leaf.b, key):
            _put(samples, leaf.b, key, around(base, tight))
        b = Quantity(key, "").values(samples[leaf.b])
        if not _has(samples, leaf.a, key):
            _put(samples, leaf.a, key, around(float(np.mean(b)) + diff, spread, n))
    elif isinstance(leaf, Level):
        lo, hi, key = leaf.lo, leaf.hi, leaf.q.key
        width = (hi - lo) if lo is not None and hi is not None else abs(lo if lo is not None else hi) or 1.0
        inside = (lo + hi) / 2 if lo is not None and hi is not None else (lo + width if lo is not None
                                                                          else hi - width)
        outside = (lo - 2 * width) if lo is not None else hi + 2 * width
        bound = lo if lo is not None else hi
        values = {"yes": around(inside, width / 100), "no": around(outside, width / 100),
                  "noise": around(bound, width / 20), "few": around(inside, width / 100, 2)}[mode]
        _put(samples, leaf.label, key, values)
    elif isinstance(leaf, NotLinear):
        xs = [float(lb.split()[-1]) for lb in leaf.labels()]
        m = leaf.margin
        for lb, x in zip(leaf.labels(), xs, strict=True):
            line = 0.012 + 0.0005 * (x - xs[0])
            mean = {"yes": line + (20 * m if x == xs[len(xs) // 2] else 0.0), "no": line, "noise": line,
                    "few": line}[mode]
            spread = {"yes": m / 20, "no": m / 20, "noise": 3 * m, "few": m / 20}[mode]
            _put(samples, lb, leaf.q.key, around(mean, spread, 2 if mode == "few" else 3))


def _labels(leaf) -> list[str]:
    if isinstance(leaf, (Effect, Margin)):
        return [leaf.a, leaf.b]
    return list(leaf.labels()) if isinstance(leaf, NotLinear) else [getattr(leaf, "label", "training set")]


def build(spec, modes) -> dict:
    leaves = spec.criterion.leaves() if isinstance(spec.criterion, All) else [spec.criterion]
    samples: dict = {}
    for leaf, mode in zip(leaves, modes, strict=False):
        if mode == "drop":
            continue
        _fill(leaf, mode, samples)
    if "drop" in modes:
        for label in _labels(leaves[list(modes).index("drop")]):
            samples.pop(label, None)
    return samples


def _leaf_count(spec) -> int:
    return len(spec.criterion.leaves()) if isinstance(spec.criterion, All) else 1


def _independent(spec) -> bool:
    return isinstance(spec.criterion, All) and spec.criterion.independent


def cases(spec) -> list[tuple[list[str], str]]:
    """(modes of its tests, the verdict they give) for every verdict the claim can reach."""
    k = _leaf_count(spec)
    out = [(["yes"] * k, "yes"), (["no"] + ["yes"] * (k - 1), "no"), (["few"] * k, "untestable"),
           (["drop"] + ["yes"] * (k - 1), "n/a")]
    if _independent(spec):
        out += [(["yes"] + ["few"] * (k - 1), "partly"), (["noise"] * k, "within noise")]
    elif k > 1:
        out += [(["noise"] + ["yes"] * (k - 1), "within noise")]
    else:
        out += [(["noise"], "within noise")]
    return out


OVERRIDES = {  # claims whose first part is a range of several tests: the generic patterns, with that range whole
    # (not_linear: seed noise wide enough to hold the line and the curve fails the power check: untestable)
    "not_linear": [(["yes"], "yes"), (["no"], "no"), (["few"], "untestable"), (["drop"], "n/a"),
                   (["noise"], "untestable")],
    "batch": [(["yes"] * 7, "yes"), (["no"] + ["yes"] * 6, "no"), (["few"] * 7, "untestable"),
              (["drop"] + ["yes"] * 6, "n/a"), (["yes"] * 4 + ["few"] * 3, "partly"),
              (["few"] * 4 + ["noise"] * 3, "within noise")],
}
def _params():
    out = []
    for key, spec in SPECS.items():
        if key == "class_imbalance" or isinstance(spec.criterion, NotMeasured):
            continue
        for modes, verdict in OVERRIDES.get(key, cases(spec)):
            out.append(pytest.param(key, modes, verdict, id=f"{key}-{verdict}"))
    return out


@pytest.mark.parametrize(("key", "modes", "verdict"), _params())
def test_every_verdict_of_every_claim(key, modes, verdict):
    spec = SPECS[key]
    claim = judge(spec, build(spec, modes), {})
    assert claim.verdict == verdict, (modes, claim.ours, claim.why)
    assert claim.criterion and claim.why and claim.statement
    if verdict != "n/a":
        assert claim.n and all(n > 0 for n in claim.n.values())


@pytest.mark.parametrize(("stats", "verdict"), [
    ({"mean": 1671.0, "std": 1045.0, "n_classes": 50}, "yes"),
    ({"mean": 167.1, "std": 104.5, "n_classes": 50}, "yes"),  # scaled down: the same ratio
    ({"mean": 1671.0, "std": 100.0, "n_classes": 50}, "no"),
    (None, "n/a"),
])
def test_class_imbalance(stats, verdict):
    samples = {"training set": [stats]} if stats else {}
    assert judge(SPECS["class_imbalance"], samples, {}).verdict == verdict


def test_the_cases_cover_every_claim_and_verdict():
    covered = {p.values[0] for p in _params()} | {"class_imbalance"} | {
        k for k, s in SPECS.items() if isinstance(s.criterion, NotMeasured)}
    assert covered == set(SPECS)
    reached = {p.values[2] for p in _params()} | {"by construction", "dependent"}
    assert reached == set(VERDICTS)


def test_compared_numbers_read_as_mean_std_n_with_the_interval_and_the_claim():
    claim = judge(SPECS["regularized_gain"], {U: runs(BASE), "regularized": runs(HIGHER)}, {})
    assert claim.ours.startswith("regularized 93.2 ± 0.2% (n=3) vs unregularized 90.2 ± 0.2% (n=3): +3.0 points [")
    assert claim.ours.endswith("claimed +3.0 points") and claim.verdict == "yes"
    assert claim.n == {"regularized": 3, U: 3}


def test_the_issues_examples():
    """Recomputed from the 0.2.0 paper run: the regularized +3 and augmentation's 86% are refuted, not within
    noise; L1 'even with low factors' is refuted where 1e-4 and 1e-5 beat no regularization."""
    reg = judge(SPECS["regularized_gain"], {U: runs([0.9012, 0.8985, 0.9010]), "regularized": runs(
        [0.8990, 0.8985, 0.8995])}, {})
    assert reg.verdict == "no"
    l1 = {U: runs([0.9012, 0.8985, 0.9010]), "l1_1e-3": runs([0.02, 0.08, 0.14]),
          "l1_1e-4": runs([0.907, 0.908, 0.906]), "l1_1e-5": runs([0.911, 0.915, 0.913])}
    assert judge(SPECS["l1_underfits"], l1, {}).verdict == "no"


@pytest.mark.parametrize(("preset", "key"), [
    (None, "class_imbalance"), ("study", "unregularized_val"), ("study", "unregularized_train"),
    ("faint", "unregularized_test"), ("faint", "unregularized_val"),
])
def test_calibration_targets_are_by_construction(preset, key):
    spec = SPECS[key]
    samples = ({"training set": [{"mean": 1671.0, "std": 1045.0, "n_classes": 50}]} if key == "class_imbalance"
               else build(spec, ["yes"]))
    claim = judge(spec, samples, by_construction(preset))
    assert claim.verdict == "by construction" and not claim.counted
    assert "not counted (the check alone: yes" in claim.why


@pytest.mark.parametrize(("preset", "key"), [
    (None, "class_imbalance"), ("study", "unregularized_val"), ("study", "unregularized_plateau"),
    ("faint", "unregularized_test"),
])
def test_a_missed_calibration_target_is_judged_and_counted(preset, key):
    """A figure the preset was calibrated to match but that the run misses is not "by construction": the data
    refute it, and it counts (the study preset's plateau: 23/20/23 epochs against the claimed 11-17)."""
    spec = SPECS[key]
    samples = ({"training set": [{"mean": 1671.0, "std": 100.0, "n_classes": 50}]} if key == "class_imbalance"
               else build(spec, ["no"] * _leaf_count(spec)))
    claim = judge(spec, samples, by_construction(preset))
    assert claim.verdict == "no" and claim.counted
    assert claim.why.startswith("a missed calibration target, judged and counted")
    assert verdict_counts([claim])["no"] == 1
    samples = {U: runs([23, 20, 23], "plateau_epoch", val_drop_after_plateau=0.005)}
    plateau = judge(SPECS["unregularized_plateau"], samples, by_construction("study"))
    assert plateau.verdict != "by construction" and plateau.counted


def test_faints_validation_test_gap_is_dependent():
    spec = SPECS["val_test_gap"]
    samples = build(spec, ["yes"])
    assert judge(spec, samples, by_construction("faint")).verdict == "dependent"  # calibrated on test and val
    assert judge(spec, samples, by_construction("study")).verdict == "yes"  # study: validation only


def test_sentences_no_run_measures_are_untestable_with_the_reason():
    for key in ("best_loss", "bce_sigmoid", "latent_not_normal"):
        claim = judge(SPECS[key], {}, {})
        assert claim.verdict == "untestable" and claim.why.startswith("untestable: ") and "no " in claim.why
    assert claim.counted


def test_regularized_cure_is_judged_on_fits_running_accuracy_with_the_other_reading_beside():
    """The study's Keras logged fit's running training-mode accuracy; under that reading the gap is about 0
    (issue 31: 90.36/90.28/90.39 vs 90.48/90.63/90.57), under the inference-mode one about +4 points."""
    records = [{"train_accuracy_running": r, "val_accuracy": v, "train_val_gap": g}
               for r, v, g in zip((0.9036, 0.9028, 0.9039), (0.9048, 0.9063, 0.9057), (0.040, 0.041, 0.039),
                                  strict=True)]
    for r in records:
        r["train_val_gap_running"] = r["train_accuracy_running"] - r["val_accuracy"]
    claim = judge(SPECS["regularized_cure"], {"regularized": records}, {})
    assert claim.verdict == "yes", claim.why
    assert claim.estimates[0]["value"] == pytest.approx(-0.22, abs=0.01)
    assert "beside it (not judged), train - validation gap (training accuracy in inference mode)" in claim.ours
    assert "(no by itself)" in claim.ours  # +4.0 points, beyond 2


def test_a_claim_reports_its_look_and_the_configurations_it_compares():
    claim = judge(SPECS["dropout_cure"], build(SPECS["dropout_cure"], ["yes", "yes"]), {})
    assert claim.configs == ("dropout_0.1", U)
    assert claim.sequential["status"] == "decided at look 1 (3 seeds a side)"
    assert judge(SPECS["pair_50_30"], {}, {}).configs == ("regularized", U)
    assert judge(SPECS["outside_1_50"], {}, {}).configs == ("autoencoder",)


def test_a_figure_that_follows_from_a_calibrated_one_is_dependent():
    spec = SPECS["unregularized_test"]
    samples = build(spec, ["yes"])
    assert judge(spec, samples, by_construction("study")).verdict == "dependent"
    assert judge(spec, samples, by_construction("faint")).verdict == "by construction"  # calibrated on test itself
    assert judge(spec, samples, by_construction("few-source-digits")).verdict == "yes"  # calibrated on neither
    assert not judge(spec, samples, by_construction("study")).counted


def test_which_claims_each_preset_makes_by_construction():
    assert set(by_construction("study")) == {"class_imbalance", "unregularized_val", "unregularized_train",
                                             "unregularized_plateau"}
    assert set(by_construction("faint")) == {"class_imbalance", "unregularized_test", "unregularized_val"}
    assert set(by_construction("few-source-digits")) == set(by_construction(None)) == {"class_imbalance"}
    assert judge(SPECS["unregularized_val"], {}, by_construction("study")).verdict == "n/a"


def test_the_projects_own_claims_are_apart_from_the_tally():
    beyond = [s for s in SPECS.values() if s.beyond]
    assert {s.key for s in beyond} == {"better_sampler", "challenger", "early_stopping_project",
                                       "sampler_near_ceiling", "numbers_on_request"}
    claim = judge(SPECS["challenger"], build(SPECS["challenger"], ["yes"]), {})
    assert claim.verdict == "yes" and not claim.counted
    assert verdict_counts([claim])["yes"] == 0


def test_curve_readings():
    va = [0.5, 0.8, 0.895, 0.903, 0.905, 0.91, 0.902, 0.908]  # best 0.91, within a point of it from epoch 4
    r = curve_readings({"val_accuracy": va, "val_loss": [1.0, 0.6, 0.5, 0.45, 0.5, 0.55, 0.6, 0.62]})
    assert r["plateau_epoch"] == 4 and r["val_drop_after_plateau"] == pytest.approx(0.008)
    assert r["val_loss_min_epoch"] == 4 and r["val_loss_rise"] == pytest.approx(0.62 / 0.45 - 1)
    assert curve_readings({}) == {}


def test_the_share_of_threes_counts_both_digits():
    h = [0] * 100
    h[33], h[13], h[45] = 2, 1, 1  # digits: 3,3 ×2, 1,3, 4,5 -> 5 threes of 8 digits
    assert digit_share(h, 3) == pytest.approx(5 / 8) and digit_share([0] * 100, 3) is None


def test_generation_samples_are_one_record_per_autoencoder_seed():
    histogram = [0] * 100
    histogram[33] = 4
    seed = {"rows": [{"sampler": "gaussian", "readable_share": 0.2}], "histograms": {"gaussian": histogram}}
    samples = generation_samples([seed, seed, seed])
    assert len(samples["gaussian"]) == 3 and samples["gaussian"][0]["digit_3_share"] == 1.0


def test_noise_tests():
    assert welch([0.9, 0.91, 0.92], [0.9]).p is None and welch([0.9, 0.91], []).diff is None
    assert welch(HIGHER, BASE).sign() == 1 and welch(LOWER, BASE).sign() == -1 and welch(OVERLAP, BASE).sign() == 0
    assert mean_interval([0.9, 0.9]) is None
    lo, hi = mean_interval(BASE)
    assert lo < 0.902 < hi
    assert gain_test(HIGHER, BASE)["verdict"] == "helps" and gain_test([0.95], BASE)["verdict"] == "n/a"


# --- the report on a folder of hand-written run files ---

SEEDS = (0, 1, 2)
CLASSIFIERS = {  # group -> test accuracy per seed
    "classifiers/unregularized": BASE, "classifiers/regularized": OVERLAP, "classifiers/challenger": HIGHER,
    **{f"ablations/{n}": LOWER for n in ("l1_1e-3", "l1_1e-4", "l1_1e-5", "l2_1e-5", "aug_noise", "aug_shift")},
    "ablations/l2_1e-4_lr1e-2": LOWER,
    "ablations/aug_rotation": OVERLAP, "ablations/dropout_0.1": HIGHER, "ablations/dropout_0.2": BASE,
    "ablations/dropout_0.3": LOWER, "ablations/early_stopping": OVERLAP,
    **{f"sweeps/depth/depth-{d}": v for d, v in ((2, HIGHER), (3, BASE), (4, BASE), (5, LOWER))},
    **{f"sweeps/optimizer/{o}": v for o, v in (("sgd-glorot_normal", BASE), ("sgd-he_normal", [0.02, 0.021, 0.022]),
                                               ("rmsprop-glorot_normal", BASE), ("rmsprop-he_normal", HIGHER),
                                               ("adam-glorot_normal", BASE), ("adam-he_normal", HIGHER))},
    **{f"sweeps/batch/batch-{b}": (HIGHER if b == 256 else BASE) for b in (8, 32, 128, 256, 512)},
    "sweeps/activation/activation-sigmoid": BASE, "sweeps/activation/activation-leaky_relu": LOWER,
}
CLASSES = [17, 19, 30, 34, 39, 50]


def classifier_run(folder: Path, name: str, seed: int, test: float) -> None:
    val = test + 0.005
    train = min(0.999, val + (0.03 if name == "regularized" else 0.085))
    write_json(folder / "metrics.json", {
        "schema": 2, "name": name, "seed": seed, "test_accuracy": test, "best_val_accuracy": test + 0.01,
        "val_accuracy": val, "train_accuracy": train, "train_val_gap": train - val, "test_loss": 0.4,
        "train_accuracy_running": train - 0.02 - 0.002 * seed,  # fit's running training-mode mean
        "balanced_accuracy": test - 0.03, "epochs_run": 50, "best_epoch": 19 + seed, "n_params": 96660,
        "frequency_correlation": {"spearman_rho": 0.7 + 0.01 * seed}, "versions": {"keras": "3"}})
    counts = {(50, 30): 20 + seed if name == "unregularized" else 10 + seed, (19, 17): 3, (34, 39): 12 + seed}
    lines = ["true\\predicted," + ",".join(map(str, CLASSES))]
    lines += [f"{t}," + ",".join(str(counts.get((t, p), 100 if t == p else 1)) for p in CLASSES) for t in CLASSES]
    write_text(folder / "confusion.csv", "\n".join(lines) + "\n")
    rise = 0.004 if "leaky" in name else 0.0005
    losses = [1.0 - 0.05 * e for e in range(15)] + [0.3 + rise * e for e in range(35)]  # minimum at epoch 15
    accs = [min(test + 0.01, 0.5 + 0.03 * e) + 0.0005 * seed for e in range(50)]
    write_text(folder / "history.csv", "epoch,loss,val_loss,val_accuracy\n" + "".join(
        f"{e},{v},{v},{a}\n" for e, (v, a) in enumerate(zip(losses, accs, strict=True))))


def score_row(sampler, readable, n=1000, distinct=30.0, outside=0, kind="sampler") -> dict:
    """A row of one autoencoder seed's scores.json."""
    return {"sampler": sampler, "kind": kind, "fitted": sampler, "n": n, "readable": readable,
            "readable_share": readable / n, "readable_share_ci": [readable / n - 0.02, readable / n + 0.02],
            "distinct_numbers": distinct, "distinct_numbers_ci": [distinct - 2, distinct + 2], "entropy_bits": 4.0,
            "entropy_bits_ci": [3.9, 4.1], "diversity_note": None, "outside_1_50": outside,
            "outside_1_50_share": outside / readable if readable else None, "outside_1_50_ci": [0.0, 0.1],
            "frechet_distance": 50.0, "nn_distance_mean": 0.2, "near_copy_share": 0.0, "top_numbers": "33:5"}


def scores(seed: int) -> dict:
    """One autoencoder seed's scores.json: the study's samplers, gmm, and the two controls."""
    rows = [score_row("uniform", 60 + seed, distinct=20 + seed),
            score_row("gaussian", 200 + 5 * seed, distinct=38 + seed, outside=30 + seed),
            score_row("gmm", 300 + 4 * seed, distinct=42 + seed),
            score_row("reconstruction", 700 + seed, distinct=45 + seed, outside=8 + seed, kind="reconstruction"),
            score_row("real", 850 + seed, distinct=48, outside=4, kind="real")]
    histograms = {}
    for r in rows:
        h = [0] * 100
        threes = r["readable"] - 10 * seed if r["sampler"] == "gaussian" else 0  # 33: two 3s; 12: none
        h[33], h[12] = threes, r["readable"] - threes
        histograms[r["sampler"]] = h
    return {"readable_threshold": 0.9, "n": 1000, "equal_n": 60, "draws": 200, "interval": "95%", "rows": rows,
            "histograms": histograms, "autoencoder_seed": seed}


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
    for seed in SEEDS:
        write_json(root / "autoencoder" / "final" / f"seed-{seed}" / "metrics.json",
                   {"test_mse": 0.0054 + 0.0001 * seed, "latent_size": 55, "epochs_run": 30, "seed": seed,
                    "test_bce": 0.15, "latent_values_outside_unit_share": 0.91})
        write_json(root / "generation" / f"seed-{seed}" / "scores.json", scores(seed))
    write_json(root / "reader" / "metrics.json", {"tens_accuracy": 0.974, "units_accuracy": 0.972})
    return root


@pytest.fixture
def study(tmp_path) -> Path:
    return make_study_folder(tmp_path / "run")


def _verdicts(folder: Path) -> dict[str, str]:
    return {c.key: c.verdict for c in study_claims(load_study(folder))}


def test_report_on_a_full_folder(study):
    report = write_report(study).with_suffix(".md").read_text()
    verdicts = _verdicts(study)
    assert verdicts["l1_underfits"] == "yes" and verdicts["depth"] == "yes" and verdicts["cf20_best"] == "yes"
    assert verdicts["not_linear"] == "yes" and verdicts["regularized_gain"] == "no"
    assert verdicts["pair_50_30"] == "no" and verdicts["confused_pairs"] == "no"  # 19->17: 3 of the 10 visible
    assert verdicts["unregularized_val"] == verdicts["unregularized_train"] == "by construction"
    assert verdicts["unregularized_test"] == "dependent"
    assert verdicts["outside_1_50"] == verdicts["many_threes"] == verdicts["better_sampler"] == "yes"
    assert "Not counted: figures the data was made to match" in report
    assert "Beyond the study: the project's own claims" in report
    assert "33 of the study's claims checked:" in report and "not counted: 3 by construction, 1 dependent" in report
    assert "| decided at look 1 (3 seeds a side) |" in report and "| undecided at the cap |" in report
    assert "| unregularized | 3 | 90.2 ± 0.2 |" in report  # mean ± std over seeds, n
    assert "| reconstruction | reconstruction | 3 |" in report  # the control row, over three autoencoder seeds
    assert "Holm-corrected" in report
    results = json.loads((study / "results.json").read_text(), parse_constant=_no_nan)
    assert results["verdicts"]["by construction"] == 3 and results["verdicts"]["dependent"] == 1
    assert sum(results["verdicts"].values()) == len(results["claims"]) - 5  # the project's five are apart
    assert results["classifiers"]["classifiers/unregularized"]["test_accuracy"]["n"] == 3
    assert results["generation"]["autoencoder_seeds"] == [0, 1, 2]
    gaussian = next(r for r in results["generation"]["rows"] if r["sampler"] == "gaussian")
    assert gaussian["readable_share"]["n"] == 3 and gaussian["readable"] == 200 + 205 + 210


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
    assert before["l2"] != "n/a" and after["l2"] == "n/a"
    assert {k: v for k, v in after.items() if k != "l2"} == {k: v for k, v in before.items() if k != "l2"}
    shutil.rmtree(study / "ablations" / "dropout_0.1" / "seed-2")  # two seeds left: no noise estimate
    assert _verdicts(study)["dropout_rates"] == "untestable"


def test_a_partial_side_sweep_is_reported(study):
    shutil.rmtree(study / "sweeps" / "depth" / "depth-4")
    shutil.rmtree(study / "sweeps" / "batch" / "batch-8" / "seed-1")
    (study / "sweeps" / "batch" / "batch-8" / "seed-2" / "metrics.json").unlink()  # unfinished: not a run yet
    report = write_report(study).with_suffix(".md").read_text()
    verdicts = _verdicts(study)
    assert verdicts["depth"] == "n/a" and verdicts["batch"] in ("untestable", "no", "partly")
    assert "| depth-2 | 3 |" in report and "| batch-8 | 1 |" in report


def test_nothing_run_is_all_na(tmp_path):
    write_report(tmp_path)
    measured = {k: v for k, v in _verdicts(tmp_path).items() if not isinstance(SPECS[k].criterion, NotMeasured)}
    assert set(measured.values()) == {"n/a"}
    assert "The data step has not run." in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(("path", "content"), [
    ("ablations/l1_1e-3/seed-0/metrics.json", "{not json"),
    ("classifiers/unregularized/seed-1/metrics.json", json.dumps({"test_accuracy": 0.9})),  # an older schema
    ("classifiers/regularized/seed-0/confusion.csv", "true\\predicted,17,19\n17,x,1\n"),
    ("sweeps/activation/activation-leaky_relu/seed-0/history.csv", "epoch,loss\n0,1.0\n"),
    ("autoencoder/final/seed-2/metrics.json", json.dumps({"test_mse": 0.01})),
    ("autoencoder/sweep/cf-25/seed-1/metrics.json", "[]"),
    ("generation/seed-1/scores.json", json.dumps({"n": 1000, "rows": []})),
    ("data/meta.json", ""),
    ("inspect/stats.json", json.dumps({"train": {}, "test": {}})),
    ("ablations/l2_1e-5/seed-2/metrics.json", json.dumps({k: "0.9" for k in ("test_accuracy", "best_val_accuracy",
                                                         "train_accuracy", "val_accuracy", "train_val_gap",
                                                         "epochs_run")})),
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


def test_every_claim_maps_to_a_sentence_of_the_study():
    """docs/claims.md maps the study's quantitative sentences to claims: every claim of the study has a row, every
    claim a row names exists, and the project's own claims are listed apart."""
    doc = (Path(__file__).parent.parent / "docs" / "claims.md").read_text()
    study_part, own_part = doc.split("## The project's own claims")
    named = set(re.findall(r"`([a-z0-9_]+)`", "\n".join(line.split("|")[3] for line in study_part.splitlines()
                                                          if line.startswith("| ") and line.count("|") >= 5)))
    study_keys = {k for k, s in SPECS.items() if not s.beyond}
    assert study_keys <= named, f"claims without a sentence: {study_keys - named}"
    assert named <= set(SPECS), f"rows naming no claim: {named - set(SPECS)}"
    assert {k for k, s in SPECS.items() if s.beyond} <= set(re.findall(r"`([a-z0-9_]+)`", own_part))


def test_the_configurations_that_need_more_seeds():
    """Judged at look 1 of 3/5/10: an overwhelming effect is decided, a claim still open names its
    configurations, once each, for the next look; at the cap nothing is asked for."""
    from multimnist.evaluation.sequential import Design
    from multimnist.report.claims import configs_needing_seeds

    design = Design()
    clear = {U: runs([0.900, 0.901, 0.899]), "regularized": runs([0.990, 0.991, 0.989])}  # +9 points
    open_ = {"dropout_0.1": runs([0.901, 0.906, 0.896], train_val_gap=0.05)}
    samples = {**clear, **open_}
    for r, gap in zip(samples[U], (0.080, 0.085, 0.09), strict=True):
        r["train_val_gap"] = gap
    claims = [judge(SPECS[k], samples, {}, design) for k in ("regularized_gain", "dropout_rates", "dropout_cure")]
    status = {c.key: c.sequential["status"] for c in claims}
    assert status["regularized_gain"] == "decided at look 1 (3 seeds a side)"
    assert status["dropout_cure"].startswith("open: more seeds (next look at 5")
    assert configs_needing_seeds(claims) == ["dropout_0.1", U]
    at_cap = [judge(SPECS["dropout_cure"], samples, {}, Design.fixed(3))]
    assert at_cap[0].sequential["status"] == "undecided at the cap" and configs_needing_seeds(at_cap) == []


# --- what a report says at its top, and what it never prints ---

def _report_text(study: Path) -> tuple[str, str]:
    html = write_report(study)
    return html.with_suffix(".md").read_text(), html.read_text()


def test_a_paper_report_says_its_numbering_follows_the_study_and_prints_no_none(study):
    md, html = _report_text(study)
    subtitle = md.splitlines()[2]
    assert subtitle.startswith("Reproduction of D. Bertoldi") and "smoke test" not in md
    assert "Section and figure numbers follow the study's." in subtitle
    assert "Class statistics (study figure 2; the study plan's counts were solved to match them)" in md
    assert not re.search(r"\bNone\b", md) and not re.search(r"\bNone\b", html)


def test_a_quick_report_says_first_that_it_is_a_smoke_test(study):
    profile = json.loads((study / "profile.json").read_text())
    profile["profile"].update(name="quick", train_size=8000, classifier_epochs=6, seeds=[0])
    write_json(study / "profile.json", profile)
    md, html = _report_text(study)
    assert md.splitlines()[2].startswith(
        "The quick profile is a smoke test: it runs every step of the study in minutes (8,000 training images, 6 "
        "epochs, 1 seed) to show the pipeline works, so its numbers are not the study's and most claims come out "
        "untestable or n/a. For the study's numbers run `multimnist reproduce --profile paper`. Reproduction of")
    assert '<p class="note">The quick profile is a smoke test' in html


def test_a_report_on_a_users_data_does_not_say_its_plan_was_solved_to_match(study):
    write_json(study / "data" / "meta.json", {"generator": {}, "preset": None, "seed": None, "labels": "number",
                                              "source": {"path": "/data/mine.npz", "files": {"mine.npz": "ab" * 32}}})
    md, _ = _report_text(study)
    assert "solved to match" not in md and "Class statistics (study figure 2; beside the study's)" in md
    write_json(study / "data" / "meta.json", {"generator": {"plan": "balanced"}, "preset": "study", "seed": 0})
    md, _ = _report_text(study)  # generated, but on another plan than the study's
    assert "solved to match" not in md and _verdicts(study)["class_imbalance"] not in ("by construction", "n/a")


def test_too_few_readable_images_to_count_numbers_on_is_said_in_words(study):
    for seed in SEEDS:
        write_json(study / "generation" / f"seed-{seed}" / "scores.json", {**scores(seed), "equal_n": None})
    md, html = _report_text(study)
    assert "every row of a seed: none on seed 0 (too few readable images), none on seed 1" in md
    assert not re.search(r"\bNone\b", md) and not re.search(r"\bNone\b", html)


def test_long_claim_cells_are_cut_with_the_whole_text_below_and_on_hover():
    from multimnist.report.html import LONG_CELL, Section, Table, render_html, render_markdown

    long = "; ".join(f"({i}) cf {20 + i} minus cf {21 + i}, test MSE; claimed -0.00030 (at least)" for i in range(12))
    table = Table(["claim", "criterion"], [["cf 20 is best", long], ["short", "fine"]], "Claims")
    md = render_markdown("T", "S", [Section("Claims", tables=[table])])
    html = render_html("T", "S", [Section("Claims", tables=[table])])
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(long) > LONG_CELL and max(len(cell) for r in rows for cell in r.split(" | ")) < 300
    assert rows[1].startswith("| cf 20 is best | (0) cf 20 minus cf 21") and rows[1].endswith("… [note 1] |")
    assert f"[note 1] criterion of 'cf 20 is best': {long}" in md
    assert f'title="{long}"' in html and f"[note 1] criterion of &#39;cf 20 is best&#39;: {long}" in html


def test_the_data_sentence_leaves_out_unset_knobs():
    from multimnist.report.results import data_text

    text = data_text({"kind": "preset", "preset": "study", "knobs": {"blend": "max", "offset_min": None,
                                                                     "train_distinct": None, "jitter": 2}, "seed": 0})
    assert text == "generator preset 'study' (blend max, jitter 2; data seed 0)"


def test_the_report_reads_the_seeds_the_run_trained_not_those_another_run_left(study):
    """profile.json records the seeds each configuration trained (the profile's lists, then those the looks added):
    seeds left in the folder by another run are not read; a folder recorded without them reads every seed."""
    for group in ("classifiers/unregularized", "classifiers/regularized"):
        for seed in (3, 4):
            classifier_run(study / group / f"seed-{seed}", group.rsplit("/", 1)[-1], seed, 0.5)
    write_json(study / "autoencoder" / "final" / "seed-3" / "metrics.json",
               {"test_mse": 0.9, "latent_size": 55, "epochs_run": 30})
    everything = load_study(study)  # written before profile.json recorded the seeds: every finished seed
    assert len(everything["runs"]["classifiers/unregularized"]) == 5 and len(everything["autoencoder"]) == 4
    lists = {k: list(SEEDS) for k in ("seeds", "ablation_seeds", "sweep_seeds", "autoencoder_seeds")}
    profile = json.loads((study / "profile.json").read_text())
    write_json(study / "profile.json", {**profile, "profile": {**profile["profile"], **lists},
                                        "more_seeds": {"unregularized": 4}})
    loaded = load_study(study)
    assert [len(loaded["runs"][f"classifiers/{g}"]) for g in ("unregularized", "regularized")] == [4, 3]
    assert loaded["dirs"]["classifiers/unregularized"][-1] == "classifiers/unregularized/seed-3"
    assert len(loaded["autoencoder"]) == 3 and len(loaded["generation"]) == 3
    assert {f: len(runs) for f, runs in loaded["compression"].items()} == dict.fromkeys(FACTORS, 3)
    only = load_study(study, seeds=lambda name: (0,))  # the seeds a look had, as the pipeline asks
    assert len(only["runs"]["classifiers/unregularized"]) == 1 and len(only["generation"]) == 1

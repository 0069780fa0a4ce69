"""The fidelity score on small synthetic histories: a curve shaped like the study's (memorizes, plateaus by
epoch 10 and stays there) scores better than one still rising at epoch 50 or one that falls after its
plateau, and each target passes or fails where it should."""

from __future__ import annotations

from multimnist.evaluation.fidelity import (
    BEST_VAL_TARGET,
    TARGETS,
    curves,
    describe,
    fidelity,
    summarize,
)

import numpy as np
import pytest

EPOCHS = np.arange(1, 51)


def study_like() -> dict:
    """Train accuracy to ~99.8%, val accuracy at its best by epoch ~10, val loss lowest at ~15 then +40%."""
    train = 1.0 - 0.5 * np.exp(-EPOCHS / 4) - 0.002
    val = 0.9175 - 0.3 * np.exp(-EPOCHS / 2.5) - 0.0002 * np.maximum(EPOCHS - 12, 0)
    loss = 0.3 + 2.0 * np.exp(-EPOCHS / 3) + 0.004 * np.maximum(EPOCHS - 12, 0)
    return {"accuracy": train.tolist(), "val_accuracy": val.tolist(), "val_loss": loss.tolist(),
            "loss": (1 - train).tolist()}


def falls_after_plateau() -> dict:
    """The study-like curve, but validation accuracy slides 2.5 points from epoch 20 to 50 (divergence)."""
    h = study_like()
    h["val_accuracy"] = [v - 0.025 * max(e - 20, 0) / 30 for e, v in zip(EPOCHS, h["val_accuracy"], strict=True)]
    return h


def still_rising() -> dict:
    """Ours on the faint data: 97% train, val accuracy still climbing at 48, val loss lowest at 50."""
    train = 0.97 - 0.6 * np.exp(-EPOCHS / 12)
    val = 0.915 - 0.35 * np.exp(-EPOCHS / 12)
    loss = 0.35 + 2.0 * np.exp(-EPOCHS / 12)
    return {"accuracy": train.tolist(), "val_accuracy": val.tolist(), "val_loss": loss.tolist()}


def by_name(result: dict) -> dict:
    return {t["name"]: t for t in result["targets"]}


def test_study_like_curve_meets_every_target_and_beats_a_rising_one():
    good, bad = fidelity(study_like()), fidelity(still_rising())
    assert good["passed"] == len(TARGETS) and good["score"] < 0.2
    assert bad["score"] > good["score"] + 3
    t = by_name(bad)
    assert not t["train_accuracy"]["passed"] and t["train_accuracy"]["value"] < 97.0
    assert not t["plateau_epoch"]["passed"] and t["plateau_epoch"]["value"] > 15
    assert t["val_stable"]["passed"] and t["val_stable"]["value"] == 0.0  # still rising: it never falls back
    assert t["best_val_accuracy"]["passed"]  # 90.9 is within a point of 91.5: only the shape fails


def test_each_target_reads_the_right_epoch():
    t = by_name(fidelity(study_like()))
    assert t["plateau_epoch"]["value"] <= 10
    assert t["val_stable"]["passed"] and t["val_stable"]["distance"] == 0.0  # slides 0.6 points: within 1
    assert t["best_val_accuracy"]["value"] == pytest.approx(BEST_VAL_TARGET, abs=0.2)


def test_a_curve_that_falls_after_its_plateau_fails_stability_only():
    good, bad = by_name(fidelity(study_like())), by_name(fidelity(falls_after_plateau()))
    # best 91.62 (epoch 16), last 88.49 (= 91.75 - 0.76 - 2.5): 2.13 points below (best - 1)
    assert not bad["val_stable"]["passed"] and bad["val_stable"]["value"] == pytest.approx(2.13, abs=0.01)
    assert bad["val_stable"]["distance"] == bad["val_stable"]["value"]
    assert all(bad[k]["passed"] for k in ("train_accuracy", "plateau_epoch", "best_val_accuracy"))
    assert fidelity(falls_after_plateau())["score"] == pytest.approx(
        fidelity(study_like())["score"] + bad["val_stable"]["distance"])
    assert bad["plateau_epoch"]["value"] == good["plateau_epoch"]["value"]


def test_validation_loss_is_not_a_target():
    """The study's rising validation loss describes LeakyReLU's divergence (section 3.1), not the sigmoid
    network: a loss that never rises scores the same as one that rises."""
    flat = study_like()
    flat["val_loss"] = sorted(flat["val_loss"], reverse=True)  # falling to the last epoch
    assert fidelity(flat)["score"] == pytest.approx(fidelity(study_like())["score"])
    assert {t.name for t in TARGETS} == {"train_accuracy", "plateau_epoch", "val_stable", "best_val_accuracy"}


def test_distances_grow_with_the_miss():
    h = study_like()
    best = max(h["val_accuracy"])
    h["val_accuracy"] = [v - best + 0.885 for v in h["val_accuracy"]]  # best val 88.5: 3 points off
    t = by_name(fidelity(h))
    assert not t["best_val_accuracy"]["passed"] and t["best_val_accuracy"]["distance"] == pytest.approx(3.0)
    dips = study_like()
    dips["val_accuracy"][30] -= 0.02  # one epoch 2 points lower: 1.x points below (best - 1)
    deeper = study_like()
    deeper["val_accuracy"][30] -= 0.04
    small, large = (by_name(fidelity(h))["val_stable"]["distance"] for h in (dips, deeper))
    assert 0.9 < small < 1.5 and large == pytest.approx(small + 2.0)


def test_evaluated_train_accuracy_replaces_the_running_average():
    h = still_rising()
    plain, evaluated = fidelity(h), fidelity(h, train_accuracy=0.995)
    assert "running average" in plain["train_accuracy_source"]
    assert "evaluated" in evaluated["train_accuracy_source"]
    assert by_name(evaluated)["train_accuracy"]["passed"] and evaluated["score"] < plain["score"]
    assert fidelity(h, train_accuracy=99.5)["score"] == pytest.approx(evaluated["score"])


def test_rows_and_columns_and_percent_give_the_same_score():
    h = study_like()
    rows = [dict(zip(h, values, strict=True)) for values in zip(*h.values(), strict=True)]
    pct = {k: [100 * v for v in vals] if "acc" in k else vals for k, vals in h.items()}
    assert fidelity(rows)["score"] == pytest.approx(fidelity(h)["score"])
    assert fidelity(pct)["score"] == pytest.approx(fidelity(h)["score"])


def test_missing_columns_are_refused():
    with pytest.raises(ValueError, match="val_loss"):
        curves({"accuracy": [0.5], "val_accuracy": [0.5]})
    with pytest.raises(ValueError, match="accuracy"):
        curves({"val_accuracy": [0.5], "val_loss": [1.0]})
    assert curves({"val_accuracy": [0.5], "val_loss": [1.0]}, train_accuracy=0.9)["train_accuracy"] == [90.0]


def test_summary_over_seeds_and_its_lines():
    runs = [fidelity(study_like()), fidelity(still_rising())]
    s = summarize(runs)
    assert s["n"] == 2 and s["score_mean"] == pytest.approx(np.mean([r["score"] for r in runs]))
    # the sample std (ddof 1), as everywhere in the project: |a - b| / sqrt(2) for two seeds
    assert s["score_std"] == pytest.approx(abs(runs[0]["score"] - runs[1]["score"]) / np.sqrt(2))
    plateau = [by_name(r)["plateau_epoch"]["value"] for r in runs]
    assert by_name(s)["plateau_epoch"]["value_std"] == pytest.approx(np.std(plateau, ddof=1))
    assert [t["name"] for t in s["targets"]] == [t.name for t in TARGETS]
    assert by_name(s)["train_accuracy"]["passed_share"] == 0.5
    lines = describe(s)
    assert len(lines) == len(TARGETS) + 1 and "1/2 pass" in lines[0] and lines[-1].startswith("score")


def test_one_seed_has_no_std():
    s = summarize([fidelity(study_like())])
    assert s["score_std"] is None and all(t["value_std"] is None for t in s["targets"])
    assert "+- ----" in describe(s)[0] and len(describe(s)) == len(TARGETS) + 1

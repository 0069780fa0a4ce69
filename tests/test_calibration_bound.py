"""scripts/calibration_bound.py: from a first-score table's means, a lower bound on today's mean score that
rescoring the same runs never undercuts, and meets where the dropped distances are exact and validation stays."""

from __future__ import annotations

from multimnist.evaluation.fidelity import fidelity

import numpy as np
import pytest
from conftest import load_script

EPOCHS = np.arange(1, 51)


@pytest.fixture(scope="module")
def cb():
    return load_script("calibration_bound")


def run(min_epoch: int, rise: float, slide: float = 0.0) -> dict:
    """A history whose validation loss is lowest at `min_epoch` and ends `rise` above it; validation accuracy
    slides `slide` points after epoch 20."""
    val = 0.915 - 0.3 * np.exp(-EPOCHS / 4) - slide / 100 * np.maximum(EPOCHS - 20, 0) / 30
    loss = 0.3 + (EPOCHS - min_epoch) ** 2 / (50 - min_epoch) ** 2 * 0.3 * rise
    train = 0.995 - 0.5 * np.exp(-EPOCHS / 4)
    return {"accuracy": train.tolist(), "val_accuracy": val.tolist(), "val_loss": loss.tolist()}


def first_score(h: dict) -> tuple[float, int, float]:
    """The first score of a run: today's without val_stable, plus the two dropped targets' distances (their
    formulas as they were)."""
    epoch = int(np.argmin(h["val_loss"])) + 1
    rise = 100 * (h["val_loss"][-1] / min(h["val_loss"]) - 1)
    dropped = max(0, epoch - 20) / 10 + max(0.0, 10 - rise) / 10
    kept = sum(t["distance"] for t in fidelity(h)["targets"] if t["name"] != "val_stable")
    return kept + dropped, epoch, rise


def row(histories: list[dict]) -> dict:
    firsts = [first_score(h) for h in histories]
    return {"score_mean": np.mean([f[0] for f in firsts]),
            "min_val_loss_epoch_mean": np.mean([f[1] for f in firsts]),
            "min_val_loss_epoch_passed": np.mean([f[1] <= 20 for f in firsts]),
            "val_loss_rise_mean": np.mean([f[2] for f in firsts]),
            "val_loss_rise_passed": np.mean([f[2] >= 10 for f in firsts])}


def today(histories: list[dict]) -> float:
    return float(np.mean([fidelity(h)["score"] for h in histories]))


def test_exact_where_every_seed_missed_both_dropped_targets_and_validation_stays(cb):
    seeds = [run(30, 0.05), run(35, 0.07), run(32, 0.06)]
    low, exact = cb.bound(row(seeds))
    assert exact and low == pytest.approx(today(seeds))


def test_a_bound_when_validation_slides_or_some_seeds_met_the_rise(cb):
    sliding = [run(30, 0.05, slide=2.5), run(35, 0.07, slide=2.5), run(32, 0.06)]
    low, exact = cb.bound(row(sliding))
    assert exact and low < today(sliding) - 0.5  # val_stable adds what the bound cannot know
    mixed = [run(30, 0.15), run(35, 0.12), run(32, 0.04)]  # two seeds met the rise
    low, exact = cb.bound(row(mixed))
    assert not exact and low <= today(mixed)

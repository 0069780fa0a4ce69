"""Classification metrics: confusion matrix, per-class and balanced accuracy, confused pairs and their change,
and the rank correlation of per-class accuracy with class frequency."""

from __future__ import annotations

from multimnist.evaluation.classification import (
    balanced_accuracy,
    classification_summary,
    confusion,
    frequency_correlation,
    pair_changes,
    per_class_accuracy,
    top_confused_pairs,
)

import numpy as np
from sklearn.metrics import balanced_accuracy_score

CLASSES = (17, 19, 30, 50)


def test_confusion_rows_are_true_columns_predicted():
    cm = confusion([50, 50, 50, 19, 17], [30, 50, 30, 17, 17], CLASSES)
    assert cm.shape == (4, 4)
    assert cm[3, 2] == 2 and cm[3, 3] == 1 and cm[1, 0] == 1 and cm[0, 0] == 1
    assert cm.sum() == 5


def test_per_class_and_balanced_accuracy_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=300, p=[0.1, 0.2, 0.3, 0.4])
    pred = np.where(rng.uniform(size=300) < 0.7, y, rng.choice(CLASSES, size=300))
    cm = confusion(y, pred, CLASSES)
    acc = per_class_accuracy(cm)
    for i, c in enumerate(CLASSES):
        assert np.isclose(acc[i], np.mean(pred[y == c] == c))
    assert np.isclose(balanced_accuracy(cm), balanced_accuracy_score(y, pred))


def test_absent_class_has_nan_accuracy_and_is_left_out_of_the_balance():
    cm = confusion([17, 17, 19], [17, 19, 19], CLASSES)
    acc = per_class_accuracy(cm)
    assert np.isnan(acc[2]) and np.isnan(acc[3])
    assert np.isclose(balanced_accuracy(cm), (0.5 + 1.0) / 2)


def test_top_confused_pairs_largest_first_without_the_diagonal():
    cm = np.array([[9, 0, 0, 0], [7, 5, 0, 0], [0, 0, 50, 1], [0, 0, 10, 3]])
    pairs = top_confused_pairs(cm, CLASSES, k=5)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [(50, 30, 10), (19, 17, 7), (30, 50, 1)]
    assert np.isclose(pairs[0]["share"], 10 / 13)


def test_pair_changes_reproduce_the_studys_arithmetic():
    before = np.zeros((4, 4), int)
    after = np.zeros((4, 4), int)
    before[3, 2], after[3, 2] = 100, 72  # 50 -> 30: -28%
    before[1, 0], after[1, 0] = 20, 6  # 19 -> 17: -70%
    rows = pair_changes(before, after, CLASSES)
    assert [(r["true"], r["predicted"]) for r in rows] == [(50, 30), (19, 17)]
    assert np.isclose(rows[0]["change"], -0.28) and np.isclose(rows[1]["change"], -0.70)
    named = pair_changes(before, after, CLASSES, pairs=[(17, 30)])
    assert named[0]["before"] == 0 and np.isnan(named[0]["change"])


def test_frequency_correlation_sees_rare_classes_confused_most():
    counts = np.array([100, 200, 400, 800, 1600])
    r = frequency_correlation(np.array([0.5, 0.6, 0.8, 0.9, 0.95]), counts)
    assert np.isclose(r["spearman_rho"], 1.0) and r["n_classes"] == 5
    r = frequency_correlation(np.array([0.5, np.nan, 0.8, 0.9, 0.95]), counts)
    assert r["n_classes"] == 4


def test_summary_is_plain_data_in_class_order():
    s = classification_summary([17, 19, 30, 50], [17, 19, 30, 30], CLASSES, [5, 6, 7, 8])
    assert s["test_accuracy"] == 0.75 and s["per_class_accuracy"] == [1.0, 1.0, 1.0, 0.0]
    assert s["confused_pairs"][0] == {"true": 50, "predicted": 30, "count": 1, "share": 1.0}


def test_frequency_correlation_of_balanced_classes_is_undefined_without_a_warning(recwarn):
    """Balanced classes (data make --plan balanced, or a user's data) give one count for all: no rank correlation,
    and no SciPy warning with a source path on the user's screen."""
    r = frequency_correlation(np.array([0.5, 0.6, 0.8]), np.array([10, 10, 10]))
    assert np.isnan(r["spearman_rho"]) and np.isnan(r["p_value"]) and r["n_classes"] == 3
    assert np.isnan(frequency_correlation(np.array([1.0, 1.0, 1.0]), np.array([1, 2, 3]))["spearman_rho"])
    assert not recwarn.list

"""Classification metrics from true and predicted labels: the confusion matrix and what the study reads off it.

Section 3.3 names the most confused pairs (50 -> 30, 19 -> 17, 34 -> 39) and blames the rare classes;
section 4.4 reports how much two of those pairs dropped after regularization. These functions measure all
of that: per-class accuracy, balanced accuracy, the top confused pairs, their change between two runs, and
the rank correlation of per-class accuracy with class frequency.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def confusion(y_true, y_pred, classes) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class, in the order of `classes`."""
    # Imported here: the report reads confusion matrices from files through this module and needs only the
    # [report] extra (scipy), not scikit-learn ([train]).
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=list(classes))


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class (diagonal / row sum); NaN for a class absent from the true labels."""
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean per-class accuracy over the classes present (scikit-learn's balanced_accuracy_score)."""
    return float(np.nanmean(per_class_accuracy(cm)))


def top_confused_pairs(cm: np.ndarray, classes, k: int = 10) -> list[dict]:
    """The k largest off-diagonal counts as [{true, predicted, count, share}], largest first.

    `share` is the fraction of the true class's test samples that went to `predicted`.
    """
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:k]
    rows, cols = np.unravel_index(flat, off.shape)
    totals = cm.sum(axis=1)
    return [{"true": int(classes[r]), "predicted": int(classes[c]), "count": int(off[r, c]),
             "share": float(off[r, c] / totals[r]) if totals[r] else float("nan")}
            for r, c in zip(rows, cols, strict=True) if off[r, c] > 0]


def pair_changes(cm_before: np.ndarray, cm_after: np.ndarray, classes, pairs=None, k: int = 10) -> list[dict]:
    """How each confused pair's count changed between two runs (the study: 50 -> 30 down 28%).

    `pairs` are (true, predicted) labels; by default the top k pairs of `cm_before`.
    Returns [{true, predicted, before, after, change}] with change = (after - before) / before (NaN if 0).
    """
    index = {int(c): i for i, c in enumerate(classes)}
    if pairs is None:
        pairs = [(p["true"], p["predicted"]) for p in top_confused_pairs(cm_before, classes, k)]
    rows = []
    for true, pred in pairs:
        r, c = index[int(true)], index[int(pred)]
        before, after = int(cm_before[r, c]), int(cm_after[r, c])
        rows.append({"true": int(true), "predicted": int(pred), "before": before, "after": after,
                     "change": (after - before) / before if before else float("nan")})
    return rows


def frequency_correlation(accuracy: np.ndarray, train_counts: np.ndarray) -> dict:
    """Spearman rank correlation of per-class accuracy with training-set class frequency.

    A clearly positive rho supports the study's claim that rare classes are confused most.
    """
    ok = np.isfinite(accuracy)
    counts, accuracy = np.asarray(train_counts)[ok], np.asarray(accuracy)[ok]
    if len(np.unique(counts)) < 2 or len(np.unique(accuracy)) < 2:  # balanced classes, or one accuracy for all:
        return {"spearman_rho": float("nan"), "p_value": float("nan"), "n_classes": int(ok.sum())}  # undefined
    rho, p = stats.spearmanr(counts, accuracy)
    return {"spearman_rho": float(rho), "p_value": float(p), "n_classes": int(ok.sum())}


def classification_summary(y_true, y_pred, classes, train_counts, k: int = 10) -> dict:
    """Everything above for one test set, as plain data for metrics.json (labels, not indices)."""
    cm = confusion(y_true, y_pred, classes)
    acc = per_class_accuracy(cm)
    return {
        "confusion": cm,
        "test_accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "balanced_accuracy": balanced_accuracy(cm),
        "per_class_accuracy": [None if np.isnan(a) else float(a) for a in acc],  # in the order of `classes`
        "confused_pairs": top_confused_pairs(cm, classes, k),
        "frequency_correlation": frequency_correlation(acc, train_counts),
    }

"""Tables over finished run folders: mean +- std over seeds, with the study's numbers beside ours.

Runs are grouped by their config name (metrics.json "name"); every seed of a name is one sample. Train and
validation accuracy are read at the epoch whose weights the run kept (the last one, or the best one when
early stopping restored it), which is how the study reports "val 93%, train 94%" for its regularized network.
"""

from __future__ import annotations

import csv
from pathlib import Path

from multimnist.errors import UserError
from multimnist.evaluation.classification import pair_changes, top_confused_pairs
from multimnist.files import write_text
from multimnist.formatting import change, csv_text, pm
from multimnist.layout import METRICS, read_metrics
from multimnist.paper import ACCURACY, CONFUSED_PAIRS

import numpy as np

COLUMNS = (  # (metrics.json key, table header)
    ("test_accuracy", "test acc"),
    ("best_val_accuracy", "best val acc"),
    ("train_accuracy", "train acc"),
    ("train_val_gap", "train - val gap"),
    ("balanced_accuracy", "balanced test acc"),
)


def find_runs(paths) -> list[Path]:
    """Finished run folders: each path is one (it holds metrics.json) or a folder searched for them."""
    runs = []
    for p in map(Path, paths):
        if (p / METRICS).is_file():
            runs.append(p)
            continue
        found = sorted(m.parent for m in p.glob(f"**/{METRICS}")) if p.is_dir() else []
        if not found:
            raise UserError(f"no finished run (metrics.json) in {p}")
        runs += found
    return list(dict.fromkeys(runs))


def compare_runs(run_dirs, out) -> list[dict]:
    """Write OUT/compare.csv and OUT/compare.md; returns the rows, one per config name, in first-seen order."""
    groups: dict[str, list[dict]] = {}
    for run in find_runs(run_dirs):
        metrics = read_metrics(run)
        groups.setdefault(metrics.get("name") or run.parent.name, []).append(metrics)
    rows = []
    for name, runs in groups.items():
        row = {"name": name, "n_seeds": len(runs), "seeds": " ".join(str(m.get("seed")) for m in runs),
               "n_params": runs[0].get("n_params"), "epochs_run": float(np.mean([m["epochs_run"] for m in runs]))}
        for key, _ in COLUMNS:
            values = np.array([m[key] for m in runs if m.get(key) is not None], dtype=float)
            row[f"{key}_mean"] = float(values.mean()) if len(values) else None
            row[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else None
        for key, value in ACCURACY.get(name, {}).items():
            row[f"study_{key}_accuracy"] = value
        rows.append(row)
    out = Path(out)
    write_text(out / "compare.csv", csv_text(rows))
    write_text(out / "compare.md", _markdown(rows))
    return rows


def confused_pair_change(before, after, out=None, top: int = 10) -> list[dict]:
    """How the top confused pairs of `before` (plus the study's named pairs) changed in `after`.

    `before` and `after` are run folders or folders of seeds; the test confusion matrices of a folder's
    runs are summed. Writes OUT/pair_change.csv and .md when `out` is given.
    """
    (classes, cm_a), (classes_b, cm_b) = _summed_confusion(before), _summed_confusion(after)
    if classes != classes_b:
        raise UserError(f"{before} and {after} were trained on different classes")
    pairs = [(p["true"], p["predicted"]) for p in top_confused_pairs(cm_a, classes, top)]
    pairs += [p for p in CONFUSED_PAIRS if p not in pairs and set(p) <= set(classes)]
    rows = pair_changes(cm_a, cm_b, classes, pairs)
    if out is not None:
        header = ["true", "predicted", "before", "after", "change"]
        write_text(Path(out) / "pair_change.csv", csv_text([{k: r[k] for k in header} for r in rows]))
        lines = [f"Confused pairs, test counts summed over each side's runs: {before} -> {after}", "",
                 "| true -> predicted | before | after | change |", "|---|---:|---:|---:|"]
        lines += [f"| {r['true']} -> {r['predicted']} | {r['before']} | {r['after']} | "
                  f"{change(r['change'])} |" for r in rows]
        write_text(Path(out) / "pair_change.md", "\n".join(lines) + "\n")
    return rows


def _summed_confusion(path) -> tuple[list[int], np.ndarray]:
    total, classes = None, None
    for run in find_runs([path]):
        with open(run / "confusion.csv", newline="") as f:
            rows = list(csv.reader(f))
        run_classes = [int(c) for c in rows[0][1:]]
        cm = np.array([[int(v) for v in r[1:]] for r in rows[1:]], dtype=np.int64)
        if classes is not None and run_classes != classes:
            raise UserError(f"runs under {path} have different classes")
        classes, total = run_classes, cm if total is None else total + cm
    return classes, total


def _markdown(rows: list[dict]) -> str:
    headers = ["config", "seeds", *(h for _, h in COLUMNS), "study val / test / train"]
    lines = ["Accuracy in %, mean ± std over seeds (– : one seed). Train and validation accuracy are read at the",
             "epoch whose weights the run kept; the gap is train minus validation accuracy there.", "",
             "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        study = " / ".join(f"{100 * r[f'study_{k}_accuracy']:.1f}" if f"study_{k}_accuracy" in r else "–"
                           for k in ("val", "test", "train"))
        cells = [r["name"], str(r["n_seeds"]), *(pm(r[f"{k}_mean"], r[f"{k}_std"]) for k, _ in COLUMNS), study]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

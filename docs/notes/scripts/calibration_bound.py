"""Lower bounds on each setting's score under today's targets, from the committed tables of the first search
(docs/notes/calibration.md, "The rescore"): those tables hold per-setting means only, no histories.

A run's score is the sum of its targets' distances, so today's score is the first score minus the distances of
the two dropped targets (`min_val_loss_epoch`, `val_loss_rise`) plus `val_stable`'s (>= 0). Where every seed
missed both dropped targets, their mean distances follow from the means in the table ((epoch - 20) / 10 and
(10% - rise) / 10%), and first score - those is a lower bound on today's mean score, exact when validation
never fell below (best - 1) after its plateau. Where some seeds met `val_loss_rise`, its mean distance is at
most (share failing) x 1, which still gives a bound.

    python docs/notes/scripts/calibration_bound.py docs/notes/calibration/search-seeds-100-102.json \
        docs/notes/calibration/bright-round.csv
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

MIN_LOSS_DEADLINE, LOSS_RISE_MIN = 20, 10.0  # the first score's thresholds (epoch, %)


def rows(path: Path) -> list[dict]:
    if path.suffix == ".json":
        return json.loads(path.read_text())["rows"]
    with open(path, newline="") as f:
        return [{k: float(v) if k.endswith(("_mean", "_std", "_passed")) else v for k, v in r.items()}
                for r in csv.DictReader(f)]


def bound(row: dict) -> tuple[float, bool]:
    """(lower bound on today's mean score, whether the dropped distances are exact)."""
    loss = max(0.0, row["min_val_loss_epoch_mean"] - MIN_LOSS_DEADLINE) / 10
    exact = row["min_val_loss_epoch_passed"] == 0 and row["val_loss_rise_passed"] == 0
    if exact:
        rise = (LOSS_RISE_MIN - row["val_loss_rise_mean"]) / LOSS_RISE_MIN
    else:  # some seeds met the rise: each failing seed's distance is at most 1
        rise = 1.0 - row["val_loss_rise_passed"]
    if row["min_val_loss_epoch_passed"] != 0:
        loss = row["min_val_loss_epoch_mean"] / 10  # an upper bound on the loss distance, whatever the seeds
    return row["score_mean"] - loss - rise, exact


def main(paths: list[str]) -> int:
    table = {}
    for path in paths:
        for r in rows(Path(path)):
            table.setdefault(r["label"], (r, *bound(r)))  # a setting in several files: the first
    print("| setting | first score | today's score >= | dropped distances |")
    print("|---|---|---|---|")
    for r, low, exact in sorted(table.values(), key=lambda t: t[1]):
        print(f"| {r['label']} | {r['score_mean']:.2f} | {low:.2f} | {'exact' if exact else 'bounded'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

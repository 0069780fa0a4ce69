"""Class plans: how many images of each number a dataset holds.

`study` reproduces the study's imbalanced histogram (figure 2; the table and how it was made are in
plans/study.yaml), `balanced` gives every class the same count, and a user's YAML or JSON file gives
its own table (a mapping `counts: {label: count}` or the mapping itself).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from multimnist.errors import UserError

import numpy as np
import yaml

STUDY_CLASSES = tuple(range(1, 51))


def load_plan(spec: str, classes: tuple[int, ...] | None = None) -> dict[int, int]:
    """Resolve a plan name or file into {label: train count} (sorted by label)."""
    if spec == "study":
        text = (resources.files("multimnist.data") / "plans" / "study.yaml").read_text()
        plan = _parse(yaml.safe_load(text), "study plan")
        if classes is not None and tuple(classes) != STUDY_CLASSES:
            raise UserError("the study plan covers classes 1..50; use --plan balanced or a file for other classes")
        return plan
    if spec == "balanced":
        classes = tuple(classes) if classes is not None else STUDY_CLASSES
        return {c: 1671 for c in classes}
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"--plan must be 'study', 'balanced' or a YAML/JSON file; {spec!r} is none of them")
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise UserError(f"cannot read plan {path}: {e}") from None
    plan = _parse(data, str(path))
    if classes is not None and set(plan) != set(classes):
        raise UserError(f"plan {path} covers classes {sorted(plan)}, not the requested {list(classes)}")
    return plan


def _parse(data, where: str) -> dict[int, int]:
    if isinstance(data, dict) and "counts" in data:
        data = data["counts"]
    if not isinstance(data, dict) or not data:
        raise UserError(f"{where}: expected a mapping of label -> count")
    plan = {}
    for key, value in data.items():
        try:
            label, count = int(key), int(value)
        except (TypeError, ValueError):
            raise UserError(f"{where}: {key!r}: {value!r} is not an integer label and count") from None
        if not 0 <= label <= 99:
            raise UserError(f"{where}: label {label} is outside 0..99 (two digits)")
        if count < 1:
            raise UserError(f"{where}: class {label} has count {count}; every class needs at least 1")
        plan[label] = count
    return dict(sorted(plan.items()))


def scale_plan(plan: dict[int, int], total: int) -> dict[int, int]:
    """Scale the counts to sum to `total`, keeping proportions (largest remainder) and at least 1 per class."""
    if total < len(plan):
        raise UserError(f"{total} images cannot hold {len(plan)} classes (at least one each)")
    labels = list(plan)
    w = np.array([plan[c] for c in labels], dtype=float)
    exact = w / w.sum() * total
    counts = np.maximum(np.floor(exact).astype(int), 1)
    remainder = total - counts.sum()
    # Classes raised to the minimum of one already hold more than their share: they get no remainder.
    order = np.argsort(-np.where(exact < 1, -1.0, exact - np.floor(exact)), kind="stable")
    if remainder > 0:
        counts[order[:remainder]] += 1
    while counts.sum() > total:  # only when the minimum of 1 pushed us over
        counts[np.argmax(counts)] -= 1
    return dict(zip(labels, counts.tolist(), strict=True))


def plan_stats(counts: dict[int, int]) -> dict:
    """Per-class counts with the summary the study quotes (mean, std, the rarest and commonest classes)."""
    labels = np.array(list(counts))
    values = np.array(list(counts.values()))
    return {
        "counts": {int(k): int(v) for k, v in counts.items()},
        "n_classes": len(values),
        "total": int(values.sum()),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min_class": int(labels[np.argmin(values)]),
        "min_count": int(values.min()),
        "max_class": int(labels[np.argmax(values)]),
        "max_count": int(values.max()),
    }

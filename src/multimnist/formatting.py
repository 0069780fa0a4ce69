"""How numbers look in tables, logs and reports: one place, so every table says it the same way."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

MISSING = "–"  # shown where a number is absent (not run, one seed for a std, ...)


def is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and not math.isfinite(v))


def pct(v, digits: int = 1) -> str:
    """A share as a percentage: 0.905 -> '90.5%'."""
    return MISSING if is_missing(v) else f"{100 * v:.{digits}f}%"


def mean_std(values, scale: float = 100.0, digits: int = 1) -> str:
    """Mean ± std (ddof 1) of `values` times `scale`; the bare value for one value; '–' for none."""
    values = np.asarray([v for v in values if not is_missing(v)], dtype=float)
    if not len(values):
        return MISSING
    if len(values) == 1:
        return f"{scale * values[0]:.{digits}f}"
    return f"{scale * values.mean():.{digits}f} ± {scale * values.std(ddof=1):.{digits}f}"


def pm(mean, std, scale: float = 100.0, digits: int = 1) -> str:
    """A mean and its std already computed: '90.3 ± 0.2', '90.3 ± –' without a std."""
    if is_missing(mean):
        return MISSING
    spread = MISSING if is_missing(std) else f"{scale * std:.{digits}f}"
    return f"{scale * mean:.{digits}f} ± {spread}"


def change(v) -> str:
    """A relative change: -0.28 -> '-28%'."""
    return "n/a" if is_missing(v) else f"{100 * v:+.0f}%"


def csv_cell(v) -> str:
    """A value as CSV writes it: floats to 6 significant digits, missing as empty."""
    if is_missing(v):
        return ""
    return f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)


def csv_text(rows) -> str:
    """CSV text from rows: lists of cells, or dicts (the header is the union of their keys)."""
    rows = list(rows)
    buf = io.StringIO()
    if rows and isinstance(rows[0], dict):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
    else:
        csv.writer(buf, lineterminator="\n").writerows([[csv_cell(v) for v in r] for r in rows])
    return buf.getvalue()


def duration(seconds: float) -> str:
    """'1h02m' or '3m05s'."""
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"

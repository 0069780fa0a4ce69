"""The whole pipeline in one call: the study's steps (`experiments.study`), then the report on the files they wrote."""

from __future__ import annotations

from pathlib import Path

from multimnist.experiments.study import Profile, run_study
from multimnist.report.study import write_report


def reproduce(out: str | Path, profile: str | Profile = "quick", **options) -> Path:
    """Run every step of the study not already finished with the same inputs, then write report.html, report.md
    and results.json into OUT; returns OUT. `options`: those of `experiments.study.run_study` (seeds, n_jobs,
    executor, pack, preset, data)."""
    return run_study(out, profile, report=write_report, **options)

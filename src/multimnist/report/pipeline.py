"""The whole pipeline in one call: the study's steps (`experiments.study`), seeds until each claim is decided, then the
report on the files they wrote.

With a profile that has a sequential design (`max_seeds`, the paper profile's 10), the steps first train the
profile's seeds; then the claims are judged at that look (report/claims.py, at the levels evaluation/sequential.py
gives each look), and every configuration an open claim compares trains up to the next look's seeds (5, then 10), its
finished trainings kept; until no claim is open or the cap is reached. Each look is a rerun of the steps with more
seeds for some configurations, so an interrupted run resumes where it stopped and a finished one reruns nothing:
a look whose steps all finished with the same inputs is replayed from the files, reading the seeds that look had
of each configuration and no later ones (the same files, the same decisions). `looks.json` records them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from functools import partial
from pathlib import Path

from multimnist.experiments.study import (
    Profile,
    finished_before,
    load_profile,
    networks,
    run_study,
    study_configurations,
)
from multimnist.files import write_json
from multimnist.layout import configuration_seeds
from multimnist.report.claims import configs_needing_seeds, study_claims, study_design
from multimnist.report.results import load_study
from multimnist.report.study import write_report

log = logging.getLogger(__name__)

LOOKS = "looks.json"


def reproduce(out: str | Path, profile: str | Profile = "quick", **options) -> Path:
    """Run every step of the study not already finished with the same inputs, seeds until decided where the
    profile has a sequential design, then write report.html, report.md and results.json into OUT; returns OUT.
    `options`: those of `experiments.study.run_study` (seeds, n_jobs, executor, pack, preset, data)."""
    out = Path(out)
    spec = load_profile(profile).with_seeds(options.get("seeds"))
    if not spec.max_seeds or len(spec.seeds) >= spec.max_seeds:  # a fixed design: one look, the report with it
        return run_study(out, profile, report=write_report, **options)
    more = seeds_until_decided(out, profile, **options)
    return run_study(out, profile, report=write_report, more_seeds=more, **options)


def seeds_until_decided(out: Path, profile: str | Profile, **options) -> dict[str, int]:
    """Train the study's steps look by look (see the module docstring); returns the seeds each configuration
    ended with beyond the profile's ({} for a fixed design, or when the first look decides every claim)."""
    more: dict[str, int] = {}
    looks: list[dict] = []
    spec = load_profile(profile).with_seeds(options.get("seeds"))
    trainable = study_configurations(spec)
    log.info("seeds until decided: a first look on %d seeds a side, then more seeds (up to %d) for the "
             "configurations of the claims it leaves open; the time left is the current look's", len(spec.seeds),
             spec.max_seeds)
    look = 0
    while True:
        if not finished_before(out, profile, more_seeds=more, **options):  # else a look replayed from its files
            run_study(out, profile, more_seeds=more, **options)
        loaded = load_study(out, seeds=partial(configuration_seeds, asdict(spec), more))
        design = study_design(loaded)
        if design is None:
            break
        claims = study_claims(loaded)
        wanted = configs_needing_seeds(claims)
        record = {"look": look + 1, "seeds": design.looks[look], "networks": networks(spec, more),
                  "open": [c.key for c in claims if _is_open(c)], "more_seeds": {}}
        looks.append(record)
        if wanted and look + 1 < len(design.looks):
            n = design.looks[look + 1]
            untrainable = [c for c in wanted if c not in trainable]
            if untrainable:
                log.warning("look %d: no step trains %s; the claims comparing them stay open", look + 1,
                            ", ".join(untrainable))
            record["more_seeds"] = {c: n for c in wanted if c in trainable and more.get(c, 0) < n}
        more.update(record["more_seeds"])
        write_json(out / LOOKS, {"design": design.describe(), "looks": looks, "more_seeds": more})  # look by look
        if not record["more_seeds"]:
            break
        log.info("look %d (%d seeds a side): %d claim(s) open; %d configuration(s) to %d seeds: %s", look + 1,
                 design.looks[look], len(record["open"]), len(record["more_seeds"]), design.looks[look + 1],
                 ", ".join(record["more_seeds"]))
        look += 1
    return more


def _is_open(claim) -> bool:
    return str(claim.sequential.get("status", "")).startswith("open")

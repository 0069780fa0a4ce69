"""docs/results/timings.json: how long the README's commands take, as medians of recorded runs, each figure the sum
of a run's step seconds (its steps.json, written by `multimnist reproduce`), never a number typed by hand.

    python benchmarks/timings.py                      # rebuild from the committed digests and the kept records
    python benchmarks/timings.py --add runs/quick     # record a finished local run of this machine, then rebuild
    python benchmarks/timings.py --check              # exit 1 if timings.json is not what the inputs make

Two kinds of record: the paper-profile runs whose digests are committed (docs/results/runs/PRESET/steps.json,
from `multimnist reproduce --profile paper --preset PRESET --jobs 2`), read again on every rebuild; and runs added
with --add (any profile), kept in timings.json's "records" with the machine and load they were measured on.
`make timings` runs the first form and renders the README's table (`python -m multimnist.report.readme`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

from multimnist.layout import step_seconds

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "results" / "timings.json"
DIGESTS = ROOT / "docs" / "results" / "runs"
# The digests do not record their machine; the runs' own documentation does (docs/notes/scaling.md).
DIGEST_MACHINE = "2-core CPU, the development machine, shared with other work part of the time"
JOBS = 2  # the Makefile's: a row counts only runs with the jobs its command passes
COMMANDS = {"quick": ("make reproduce PROFILE=quick", "the quick profile (a smoke test: every step on small data, "
                                                      "one seed), --jobs 2"),
            "paper": ("make reproduce", "the paper profile (the study's settings) on one preset, --jobs 2")}
NOTE = ("Each run's figure is the sum of its steps' seconds (its steps.json, every look of the sequential design "
        "counted), so start-up and the first install "
        "are not in it; load: the machine's 5-minute load average when a run was recorded (on 2 cores, above 2 "
        "means other work shared them). Rendered from `docs/results/timings.json` (`make timings`, "
        "`benchmarks/timings.py`).")


def run_record(run: Path, machine: str, source: str, load: float | None = None) -> dict:
    """One run's record: its profile, preset, version and step seconds, from its steps.json and profile.json."""
    steps = json.loads((run / "steps.json").read_text())
    profile = json.loads((run / "profile.json").read_text())
    return {"source": source, "profile": profile["profile"]["name"], "preset": profile["profile"].get("preset"),
            "version": profile.get("multimnist_version"), "jobs": profile.get("jobs"),
            "seconds": round(sum(step_seconds(s) for s in steps.values()), 1), "machine": machine, "load": load}


def this_machine() -> tuple[str, float | None]:
    """This machine in words (its CPU count and model) and its load over the 5 minutes before the record."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    load = round(os.getloadavg()[1], 1) if hasattr(os, "getloadavg") else None
    return f"{os.cpu_count()}-core CPU ({model})", load


def build(records: list[dict]) -> dict:
    """timings.json from the committed digests and the added records: the records, and a row per command with the
    median, range and count of its runs' seconds."""
    digests = [run_record(d, DIGEST_MACHINE, str(d.relative_to(ROOT)) + "/steps.json")
               for d in sorted(DIGESTS.iterdir()) if (d / "steps.json").is_file()]
    rows = []
    for profile, (command, what) in COMMANDS.items():
        runs = [r for r in digests + records if r["profile"] == profile and r["jobs"] == JOBS]
        if not runs:
            continue
        seconds = [r["seconds"] for r in runs]
        machines = "; ".join(sorted({r["machine"] for r in runs}))
        loads = [r["load"] for r in runs if r["load"] is not None]
        if loads:
            machines += f", load {min(loads)}" + (f" to {max(loads)}" if max(loads) > min(loads) else "")
        versions = ", ".join(sorted({str(r["version"]) for r in runs}))
        rows.append({"command": command, "what": f"{what}; multimnist {versions}", "n": len(runs),
                     "median_seconds": statistics.median(seconds),
                     "min_seconds": min(seconds), "max_seconds": max(seconds),
                     "machine": machines, "sources": [r["source"] for r in runs]})
    return {"note": NOTE, "rows": rows, "digests": digests, "records": records}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--add", type=Path, action="append", default=[], metavar="RUN",
                        help="a finished `multimnist reproduce` folder run on this machine, recorded")
    parser.add_argument("--check", action="store_true", help="exit 1 if timings.json differs; write nothing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    records = list(old.get("records", []))
    for run in args.add:
        if not (run / "steps.json").is_file():
            sys.stderr.write(f"error: {run} holds no steps.json (not a finished `multimnist reproduce` folder)\n")
            return 2
        machine, load = this_machine()
        records.append(run_record(run, machine, f"{run.name}/steps.json, added with --add", load))
    text = json.dumps(build(records), indent=2) + "\n"
    if args.check:
        return 0 if args.out.is_file() and args.out.read_text() == text else 1
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

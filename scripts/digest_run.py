"""Copy what `multimnist report --across` reads from a finished reproduce folder into a small folder to commit.

    python scripts/digest_run.py RUN DEST

A paper-profile run takes hours on 2 cores (about 4 for the study preset) and its folder weighs hundreds of MB
(models, figures), so the claims-by-regime matrix is built from digests, one per regime, committed under
docs/results/runs/ as each run finishes (possibly on different days and machines):

    DEST/results.json, report.md, profile.json   the run's claims table, its report and its settings
    DEST/steps.json                              each step's hash and wall seconds (the summaries left out)
    DEST/looks.json                              the sequential design's looks (claims open, seeds added), if any
    DEST/{classifiers,ablations}/CONFIG/seed-S/{config.yaml,metrics.json,history.csv}
                                                 the regularizers' runs the regime view reads (report/regimes.py)
    DEST/generation/SAMPLER-asked.png            one image of each number asked of the claims' sampler on the
                                                 first autoencoder seed (the README's figure of numbers on request)

`multimnist report --across DEST_A DEST_B ... --out DIR` then works on the digests as on the run folders.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from multimnist.errors import UserError
from multimnist.figures.png import one_per_number_figure
from multimnist.files import atomic_path, write_json
from multimnist.layout import HISTORY, METRICS
from multimnist.report.claims import BEST_SAMPLER
from multimnist.report.pipeline import LOOKS
from multimnist.report.regimes import CONFIGS, config_folders

import numpy as np

TOP = ("results.json", "report.md", "profile.json")
PER_SEED = ("config.yaml", METRICS, HISTORY)


def _copy(source: Path, target: Path) -> Path:
    with atomic_path(target) as tmp:  # a killed copy leaves no half file under the real name
        shutil.copyfile(source, tmp)
    return target


def digest(run: Path, dest: Path) -> list[Path]:
    missing = [name for name in (*TOP, "steps.json") if not (run / name).is_file()]
    if missing:
        raise SystemExit(f"error: {run} is not a finished reproduce folder: no {', '.join(missing)}")
    folders = config_folders(run)
    if folders is None:
        raise SystemExit(f"error: {run} lacks one of the regime view's configs ({', '.join(CONFIGS)})")
    dest.mkdir(parents=True, exist_ok=True)
    written = [_copy(run / name, dest / name) for name in TOP]
    steps = json.loads((run / "steps.json").read_text())
    write_json(dest / "steps.json", {step: {k: v for k, v in entry.items() if k != "summary"}
                                     for step, entry in steps.items()})
    written.append(dest / "steps.json")
    if (run / LOOKS).is_file():
        written.append(_copy(run / LOOKS, dest / LOOKS))
    for folder in folders.values():
        for seed in sorted(folder.glob("seed-*")):
            target = dest / folder.relative_to(run) / seed.name
            target.mkdir(parents=True, exist_ok=True)
            written += [_copy(seed / name, target / name) for name in PER_SEED]
    seeds = sorted((run / "generation").glob("seed-*"), key=lambda p: int(p.name.split("-")[1]))
    if seeds and (seeds[0] / f"{BEST_SAMPLER}.npz").is_file():
        figure = asked_figure(seeds[0], dest / "generation" / f"{BEST_SAMPLER}-asked.png")
        written += [figure] if figure else []
    return written


def asked_figure(scored: Path, path: Path) -> Path | None:
    """One image of each number asked of the claims' sampler (its images as the generation step scored them),
    asked>read: the README's figure of numbers on request. None for a sampler that was asked no numbers."""
    with np.load(scored / f"{BEST_SAMPLER}.npz", allow_pickle=False) as f:
        if "asked" not in f.files:
            return None
        images, asked, read, readable = f["images"], f["asked"], f["numbers"], f["readable"]
    path.parent.mkdir(parents=True, exist_ok=True)
    return one_per_number_figure(images, asked, read, readable, path,
                                 f"{BEST_SAMPLER}, autoencoder {scored.name}: the first image asked of each number "
                                 "(asked>read, ? = not confident)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished `multimnist reproduce --out` folder")
    parser.add_argument("dest", type=Path, help="the digest folder to write (e.g. docs/results/runs/study)")
    args = parser.parse_args(argv)
    try:
        written = digest(args.run, args.dest)
    except UserError as error:  # a full disk, a folder not writable: one line, not a traceback
        raise SystemExit(f"error: {error}") from None
    size = sum(p.stat().st_size for p in written)
    print(f"{args.dest}: {len(written)} files, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

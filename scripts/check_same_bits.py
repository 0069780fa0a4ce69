"""Does the working tree still train a finished run's networks to the same bytes? Retrain some, compare files.

RUN is a finished `multimnist reproduce` folder (its data in RUN/data). Each GROUP is a glob of run folders under
RUN trained together, as one step of the pipeline trained them (one `experiments.runs.run` call, which packs them
as the pipeline does): classifiers anywhere, autoencoders under autoencoder/ (the compression sweep's or the final
ones); `--reader` adds the reader. Each network is retrained from its config.yaml into the same place under OUT,
then the files its kind writes for numbers (history.csv; a classifier's confusion.csv and confused_pairs.csv; an
autoencoder's encodings.npz) are compared byte for byte where RUN has them, and its metrics.json key by key
(seconds and the data's path aside). Prints a line per network; exits 1 if any differs. A check for a change that
should not move any figure (a refactor of the trainer or of the run protocol, a new option).

    python scripts/check_same_bits.py runs/paper-faint /tmp/same 'ablations/dropout_0.*/seed-*' \\
        'classifiers/regularized/seed-*' 'autoencoder/final/seed-*' --reader
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from multimnist.experiments import runs
from multimnist.experiments.autoencoder import AUTOENCODER
from multimnist.experiments.classifier import CLASSIFIER
from multimnist.experiments.reader import train_reader

FILES = ("history.csv", "confusion.csv", "confused_pairs.csv", "encodings.npz")
IGNORED = {"seconds_per_epoch", "epoch_seconds", "checkpoint_seconds"}


def differences(kept: Path, new: Path) -> list[str]:
    """What differs between a kept run folder and its retrained twin: file names, then metrics.json keys."""
    out = [f for f in FILES if (kept / f).is_file() and (kept / f).read_bytes() != (new / f).read_bytes()]
    a, b = (json.loads((p / "metrics.json").read_text()) for p in (kept, new))
    a.get("data", {}).pop("path", None), b.get("data", {}).pop("path", None)
    return out + [f"metrics.json:{k}" for k in sorted(set(a) | set(b)) if k not in IGNORED and a.get(k) != b.get(k)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("groups", nargs="*", help="globs of run folders under RUN, one group each (one kind)")
    parser.add_argument("--reader", action="store_true", help="retrain the reader too")
    args = parser.parse_args()
    checked = []
    for pattern in args.groups:
        found = sorted(p.relative_to(args.run) for p in args.run.glob(pattern) if (p / "config.yaml").is_file())
        if not found:
            sys.exit(f"check_same_bits: no run folder matches {pattern!r} under {args.run}")
        start = time.time()
        kind = AUTOENCODER if found[0].parts[0] == "autoencoder" else CLASSIFIER
        runs.run(kind, [kind.reload(args.run / r / "config.yaml") for r in found], str(args.run / "data"),
                 [args.out / r for r in found])
        print(f"{pattern}: {len(found)} networks retrained in {time.time() - start:.0f} s", flush=True)
        checked += found
    if args.reader:
        start = time.time()
        train_reader(args.out / "reader", config=str(args.run / "reader" / "config.yaml"), seed=None)
        print(f"reader retrained in {time.time() - start:.0f} s", flush=True)
        checked.append(Path("reader"))
    differing = 0
    for r in checked:
        diff = differences(args.run / r, args.out / r)
        differing += bool(diff)
        print(f"{r}: {'same bytes' if not diff else 'differs: ' + ', '.join(diff)}")
    print(f"{len(checked) - differing} of {len(checked)} networks retrained to the same bytes")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()

"""`multimnist data make|inspect|download|export`: generate a dataset, draw its figures, fetch MNIST, export it.

`data make` and `data export` need only the core install: nothing here imports Keras, JAX or matplotlib at module level.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from multimnist.cli.options import RANGE_HELP, add_out, command, dataset, group, offer, parse_range, whole
from multimnist.data.config import PRESETS, preset_help

log = logging.getLogger(__name__)


def add_commands(subparsers) -> None:
    data = group(subparsers, "data", "make, inspect, download or export data", dest="data_command")

    make = command(data, "make", "generate a Multi-MNIST dataset (train.npz, test.npz, meta.json)")
    add_out(make, "folder to write")
    make.add_argument("--seed", type=whole("--seed"), default=0,
                      help="the dataset is a pure function of this seed (default 0)")
    make.add_argument("--mnist", type=Path, help="your MNIST: a folder of IDX files or a Keras mnist.npz "
                      "(default: the copy inside the package)")
    make.add_argument("--download", action="store_true",
                      help="first download the IDX files from a public mirror into --mnist (or ~/.cache/multimnist)")
    offer(make.add_argument("--preset", default=None,
                            help=f"generator preset: {preset_help()}; `multimnist docs calibration` says how they "
                                 "were chosen"), PRESETS)
    make.add_argument("--plan", default="study", help="study (default), balanced, or a YAML/JSON file of counts")
    make.add_argument("--train-size", type=whole("--train-size", 1), help="scale the plan to this many training images")
    make.add_argument("--classes", help=f"with --plan balanced only: its classes ({RANGE_HELP}; default 1..50, "
                      "at most 0..99); the study plan and plan files fix their own")
    make.add_argument("--intensity", type=float, nargs=2, metavar=("LOW", "HIGH"),
                      help="range of each digit's brightness (default: the preset's)")
    make.add_argument("--blend", choices=("max", "sum", "alpha"), help="how overlapping ink combines (default max)")
    make.add_argument("--force", action="store_true",
                      help="replace a dataset already in --out that was made with other settings (without it: "
                           "refused; a dataset of the same settings, seed and MNIST is kept as it is)")
    make.set_defaults(run=_make)

    inspect = command(data, "inspect", "sample grid, class histogram, hard samples and stats.json of a dataset "
                      "(needs the [report] extra)")
    inspect.add_argument("--data", type=dataset, required=True, help="dataset folder or .npz")
    add_out(inspect, "folder for the figures and stats.json")
    inspect.add_argument("--mnist", type=Path, help="the MNIST the dataset was made from, if not the vendored one")
    inspect.set_defaults(run=_inspect, extra="report")

    download = command(data, "download", "download MNIST's IDX files, checked against known hashes")
    add_out(download, "folder for the four .gz files")
    download.add_argument("--mirror", help="base URL holding the four .gz files (default: a public mirror)")
    download.set_defaults(run=_download)

    export = command(data, "export", "write a dataset as PNGs in class folders or as Hugging Face Parquet files")
    export.add_argument("--data", type=dataset, required=True, help="dataset folder (from `data make`) or .npz")
    export.add_argument("--format", required=True, choices=("imagefolder", "parquet"),
                        help="imagefolder: OUT/{train,test}/<two-digit number>/<index>.png (torchvision ImageFolder, "
                             "Keras image_dataset_from_directory, Hugging Face imagefolder); parquet: "
                             "OUT/data/{train,test}-00000-of-00001.parquet in the Hugging Face image layout "
                             "(needs the [parquet] extra); both with a README.md dataset card")
    add_out(export, "folder to write (must be empty unless --force)")
    export.add_argument("--force", action="store_true",
                        help="export into a folder that is not empty: files of the same names are replaced")
    export.set_defaults(run=_export)


def _make(args) -> int:
    from multimnist.data import ensure_dataset, load_mnist, preset_config
    from multimnist.data.mnist import download_mnist

    size = {"plan": str(args.plan), "train_size": args.train_size}
    if args.classes:
        size["classes"] = parse_range(args.classes, "--classes")
    changed = {k: v for k, v in (("intensity", args.intensity and tuple(args.intensity)), ("blend", args.blend)) if v}
    config = dataclasses.replace(preset_config(args.preset, **size), **changed)  # meta names a preset only if kept
    mnist = args.mnist
    if args.download:
        mnist = download_mnist(mnist or Path.home() / ".cache" / "multimnist" / "mnist")
    stored = ensure_dataset(args.out, config, args.seed, load_mnist(mnist), replace=args.force)
    if not stored.made:
        print(f"{args.out} already holds this dataset (same settings, seed and MNIST): kept as it is")
        return 0
    print(f"wrote {args.out}/train.npz, test.npz, meta.json")
    return 0


def _export(args) -> int:
    from multimnist.experiments.data import export_data

    files = export_data(args.data, args.out, args.format, force=args.force, progress=_Progress("exporting"))
    print(f"wrote {len(files) - 1} {'PNG' if args.format == 'imagefolder' else 'Parquet'} files and README.md "
          f"to {args.out}")
    return 0


class _Progress:
    """A bar redrawn in place on a terminal; in a log, one line per tenth of the work."""

    def __init__(self, what: str):
        self.what, self.bar, self.shown = what, sys.stderr.isatty(), -1

    def __call__(self, done: int, total: int) -> None:
        if self.bar:
            filled = 30 * done // total
            end = "\n" if done == total else ""
            print(f"\r  {self.what} [{'#' * filled}{'-' * (30 - filled)}] {done:,}/{total:,}", end=end,
                  file=sys.stderr)
        elif 10 * done // total > self.shown:
            self.shown = 10 * done // total
            log.info("%s: %d of %d images", self.what, done, total)


def _inspect(args) -> int:
    from multimnist.experiments.data import inspect_data

    stats = inspect_data(args.data, args.out, mnist=args.mnist)
    t = stats["train"]
    print(f"{t['n_classes']} classes, {t['total']} training images: mean {t['mean']:.1f}, std {t['std']:.1f}, "
          f"rarest {t['min_class']} ({t['min_count']}), commonest {t['max_class']} ({t['max_count']})")
    print(f"wrote {args.out}/samples.png, histogram.png, hard.png, stats.json")
    return 0


def _download(args) -> int:
    from multimnist.data.mnist import DEFAULT_MIRROR, download_mnist

    out = download_mnist(args.out, mirror=args.mirror or DEFAULT_MIRROR)
    print(f"MNIST IDX files verified in {out}")
    return 0

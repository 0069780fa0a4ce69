"""The `multimnist` command: parse arguments, call the library, return an exit code.

Mistakes a user can make end as one line on stderr and exit code 2; nothing here holds logic of its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from multimnist import __version__
from multimnist.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="multimnist", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"multimnist {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="make, inspect or download data").add_subparsers(
        dest="data_command", required=True, metavar="ACTION")
    make = data.add_parser("make", help="generate a Multi-MNIST dataset (train.npz, test.npz, meta.json)")
    make.add_argument("--out", type=Path, required=True, help="folder to write")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--mnist", type=Path, help="your MNIST: a folder of IDX files or a Keras mnist.npz "
                      "(default: the copy inside the package)")
    make.add_argument("--download", action="store_true",
                      help="first download the IDX files from a public mirror into --mnist (or ~/.cache/multimnist)")
    make.add_argument("--plan", default="study", help="study (default), balanced, or a YAML/JSON file of counts")
    make.add_argument("--train-size", type=int, help="scale the plan to this many training images")
    make.add_argument("--classes", help="class range for --plan balanced, e.g. 0-99 (default 1-50)")
    make.add_argument("--intensity", type=float, nargs=2, metavar=("LOW", "HIGH"),
                      help="range of each digit's brightness (default: the calibrated one)")
    make.add_argument("--blend", choices=("max", "sum", "alpha"), help="how overlapping ink combines")
    make.set_defaults(run=_data_make)

    inspect = data.add_parser("inspect", help="sample grid, class histogram, hard samples, stats.json")
    inspect.add_argument("--data", type=Path, required=True, help="dataset folder or .npz")
    inspect.add_argument("--out", type=Path, required=True, help="folder for the figures and stats.json")
    inspect.add_argument("--mnist", type=Path, help="the MNIST the dataset was made from, if not the vendored one")
    inspect.set_defaults(run=_data_inspect)

    download = data.add_parser("download", help="download MNIST's IDX files, checked against known hashes")
    download.add_argument("--out", type=Path, required=True)
    download.add_argument("--mirror", help="base URL holding the four .gz files")
    download.set_defaults(run=_data_download)

    # Shared parents: classifier and autoencoder commands both hang under these.
    train = commands.add_parser("train", help="train a model into a run folder").add_subparsers(  # noqa: F841
        dest="train_command", required=True, metavar="MODEL")
    sweep = commands.add_parser("sweep", help="train one model per setting of a knob").add_subparsers(  # noqa: F841
        dest="sweep_command", required=True, metavar="KNOB")

    # --- classifier commands (issue 3): train classifier, compare, sweep side experiments ---

    # --- autoencoder commands (issue 4): train autoencoder, sweep compression, generate, score ---

    # --- study commands (issue 5): reproduce, report ---
    return parser


def _data_make(args) -> int:
    from multimnist.data import GeneratorConfig
    from multimnist.data.mnist import download_mnist
    from multimnist.experiments.data import make_data

    overrides = {"plan": str(args.plan), "train_size": args.train_size}
    if args.classes:
        overrides["classes"] = parse_range(args.classes)
    if args.intensity:
        overrides["intensity"] = tuple(args.intensity)
    if args.blend:
        overrides["blend"] = args.blend
    config = GeneratorConfig(**overrides)
    mnist = args.mnist
    if args.download:
        mnist = download_mnist(mnist or Path.home() / ".cache" / "multimnist" / "mnist")
    out = make_data(args.out, config, seed=args.seed, mnist=mnist)
    print(f"wrote {out}/train.npz, test.npz, meta.json")
    return 0


def _data_inspect(args) -> int:
    from multimnist.experiments.data import inspect_data

    stats = inspect_data(args.data, args.out, mnist=args.mnist)
    t = stats["train"]
    print(f"{t['n_classes']} classes, {t['total']} training images: mean {t['mean']:.1f}, std {t['std']:.1f}, "
          f"rarest {t['min_class']} ({t['min_count']}), commonest {t['max_class']} ({t['max_count']})")
    print(f"wrote {args.out}/samples.png, histogram.png, hard.png, stats.json")
    return 0


def _data_download(args) -> int:
    from multimnist.data.mnist import DEFAULT_MIRROR, download_mnist

    out = download_mnist(args.out, mirror=args.mirror or DEFAULT_MIRROR)
    print(f"MNIST IDX files verified in {out}")
    return 0


def parse_range(text: str) -> tuple[int, ...]:
    """'1-50' -> (1, ..., 50); '3,5,7' -> (3, 5, 7)."""
    try:
        if "-" in text:
            lo, hi = (int(v) for v in text.split("-", 1))
            return tuple(range(lo, hi + 1))
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"cannot read {text!r} as a range like 1-50 or a list like 3,5,7") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UserError as e:
        print(f"multimnist: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("multimnist: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


def main_cli() -> None:
    sys.exit(main())

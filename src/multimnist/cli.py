"""The `multimnist` command: parse arguments, call the library, return an exit code.

Mistakes a user can make end as one line on stderr and exit code 2; nothing here holds logic of its own.
"""

from __future__ import annotations

import argparse
import logging
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
    train = commands.add_parser("train", help="train a model into a run folder").add_subparsers(
        dest="train_command", required=True, metavar="MODEL")
    sweep = commands.add_parser("sweep", help="train one model per setting of a knob").add_subparsers(
        dest="sweep_command", required=True, metavar="KNOB")

    # --- classifier commands (issue 3): train classifier, compare, sweep side experiments ---
    clf = train.add_parser("classifier", help="train a feed-forward classifier (study sections 3-4)")
    clf.add_argument("--config", default="unregularized",
                     help="built-in config name (e.g. unregularized, regularized, challenger) or a YAML file")
    clf.add_argument("--data", type=Path, required=True, help="dataset folder (from `data make`) or .npz")
    clf.add_argument("--out", type=Path, required=True,
                     help="run folder; with --seeds, the folder that gets NAME/seed-S run folders")
    seeds = clf.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, help="seed of this run (default: the config's, 0)")
    seeds.add_argument("--seeds", help="several seeds, e.g. 0,1,2 or 0-4: one run folder each")
    clf.add_argument("--epochs", type=int, help="override the config's number of epochs")
    clf.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a setting, e.g. --set model.dropout=0.2 (repeatable)")
    clf.add_argument("--jobs", type=int, default=1, help="with --seeds: worker processes")
    clf.set_defaults(run=_train_classifier)

    for kind, what in (("depth", "2 to 5 hidden layers within 100k parameters"),
                       ("optimizer", "SGD, RMSprop, Adam x GlorotNormal, HeNormal"),
                       ("batch", "batch size 8, 32, 128, 256, 512"), ("activation", "sigmoid vs LeakyReLU(0.01)")):
        knob = sweep.add_parser(kind, help=f"the classifier over {what} (study section 3)")
        knob.add_argument("--data", type=Path, required=True, help="dataset folder or .npz")
        knob.add_argument("--out", type=Path, required=True, help="folder for SETTING/seed-S runs and compare.*")
        knob.add_argument("--seeds", default="0", help="seeds, e.g. 0,1,2 (default 0)")
        knob.add_argument("--epochs", type=int, help="override the 50 epochs")
        knob.add_argument("--jobs", type=int, default=1, help="worker processes")
        knob.set_defaults(run=_sweep_classifier, kind=kind)

    compare = commands.add_parser("compare", help="table of classifier runs: mean ± std over seeds, study beside")
    compare.add_argument("runs", nargs="+", type=Path, help="run folders, or folders holding them")
    compare.add_argument("--out", type=Path, required=True, help="folder for compare.csv and compare.md")
    compare.add_argument("--pairs", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                         help="also tabulate how BEFORE's top confused pairs changed in AFTER (pair_change.*)")
    compare.set_defaults(run=_compare)

    # --- autoencoder commands (issue 4): train autoencoder, sweep compression, generate, score ---
    _autoencoder_commands(commands, train, sweep)

    # --- study commands (issue 5): reproduce, report ---
    reproduce = commands.add_parser("reproduce", help="run the whole study and write the report")
    reproduce.add_argument("--profile", default="quick",
                           help="quick: minutes, smaller data, few epochs; paper: the study's settings; "
                                "or a YAML file of profile fields")
    reproduce.add_argument("--out", type=Path, default=Path("runs/study"), help="output folder (default runs/study)")
    reproduce.add_argument("--seeds", help="seeds for every network, e.g. 0,1,2 (default: the profile's)")
    reproduce.add_argument("--jobs", type=int, default=1, help="local worker processes for independent jobs")
    reproduce.set_defaults(run=_reproduce)

    report = commands.add_parser("report", help="write report.html and report.md for a reproduce folder")
    report.add_argument("run_dir", type=Path)
    report.set_defaults(run=_report)
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


def _reproduce(args) -> int:
    from multimnist.experiments.study import reproduce

    seeds = parse_range(args.seeds) if args.seeds else None
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    reproduce(args.out, profile=args.profile, seeds=seeds, n_jobs=args.jobs)
    return 0


def _report(args) -> int:
    from multimnist.report.study import write_report

    if not args.run_dir.is_dir():
        raise UserError(f"no such folder: {args.run_dir}")
    path = write_report(args.run_dir)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


def _train_classifier(args) -> int:
    from multimnist.experiments.classifier import run_seeds, train_classifier

    if args.seeds:
        results = run_seeds(args.config, args.data, args.out, seeds=parse_range(args.seeds), epochs=args.epochs,
                            overrides=args.overrides, n_jobs=_jobs(args.jobs))
        for m in results:
            print(f"{m['name']} seed {m['seed']}: test accuracy {m['test_accuracy']:.2%}")
        print(f"wrote {len(results)} run folders under {args.out}")
        return 0
    m = train_classifier(args.config, args.data, args.out, seed=args.seed, epochs=args.epochs,
                         overrides=args.overrides)
    print(f"{m['name']} seed {m['seed']}: test accuracy {m['test_accuracy']:.2%}, best validation accuracy "
          f"{m['best_val_accuracy']:.2%}, {m['epochs_run']} epochs; wrote {args.out}")
    return 0


def _sweep_classifier(args) -> int:
    from multimnist.experiments.classifier import run_sweep

    result = run_sweep(args.kind, args.data, args.out, seeds=parse_range(args.seeds), epochs=args.epochs,
                       n_jobs=_jobs(args.jobs))
    for row in result["table"]:
        print(f"{row['name']}: test accuracy {100 * row['test_accuracy_mean']:.1f}% over {row['n_seeds']} seed(s)")
    print(f"wrote {args.out}/compare.csv and compare.md")
    return 0


def _compare(args) -> int:
    from multimnist.experiments.compare import compare_runs, confused_pair_change

    rows = compare_runs(args.runs, args.out)
    print((args.out / "compare.md").read_text(), end="")
    if args.pairs:
        confused_pair_change(*args.pairs, out=args.out)
        print((args.out / "pair_change.md").read_text(), end="")
    print(f"wrote {args.out}/compare.csv, compare.md{', pair_change.*' if args.pairs else ''} ({len(rows)} configs)")
    return 0


def _jobs(n: int) -> int:
    if n < 1:
        raise UserError("--jobs must be at least 1")
    return n


# --- autoencoder commands (issue 4) ---

def _autoencoder_commands(commands, train, sweep) -> None:
    from multimnist.latent.samplers import SAMPLERS

    ae = train.add_parser("autoencoder", help="train the dense autoencoder (study section 5)")
    ae.add_argument("--config", default="autoencoder", help="built-in config name or a YAML file")
    ae.add_argument("--data", type=Path, required=True, help="dataset folder (from `data make`) or .npz")
    ae.add_argument("--out", type=Path, required=True, help="run folder")
    ae.add_argument("--seed", type=int, default=0)
    ae.add_argument("--epochs", type=int, help="override the config's number of epochs")
    ae.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a setting, e.g. --set model.compression_factor=25 (repeatable)")
    ae.set_defaults(run=_train_autoencoder)

    reader = train.add_parser("reader", help="train the digit-pair reader (00..99) that scores generated images")
    reader.add_argument("--out", type=Path, required=True, help="run folder (its 00..99 data goes to OUT/data)")
    reader.add_argument("--config", default="reader", help="built-in config name or a YAML file")
    reader.add_argument("--seed", type=int, default=0)
    reader.add_argument("--epochs", type=int, help="override the config's number of epochs")
    reader.add_argument("--train-size", type=int, help="00..99 training images to generate (default 60000)")
    reader.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    reader.set_defaults(run=_train_reader)

    comp = sweep.add_parser("compression", help="one autoencoder per compression factor (study figures 12-13)")
    comp.add_argument("--factors", required=True, help="compression factors, e.g. 20..30, 20-30 or 20,25,30")
    comp.add_argument("--data", type=Path, required=True, help="dataset folder or .npz")
    comp.add_argument("--out", type=Path, required=True, help="folder for cf-F/seed-S runs, sweep.* and figures")
    comp.add_argument("--seeds", default="0", help="seeds, e.g. 0,1,2 (default 0)")
    comp.add_argument("--epochs", type=int, help="override the config's number of epochs")
    comp.add_argument("--config", default="autoencoder", help="the autoencoder config every factor starts from")
    comp.add_argument("--jobs", type=int, default=1, help="worker processes")
    comp.set_defaults(run=_sweep_compression)

    gen = commands.add_parser("generate", help="decode samples of the latent space into new images")
    gen.add_argument("--model", type=Path, required=True, help="a finished autoencoder run folder")
    gen.add_argument("--sampler", default="gaussian", choices=SAMPLERS)
    gen.add_argument("--n", type=int, default=100, help="images to generate (default 100)")
    gen.add_argument("--out", type=Path, required=True, help="folder for grid.png and images.npz")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--fit-on", choices=("train", "test"), default="train",
                     help="encodings the sampler is fitted on (the study used test)")
    gen.add_argument("--data", type=Path, help="encode this dataset instead of using the run's saved encodings")
    gen.set_defaults(run=_generate)

    score = commands.add_parser("score", help="score every sampler's images with the digit-pair reader")
    score.add_argument("--model", type=Path, required=True, help="a finished autoencoder run folder")
    score.add_argument("--reader", type=Path, required=True, help="a finished reader run folder")
    score.add_argument("--data", type=Path, required=True, help="the dataset the autoencoder was trained on")
    score.add_argument("--out", type=Path, required=True, help="folder for scores.csv/.md and the grids")
    score.add_argument("--n", type=int, default=1000, help="images per sampler (default 1000)")
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--fit-on", choices=("train", "test"), default="train")
    score.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated (default: all)")
    score.set_defaults(run=_score)


def _train_autoencoder(args) -> int:
    from multimnist.experiments.autoencoder import train_autoencoder

    m = train_autoencoder(args.config, args.data, args.out, seed=args.seed, epochs=args.epochs,
                          overrides=args.overrides)
    print(f"wrote {args.out}: latent {m['latent_size']}, test MSE {m['test_mse']:.5f}, {m['epochs_run']} epochs")
    return 0


def _train_reader(args) -> int:
    from multimnist.experiments.reader import train_reader

    m = train_reader(args.out, seed=args.seed, epochs=args.epochs, train_size=args.train_size, config=args.config,
                     overrides=args.overrides)
    print(f"wrote {args.out}: test accuracy tens {m['tens_accuracy']:.2%}, units {m['units_accuracy']:.2%}")
    return 0


def _sweep_compression(args) -> int:
    from multimnist.experiments.autoencoder import sweep_compression

    rows = sweep_compression(parse_range(args.factors.replace("..", "-")), args.data, args.out,
                             seeds=parse_range(args.seeds), epochs=args.epochs, n_jobs=_jobs(args.jobs),
                             config=args.config)
    print((args.out / "sweep.md").read_text(), end="")
    print(f"wrote {args.out}/sweep.csv, sweep.md, verdict.txt, mse_epochs.png, mse_factor.png ({len(rows)} factors)")
    return 0


def _generate(args) -> int:
    from multimnist.experiments.generation import generate

    out = generate(args.model, args.sampler, args.n, args.out, seed=args.seed, fit_on=args.fit_on, data=args.data)
    print(f"wrote {out}/grid.png, images.npz and generate.json ({args.n} images, sampler {args.sampler})")
    return 0


def _score(args) -> int:
    from multimnist.experiments.generation import score_samplers
    from multimnist.latent.samplers import SAMPLERS

    names = tuple(s.strip() for s in args.samplers.split(",") if s.strip())
    unknown = sorted(set(names) - set(SAMPLERS))
    if unknown or not names:
        raise UserError(f"unknown sampler(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SAMPLERS)}")
    score_samplers(args.model, args.reader, args.data, args.out, n=args.n, seed=args.seed, fit_on=args.fit_on,
                   samplers=names)
    print((args.out / "scores.md").read_text(), end="")
    print(f"wrote {args.out}/scores.csv, scores.md, scores.json, read_numbers.png and one grid per sampler")
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
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)  # library progress lines
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


if __name__ == "__main__":
    main_cli()

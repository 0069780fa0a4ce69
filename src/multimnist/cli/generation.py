"""`multimnist generate` and `multimnist score`: new images from an autoencoder's latent space, and their scores.

The experiments import Keras and JAX, so they are imported inside each command (startup time, lean install).
"""

from __future__ import annotations

from pathlib import Path

from multimnist.cli.options import RANGE_HELP, add_out, command, dataset, parse_range, whole
from multimnist.errors import UserError
from multimnist.latent.samplers import CONDITIONAL, SAMPLERS, numbers_asked
from multimnist.layout import require_finished_run


def add_commands(subparsers) -> None:
    gen = command(subparsers, "generate", "decode samples of the latent space into new images")
    gen.add_argument("--model", type=Path, required=True, help="a finished autoencoder run folder")
    gen.add_argument("--sampler", default="gaussian", choices=SAMPLERS,
                     help=f"how latent codes are drawn: {', '.join(SAMPLERS)} (default gaussian)")
    gen.add_argument("--n", type=whole("--n", 1), default=100,
                     help="images to generate (default 100); with --number(s): images of each number")
    asked = gen.add_mutually_exclusive_group()
    asked.add_argument("--number", type=whole("--number", 0), help="draw images of this number (0..99) with a "
                       f"conditional sampler ({', '.join(CONDITIONAL)}); needs --data")
    asked.add_argument("--numbers", help=f"draw images of each of these numbers ({RANGE_HELP}; e.g. 1..50), one "
                       "grid row per number; needs --data")
    add_out(gen, "folder for grid.png and images.npz")
    gen.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the sampler (default 0)")
    gen.add_argument("--fit-on", choices=("train", "test"), default="train",
                     help="encodings the sampler is fitted on (default train; the study used test)")
    gen.add_argument("--data", type=dataset,
                     help="the autoencoder's own dataset: gives every saved encoding its number (needed by "
                          "conditional samplers); another dataset is encoded and the sampler fitted on it")
    gen.set_defaults(run=_generate)

    score = command(subparsers, "score", "score every sampler's images with the digit-pair reader")
    score.add_argument("--model", type=Path, required=True, help="a finished autoencoder run folder")
    score.add_argument("--reader", type=Path, required=True, help="a finished reader run folder")
    score.add_argument("--data", type=dataset, required=True, help="the dataset the autoencoder was trained on")
    add_out(score, "folder for scores.csv/.md and the grids")
    score.add_argument("--n", type=whole("--n", 1), default=1000, help="images per sampler (default 1000)")
    score.add_argument("--seed", type=whole("--seed"), default=0, help="seed of the samplers (default 0)")
    score.add_argument("--fit-on", choices=("train", "test"), default="train",
                       help="encodings the samplers are fitted on (default train)")
    score.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated (default: all)")
    score.set_defaults(run=_score)


def _generate(args) -> int:
    require_finished_run(args.model, "autoencoder", "multimnist train autoencoder")  # before Keras and JAX load
    numbers = [args.number] if args.number is not None else args.numbers
    if isinstance(numbers, str):
        numbers = list(parse_range(numbers, "--numbers", minimum=0))
    if numbers is not None:
        numbers = numbers_asked(numbers, args.sampler)  # refused here, before Keras and JAX load
    from multimnist.experiments.generation import generate  # Keras/JAX: slow to import

    out = generate(args.model, args.sampler, args.n, args.out, seed=args.seed, fit_on=args.fit_on, data=args.data,
                   numbers=numbers)
    what = f"{args.n} images" if numbers is None else f"{args.n} images of each of {len(numbers)} numbers"
    print(f"wrote {out}/grid.png, images.npz and generate.json ({what}, sampler {args.sampler})")
    return 0


def _score(args) -> int:
    names = tuple(s.strip() for s in args.samplers.split(",") if s.strip())
    unknown = sorted(set(names) - set(SAMPLERS))
    if unknown or not names:
        raise UserError(f"unknown sampler(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SAMPLERS)}")
    require_finished_run(args.model, "autoencoder", "multimnist train autoencoder")  # before Keras and JAX load
    require_finished_run(args.reader, "reader", f"multimnist train reader --out {args.reader}")
    from multimnist.experiments.generation import score_samplers  # Keras/JAX: slow to import

    score_samplers(args.model, args.reader, args.data, args.out, n=args.n, seed=args.seed, fit_on=args.fit_on,
                   samplers=names)
    print((args.out / "scores.md").read_text(), end="")
    print(f"wrote {args.out}/scores.csv, scores.md, scores.json, read_numbers.png and one grid per sampler")
    return 0

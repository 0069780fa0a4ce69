"""Options and argument types shared by the commands, declared once.

`command()` adds a subcommand that takes the global -q/-v flags after its name too and has help text;
`add_run_options()` adds the options of every command that runs training jobs (seeds, workers, where
they run: --executor, --address, --no-shared-fs), and
`run_options()` turns them into the library's keyword arguments; `parse_range()` is the one range syntax.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from multimnist.errors import UserError, whole_number
from multimnist.executor import EXECUTORS, Executor

# -q/-v after the command name as well as before it; SUPPRESS keeps a subcommand's unset flag from
# overwriting the count given before the command.
VERBOSITY = argparse.ArgumentParser(add_help=False)
VERBOSITY.add_argument("-q", "--quiet", action="count", default=argparse.SUPPRESS,
                       help="less on stderr: warnings and errors only (-qq: errors only); results still go to stdout")
VERBOSITY.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="more on stderr: debugging details")

RANGE_HELP = "e.g. 0,1,2 or 0..2 or 0-2 or 0,3..5"


def command(subparsers, name: str, help: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand with the shared -q/-v flags; `help` is required so that no command goes undocumented."""
    return subparsers.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                                 parents=[VERBOSITY], **kwargs)


def group(subparsers, name: str, help: str, dest: str, metavar: str = "ACTION"):
    """A command group (`data`, `train`, `sweep`, ...): returns the subparsers its commands hang under."""
    parser = subparsers.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".")
    return parser.add_subparsers(dest=dest, required=True, metavar=metavar,
                                 help=f"one of these; `multimnist {name} {metavar} --help` for its options")


def offer(action: argparse.Action, values) -> argparse.Action:
    """Let shell completion offer `values` for an option that takes others too (a profile name or a YAML file):
    `choices` would refuse the others. `multimnist completion` reads `action.offered`."""
    action.offered = tuple(map(str, values))
    return action


def add_out(parser: argparse.ArgumentParser, help: str, **kwargs) -> None:
    """The output folder of a command that writes: locked while the command runs (see files.lock_folder)."""
    parser.add_argument("--out", type=Path, required=kwargs.pop("required", True), help=help, **kwargs)
    parser.set_defaults(writes="out")


def add_overrides(parser: argparse.ArgumentParser, example: str) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config setting, e.g. --set {example} (repeatable; checked against "
                             "the setting's type)")


def add_run_options(parser: argparse.ArgumentParser, seeds: str | None = "0", seeds_help: str | None = None,
                    pack: bool = True) -> None:
    """The options of every command that runs jobs: which seeds, how many networks train together, and where.

    `seeds` is the default of --seeds (None: no --seeds here; the command declares its own); `pack`: offer --pack.
    """
    if seeds is not None:
        parser.add_argument("--seeds", default=seeds,
                            help=seeds_help or f"seeds, one run each ({RANGE_HELP}; default {seeds})")
    parser.add_argument("--jobs", type=whole("--jobs", 1), default=1,
                        help="local worker processes for independent runs (default 1); with --executor ray and no "
                             "--address, the CPUs of the local Ray instance (default: all)")
    if pack:
        parser.add_argument("--pack", type=whole("--pack", 1), default=None,
                            help="networks trained together in one compiled program, one job per pack "
                                 "(default: 8 on CPUs, 32 on a GPU); 1 trains each alone")
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="where the runs go: this machine (default) or a Ray cluster (the [ray] extra; see "
                             "`multimnist docs ray`)")
    parser.add_argument("--address", default=None,
                        help="with --executor ray: the cluster to join (auto, or HOST:PORT); default: start a "
                             "local Ray instance for this command")
    parser.add_argument("--no-shared-fs", dest="shared_fs", action="store_false",
                        help="with --executor ray: workers do not see this machine's folders; each run's dataset "
                             "is rebuilt on its worker and its finished folder comes back here")


def run_options(args: argparse.Namespace) -> dict:
    """The library's keyword arguments for the options of `add_run_options` (seeds excepted).

    `executor` is there only when the runs leave this machine's default back end.
    """
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    options = {"n_jobs": args.jobs}
    if getattr(args, "pack", None) is not None:
        options["pack"] = args.pack
    if args.executor != "local" or args.address is not None or not args.shared_fs:
        options["executor"] = Executor(args.executor, args.address, args.shared_fs)
    return options


class OptionError(Exception):
    """A bad option value found by an argument type. Not a ValueError on purpose: argparse would turn one (and a
    UserError is one) into its own two-line "invalid value" message; main() prints this as one line, exit 2."""


def existing_folder(text: str) -> Path:
    """An argument type for a folder that must already exist (one line, before anything runs)."""
    path = Path(text)
    if not path.is_dir():
        raise OptionError(f"no such folder: {path}")
    return path


def dataset(text: str) -> Path:
    """An argument type for --data: a dataset folder or .npz whose files are .npz archives with the arrays a
    dataset holds, checked before the command imports Keras, JAX or matplotlib (seconds), reading no image."""
    from multimnist.data.dataset import check_dataset_files

    return _checked(check_dataset_files, text)


def training_dataset(text: str) -> Path:
    """--data of a command that trains: `dataset`, and its training labels hold enough classes and images."""
    from multimnist.data.dataset import check_training_files

    return _checked(check_training_files, text)


def _checked(check, text: str) -> Path:
    try:
        return check(Path(text))
    except UserError as e:
        raise OptionError(f"--data: {e}") from None


def whole(option: str, minimum: int = 0):
    """An argument type for a whole number >= `minimum` (seeds: 0, counts: 1), naming `option` when refused."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = text  # "1.5", "ten": refused below, by the same words as in Python
        try:
            return whole_number(value, option, minimum)
        except UserError as e:
            raise OptionError(str(e)) from None

    parse.__name__ = "whole number"
    return parse


_ITEM = re.compile(r"^\s*(-?\d+)\s*(?:(?:\.\.|-)\s*(-?\d+)\s*)?$")


def parse_range(text: str, option: str | None = None, minimum: int | None = None) -> tuple[int, ...]:
    """The one range syntax: '0..2', '0-2', '0,1,2' and mixes such as '0,3..5' -> (0, 3, 4, 5).

    Ranges include both ends. An empty or reversed range ('2-0'), a number given twice and one below
    `minimum` (seeds: 0) are errors, prefixed with the option's name when given.
    """
    prefix = f"{option}: " if option else ""
    values: list[int] = []
    for item in str(text).split(","):
        match = _ITEM.match(item)
        if not match:
            raise UserError(f"{prefix}cannot read {text!r} as a range ({RANGE_HELP})")
        lo, hi = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if hi < lo:
            raise UserError(f"{prefix}{item.strip()!r} is an empty range: it ends below its start (meant {hi}..{lo}?)")
        values.extend(range(lo, hi + 1))
    if minimum is not None and min(values) < minimum:
        raise UserError(f"{prefix}must be whole numbers >= {minimum}, got {min(values)}")
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise UserError(f"{prefix}{text!r} lists {', '.join(map(str, repeated))} more than once")
    return tuple(values)

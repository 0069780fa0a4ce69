"""The `multimnist` command: parse arguments, call the library, return an exit code.

One module per command group (data, train, sweep, compare, generation, study); options shared by several
commands live in `options`. Adding a group is one module with an `add_commands(subparsers)` function, listed
in GROUPS. Mistakes a user can make, and files that cannot be written, end as one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import shlex
import sys
from collections.abc import Iterator

from multimnist._version import __version__
from multimnist.backend import select_backend
from multimnist.cli import calibrate, compare, completion, data, docs, generation, study, sweep, train
from multimnist.cli.options import VERBOSITY, OptionError, parse_range
from multimnist.errors import UserError, file_error
from multimnist.extras import missing_extra
from multimnist.files import lock_folder

__all__ = ["build_parser", "main", "main_cli", "parse_range"]

GROUPS = (data, train, sweep, compare, generation, study, calibrate, docs, completion)

DESCRIPTION = ("Make Multi-MNIST data, train the networks of 'Regularization techniques and Autoencoder on "
               "Multi-MNIST', and reproduce the study. `multimnist COMMAND --help` describes each command.")
EPILOG = """exit codes: 0 done; 1 a file or folder could not be written (disk full, permission denied,
read-only, or the output folder is in use by another multimnist); 2 a mistake in the command or its inputs;
130 interrupted (rerun the same command to resume)"""


class _Parser(argparse.ArgumentParser):
    """A parser that refuses an unknown option itself: argparse leaves a subcommand's leftovers to the top-level
    parser, which prints its own usage for `data make --seeds 1`; here `data make` prints its usage, and a
    close match ("did you mean --seed?"). Subcommands inherit the class."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            known = [o for action in self._actions for o in action.option_strings]
            close = difflib.get_close_matches(extras[0].split("=")[0], known, n=1) if extras[0].startswith("-") else []
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="multimnist", description=DESCRIPTION, epilog=EPILOG, parents=[VERBOSITY])
    parser.add_argument("--version", action="version", version=f"multimnist {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="one of these; `multimnist COMMAND --help` for its options")
    for module in GROUPS:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    select_backend(force=True)  # the command's process is ours: JAX, whatever KERAS_BACKEND says
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.parser = parser  # for commands about the command line itself (completion)
        with logging_to_stderr(getattr(args, "verbose", 0) - getattr(args, "quiet", 0)):
            writes = getattr(args, "writes", None)
            if writes is None:
                return args.run(args)
            target = writes(args) if callable(writes) else getattr(args, writes)  # a command may choose
            with lock_folder(target, shlex.join(["multimnist", *argv])):
                return args.run(args)
    except UserError as e:
        return _fail(str(e), e.exit_code)
    except OptionError as e:
        return _fail(str(e), 2)
    except OSError as e:  # a write the library did not wrap: still one line, naming the path when known
        return _fail(str(file_error(e)), 1)
    except ModuleNotFoundError as e:  # an optional extra (train, report, parquet, ray) that is not installed
        error = missing_extra(e, getattr(args, "extra", None))
        if error is None:
            raise
        return _fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted; rerun the same command to resume", 130)


@contextlib.contextmanager
def logging_to_stderr(verbosity: int = 0) -> Iterator[None]:
    """Library messages (logging) as plain lines on stderr: INFO by default, -q WARNING, -qq ERROR, -v DEBUG.

    Undone on exit, so that main() run inside another program (or a test) leaves its logging as it was.
    """
    level = {-2: logging.ERROR, -1: logging.WARNING, 0: logging.INFO}.get(max(verbosity, -2), logging.DEBUG)
    logger = logging.getLogger("multimnist")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _fail(message: str, code: int) -> int:
    print(f"multimnist: error: {message}", file=sys.stderr)
    return code


def main_cli() -> None:
    sys.exit(main())

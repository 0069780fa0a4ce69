"""The command-line reference as Markdown, written from the parser itself so that it cannot drift from it.

The documentation site renders it when it is built (docs/hooks.py): `overview(build_parser())` into
reference/cli/index.md and one page a top-level command from `pages(build_parser())`. `commands()` is the one
walk over the parser's commands (the completion script uses it too). The parser is passed in: this module is
imported by the CLI, so it imports nothing of it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator

WIDTH = 80  # help lines are wrapped at this width, whatever the terminal that builds the site


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command under `parser` with its path of names, `parser` itself first (path ()), depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def anchor(path: tuple[str, ...]) -> str:
    """The heading's anchor of a command on the site: 'multimnist-data-make' for ('data', 'make')."""
    return "-".join(("multimnist", *path))


def help_text(parser: argparse.ArgumentParser) -> str:
    """The command's --help exactly as it prints, wrapped at WIDTH columns."""
    parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    return parser.format_help().rstrip()


def section(path: tuple[str, ...], parser: argparse.ArgumentParser, level: int) -> str:
    title = " ".join(("multimnist", *path))
    return f"{'#' * level} {title} {{#{anchor(path)}}}\n\n```text\n{help_text(parser)}\n```\n"


def pages(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Top-level command name -> its page: the command's help, then each of its subcommands' (a group such as
    `data` lists its commands first), in the parser's order."""
    found: dict[str, list[str]] = {}
    for path, sub in commands(parser):
        if path:
            found.setdefault(path[0], []).append(section(path, sub, 1 if len(path) == 1 else 2))
    return {name: "\n".join(parts) for name, parts in found.items()}


def overview(parser: argparse.ArgumentParser) -> str:
    """`multimnist --help` and a link to each command's page."""
    rows = [f"| [`multimnist {' '.join(path)}`]({path[0]}.md#{anchor(path)}) | {sub.description or ''} |"
            for path, sub in commands(parser) if path]
    return (f"```text\n{help_text(parser)}\n```\n\n| command | what it does |\n|---|---|\n" + "\n".join(rows) + "\n")

"""The command-line reference as Markdown, written from the parser itself so that it cannot drift from it.

The documentation site renders it into its CLI page when it is built (docs/hooks.py); `commands()` is the one walk
over the parser's commands (the completion script uses it too).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator

WIDTH = 100  # help lines are wrapped at this width, whatever the terminal that builds the site


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


def markdown(parser: argparse.ArgumentParser | None = None, heading_level: int = 2) -> str:
    """One section a command: a heading `multimnist PATH` and the command's --help, exactly as it prints (wrapped
    at WIDTH columns). The command groups' sections list their commands, so the page reads top-down."""
    if parser is None:
        from multimnist.cli import build_parser

        parser = build_parser()
    sections = []
    for path, sub in commands(parser):
        sub.formatter_class = functools.partial(sub.formatter_class, width=WIDTH)
        level = "#" * (heading_level + max(len(path) - 1, 0))
        title = " ".join(("multimnist", *path))
        sections.append(f"{level} {title} {{#{anchor(path)}}}\n\n```text\n{sub.format_help().rstrip()}\n```\n")
    return "\n".join(sections)

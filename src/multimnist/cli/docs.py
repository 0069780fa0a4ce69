"""`multimnist docs [NAME]`: print a page of the user documentation that ships with the package.

The pages are the documentation site's (docs/ of the repository: the tutorial, the how-to guides, the
explanations), installed as package data (src/multimnist/docs/ links to them), so a pip install can read what
`--preset` and `--executor` refer to. A link to another shipped page prints as the command that shows it.
"""

from __future__ import annotations

import re
from importlib import resources

from multimnist.cli.options import command
from multimnist.errors import UserError

# The reading order of `multimnist docs`; a shipped page not named here comes after them.
ORDER = ("getting-started", "results", "own-data", "new-preset", "new-sampler", "ray", "gpu", "claims", "generation",
         "calibration", "scaling")

LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


def add_commands(subparsers) -> None:
    docs = command(subparsers, "docs", "print a page of the user documentation (getting-started, own-data, "
                                       "calibration, scaling, ...); without NAME, list them")
    docs.add_argument("name", nargs="?", metavar="NAME", help="the page, e.g. getting-started")
    docs.set_defaults(run=_docs)


def documents() -> dict[str, str]:
    """Name -> Markdown text of every shipped page, in reading order."""
    folder = resources.files("multimnist") / "docs"
    found = {f.name[:-3]: f for f in folder.iterdir() if f.name.endswith(".md")}
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    return {name: for_terminal(found[name].read_text(encoding="utf-8"), set(found)) for name in names}


def for_terminal(text: str, shipped: set[str]) -> str:
    """The page with its links to shipped pages as `multimnist docs NAME`, and other links as their text."""

    def link(match: re.Match) -> str:
        label, target = match.groups()
        if "://" in target:
            return match.group(0)
        name = target.split("#")[0].rsplit("/", 1)[-1].removesuffix(".md")
        return f"{label} (`multimnist docs {name}`)" if name in shipped else label

    return LINK.sub(link, text)


def _docs(args) -> int:
    found = documents()
    if args.name is None:
        width = max(map(len, found))
        for name, text in found.items():
            print(f"{name:{width}s}  {text.splitlines()[0].lstrip('# ')}")
        return 0
    if args.name not in found:
        raise UserError(f"no document named {args.name!r}; known: {', '.join(found)}")
    print(found[args.name], end="")
    return 0

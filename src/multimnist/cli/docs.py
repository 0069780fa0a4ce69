"""`multimnist docs [NAME]`: print a document shipped with the package (the help of other commands names them).

The files are docs/*.md of the repository, installed as package data (src/multimnist/docs/ links to them), so a
pip install can read what `--preset` and `--executor` refer to.
"""

from __future__ import annotations

from importlib import resources

from multimnist.cli.options import command
from multimnist.errors import UserError


def add_commands(subparsers) -> None:
    docs = command(subparsers, "docs", "print a document that ships with the package (calibration, scaling, "
                                       "challenger); without NAME, list them")
    docs.add_argument("name", nargs="?", metavar="NAME", help="the document, e.g. calibration")
    docs.set_defaults(run=_docs)


def documents() -> dict[str, str]:
    """Name -> Markdown text of every shipped document."""
    folder = resources.files("multimnist") / "docs"
    return {f.name[:-3]: f.read_text(encoding="utf-8") for f in sorted(folder.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".md")}


def _docs(args) -> int:
    found = documents()
    if args.name is None:
        for name, text in found.items():
            print(f"{name:12s} {text.splitlines()[0].lstrip('# ')}")
        return 0
    if args.name not in found:
        raise UserError(f"no document named {args.name!r}; known: {', '.join(found)}")
    print(found[args.name], end="")
    return 0

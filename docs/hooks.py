"""MkDocs hooks (mkdocs.yml `hooks:`): render the command-line reference from the parser into reference/cli.md."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # the working tree's multimnist, installed or not

from multimnist.cli.reference import markdown  # noqa: E402

MARKER = "<!-- cli-reference -->"


def on_page_markdown(text, page, config, files):
    if page.file.src_uri != "reference/cli.md":
        return text
    if MARKER not in text:
        raise ValueError(f"reference/cli.md lacks {MARKER}, where the commands' help goes")
    return text.replace(MARKER, markdown())

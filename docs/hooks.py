"""MkDocs hooks (mkdocs.yml `hooks:`): the command-line reference, rendered from the parser when the site is built.

reference/cli/index.md gets `multimnist --help` and a table of every command in place of its marker; each top-level
command gets a generated page, reference/cli/NAME.md, listed in the nav under the index.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # the working tree's multimnist, installed or not

from multimnist.cli import build_parser  # noqa: E402
from multimnist.cli.reference import overview, pages  # noqa: E402

from mkdocs.structure.files import File  # noqa: E402

INDEX = "reference/cli/index.md"
MARKER = "<!-- cli-reference -->"


def on_config(config):
    """Each command's page in the nav, after the index, wherever the nav names the index."""
    names = pages(build_parser())
    entries = [{"Overview": INDEX}, *({f"multimnist {name}": f"reference/cli/{name}.md"} for name in names)]

    def place(node):
        if isinstance(node, list):
            return [place(item) for item in node]
        if isinstance(node, dict):
            return {key: entries if value == INDEX else place(value) for key, value in node.items()}
        return node

    config["nav"] = place(config["nav"])
    return config


def on_files(files, config):
    for name, text in pages(build_parser()).items():
        files.append(File.generated(config, f"reference/cli/{name}.md", content=text))
    return files


def on_page_markdown(text, page, config, files):
    if page.file.src_uri != INDEX:
        return text
    if MARKER not in text:
        raise ValueError(f"{INDEX} lacks {MARKER}, where the commands' help goes")
    return text.replace(MARKER, overview(build_parser()))

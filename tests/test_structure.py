"""The package's layering: the lower layers compute, the library logs, and only the CLI prints."""

from __future__ import annotations

import ast
from pathlib import Path

import multimnist

import pytest

PACKAGE = Path(multimnist.__file__).parent
COMPUTE_ONLY = ("training", "models", "latent", "evaluation")  # no figures, no report, no printing
DRAWING = ("matplotlib", "multimnist.report")


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _prints(tree: ast.AST) -> list[int]:
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]


@pytest.mark.parametrize("path", _modules(*COMPUTE_ONLY), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_compute_layers_neither_draw_nor_import_the_report(path):
    imported = _imports(ast.parse(path.read_text()))
    assert not {m for m in imported if m.startswith(DRAWING)}, f"{path} imports {imported}"


@pytest.mark.parametrize("path", _modules(*COMPUTE_ONLY, "experiments", "report"),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_code_logs_instead_of_printing(path):
    assert _prints(ast.parse(path.read_text())) == [], f"{path} calls print()"


def test_the_checks_can_fail(tmp_path):
    tree = ast.parse("import matplotlib.pyplot as plt\nfrom multimnist.report.figures import x\nprint('hi')\n")
    assert {"matplotlib.pyplot", "multimnist.report.figures"} <= _imports(tree) and _prints(tree) == [3]

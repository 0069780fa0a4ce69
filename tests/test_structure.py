"""The package's layering: imports point down the layers and never in a circle, the lower layers compute,
the library logs, and only the CLI prints."""

from __future__ import annotations

import ast
from pathlib import Path

import multimnist

import pytest

PACKAGE = Path(multimnist.__file__).parent
COMPUTE_ONLY = ("training", "models", "latent", "evaluation")  # no figures, no report, no printing
DRAWING = ("matplotlib", "multimnist.figures", "multimnist.report")

# The layers, bottom to top, by the first name below the package (a module or a sub-package; "__init__" is the
# package's own, the public API, which loads `datasets`). A module imports from its own layer or lower ones. They are
# the pipeline's order: the steps (experiments) draw with `figures` and know nothing of the report, which stands on
# top and reads the files the steps wrote (report.pipeline runs the steps, then the report).
LAYERS = (
    ("_version", "errors", "files", "formatting", "layout", "config", "paper", "extras", "backend"),
    ("data",),
    ("datasets", "__init__"),
    ("models",),
    ("training",),
    ("latent", "evaluation"),
    ("executor",),
    ("figures",),
    ("experiments",),
    ("report",),
    ("cli", "__main__"),
)
# Arrows that break the rules today, each removed on another branch: once those are merged, this list is
# empty (test_known_violations_are_still_there fails on an entry that has gone).
KNOWN: set[tuple[str, str]] = set()  # arrows allowed until the issue that removes them lands (none now)


# --- the import graph, function-local and TYPE_CHECKING imports included ---

def module_names(package: Path) -> dict[str, Path]:
    """Every module of `package` by its dotted name (a sub-package by its own name, from its __init__.py)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that module `name` imports anywhere in its file, inside functions too.

    `from a import b` counts as importing a.b when that is a module, else a. The parent packages' __init__
    that Python runs on the way are not counted: every submodule would otherwise import its own package.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package, up level - 1 packages
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return {m for m in found if m in modules and m != name}


def import_graph(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    modules = module_names(package)
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def layer(module: str) -> int:
    """The index in LAYERS of a dotted module name (the package itself is "__init__")."""
    top = module.split(".")[1] if "." in module else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer: add {top!r} to LAYERS in tests/test_structure.py")


def upward(graph: dict[str, set[str]], known=frozenset()) -> list[tuple[str, str]]:
    """Imports from a lower layer into a higher one, those in `known` left out."""
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if layer(b) > layer(a) and (a, b) not in known)


def cycles(graph: dict[str, set[str]], known=frozenset()) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a circle; the arrows in `known` removed."""
    edges = {a: {b for b in targets if (a, b) not in known} for a, targets in graph.items()}
    reach = {}
    for start in edges:
        seen, todo = set(), list(edges[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))
        reach[start] = seen
    groups = {tuple(sorted(m for m in reach[a] if a in reach[m])) for a in edges if a in reach[a]}
    return sorted(list(g) for g in groups)


GRAPH = import_graph(PACKAGE)


def test_every_module_has_a_layer():
    for module in GRAPH:
        layer(module)  # fails naming the first module no layer holds


def test_no_import_circle():
    assert cycles(GRAPH, KNOWN) == []


def test_imports_point_down_the_layers():
    assert upward(GRAPH, KNOWN) == []


def test_report_stands_above_the_experiments():
    """The pipeline's order: the experiments import no report module, and the report reads the experiments."""
    assert layer("multimnist.report.study") > layer("multimnist.experiments.study") > layer("multimnist.figures.png")
    assert not [(a, b) for a, targets in GRAPH.items() for b in targets
                if a.startswith("multimnist.experiments") and b.startswith("multimnist.report")]


def root_imports(package: Path) -> list[str]:
    """Modules that import the package root itself (`import multimnist`, `from multimnist import NAME` where NAME
    is no module): an import for a side effect, or a name from the public API that a lower module should not need."""
    modules = module_names(package)
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(a.name == package.name for a in node.names):
                found.append(name)
            elif (isinstance(node, ast.ImportFrom) and node.module == package.name and not node.level
                  and any(f"{package.name}.{a.name}" not in modules for a in node.names)):
                found.append(name)
    return sorted(set(found) - {package.name})


def test_no_module_imports_the_package_root():
    assert root_imports(PACKAGE) == []


def test_root_imports_are_found(tmp_path):
    package = tmp_path / "multimnist"
    (package / "training").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "paper.py").write_text("")
    (package / "training" / "__init__.py").write_text("")
    (package / "training" / "a.py").write_text("import multimnist  # noqa: F401\n")
    (package / "training" / "b.py").write_text("from multimnist import paper\n")  # a module: fine
    (package / "training" / "c.py").write_text("def f():\n    from multimnist import __version__\n")
    assert root_imports(package) == ["multimnist.training.a", "multimnist.training.c"]


def test_known_violations_are_still_there():
    gone = sorted(edge for edge in KNOWN if edge[1] not in GRAPH.get(edge[0], ()))
    assert not gone, f"fixed: remove {gone} from KNOWN in tests/test_structure.py"


def test_the_layer_checks_can_fail(tmp_path):
    package = tmp_path / "multimnist"
    files = {
        "__init__.py": "from multimnist._version import __version__\n",
        "_version.py": "__version__ = '0'\n",
        "errors.py": "def hint():\n    from multimnist.cli import main  # function-local, still an arrow up\n",
        "cli/__init__.py": "from . import options\n",
        "cli/options.py": "from ..errors import hint\n",
        "data/__init__.py": "",
        "data/a.py": "from multimnist.data import b\n",
        "data/b.py": "def f():\n    import multimnist.data.a\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["multimnist.cli"] == {"multimnist.cli.options"}  # relative imports resolved
    assert graph["multimnist.cli.options"] == {"multimnist.errors"}
    assert cycles(graph) == [["multimnist.cli", "multimnist.cli.options", "multimnist.errors"],
                             ["multimnist.data.a", "multimnist.data.b"]]
    assert upward(graph) == [("multimnist.errors", "multimnist.cli")]
    assert upward(graph, {("multimnist.errors", "multimnist.cli")}) == []
    assert cycles(graph, {("multimnist.data.b", "multimnist.data.a")}) == [
        ["multimnist.cli", "multimnist.cli.options", "multimnist.errors"]]


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
    tree = ast.parse("import matplotlib.pyplot as plt\nfrom multimnist.figures.png import x\nprint('hi')\n")
    assert {"matplotlib.pyplot", "multimnist.figures.png"} <= _imports(tree) and _prints(tree) == [3]

"""The README's Python examples run as written: each fenced ```python block alone, in a fresh process, in an
empty folder, with the dataset cache there too. Blocks that start with `# needs: PACKAGE` run only where
those packages are installed."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
NEEDS = re.compile(r"^# needs: (.+)$", re.MULTILINE)
IMPORT_NAMES = {"Pillow": "PIL"}
# What a block prints, as its comments say: (a line of the block, a line of its output).
PRINTS = [("multimnist.load_data()   #", "(83550, 28, 39) "), ("train_size=10_000", "(16, 28, 39) int64"),
          ('"small/", download=True, train_size=2000)  ', "2401 export/README.md")]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def _needs(block: str) -> list[str]:
    found = NEEDS.search(block)
    return [name.strip() for name in found[1].split(",")] if found else []


BLOCKS = python_blocks(README.read_text())


def test_the_readme_has_examples_and_marks_the_ones_that_need_more():
    assert len(BLOCKS) >= 5
    needs = [_needs(b) for b in BLOCKS]
    assert ["torch", "torchvision"] in needs and ["datasets"] in needs
    for block in BLOCKS:  # every block stands alone
        assert "import multimnist" in block
    for marker, _ in PRINTS:
        assert sum(marker in block for block in BLOCKS) == 1, marker


# slow: each block runs as written in a fresh interpreter, and the first generates the full study data (83550 images)
@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_readme_example_runs_alone(block, tmp_path):
    missing = [n for n in _needs(block) if importlib.util.find_spec(IMPORT_NAMES.get(n, n)) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    env = {**os.environ, "MULTIMNIST_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for marker, output in PRINTS:
        if marker in block:
            assert output in done.stdout, done.stdout


def test_the_set_up_starts_with_the_quick_profile_and_each_profile_writes_its_own_folder():
    """The first commands a reader meets: the quick profile first, and the folders they name are the Makefile's
    (OUT ?= runs/$(PROFILE)) and the CLI's (runs/PROFILE): plain `multimnist reproduce` and `make reproduce` apart."""
    first = re.search(r"^```sh\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)[1].splitlines()
    assert first[0].startswith("make reproduce PROFILE=quick ") and first[0].endswith("writes runs/quick/report.html")
    assert first[1].startswith("make reproduce ") and first[1].endswith("writes runs/paper/report.html")
    makefile = (README.parent / "Makefile").read_text()
    assert "\nPROFILE ?= paper\n" in makefile and "\nOUT ?= runs/$(PROFILE)\n" in makefile


def test_the_examples_run_in_order_in_one_folder_write_apart():
    """A reader runs the blocks one after another in one folder: no block exports into a folder another block
    exported into (export_dataset refuses a folder that is not empty, and `force` would mix two datasets' files),
    and a block that reads a dataset root another made asks for nothing that root does not hold."""
    targets = [t for block in BLOCKS for t in re.findall(r'export_dataset\([^,]+\),\s*"([^"]+)"', block)]
    assert len(targets) >= 3 and len(targets) == len(set(targets)), targets
    roots: dict[str, set[str]] = {}
    for block in BLOCKS:
        for root, options in re.findall(r'MultiMNIST\("([^"]+)",?([^)\n]*)\)', block):
            roots.setdefault(root, set()).add(re.search(r"train_size=([\d_]+)", options)[1]
                                              if "train_size" in options else "any")
    for root, sizes in roots.items():  # one size asked per root, or one size and the root's own ("any")
        assert len(sizes - {"any"}) <= 1, (root, sizes)


def test_the_readme_is_a_front_door_not_a_lab_notebook():
    """At most 250 lines; no issue numbers, dates or clock times (the history lives in docs/notes/); its generated
    blocks are there (tests/test_report_results.py checks their content)."""
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert not re.search(r"[Ii]ssue \d|#\d{2}\b|\b20\d\d-\d\d-\d\d\b|\d\d:\d\d UTC", text)
    for name in ("claims", "timings"):
        assert f"<!-- {name}:begin -->" in text and f"<!-- {name}:end -->" in text

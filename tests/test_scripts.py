"""scripts/: the scripts that stay are tools still in use (they rebuild something the package ships, or the
Makefile runs them), each tested and importing no private names; closed investigations live in docs/notes/."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest
from conftest import SCRIPTS, load_script, write_idx

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_every_script_is_tested_and_imports_no_private_names():
    scripts = sorted(p for p in SCRIPTS.iterdir() if p.is_file())
    assert [p.name for p in scripts] == ["build_mnist_archive.py", "check_same_bits.py", "digest_run.py",
                                         "make_study_plan.py", "select_challenger.py"]
    tests = "".join(p.read_text() for p in TESTS.glob("test_*.py"))
    for script in scripts:
        assert f'load_script("{script.stem}")' in tests, f"{script.name} has no test"
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("multimnist"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{script.name} imports private names {private} from {node.module}"


def test_no_document_names_a_script_that_moved_to_the_notes():
    moved = [p.name for p in (ROOT / "docs" / "notes" / "scripts").iterdir()]
    assert "early_stopping_paths.py" in moved and "calibration_bound.py" in moved
    texts = [ROOT / "README.md", ROOT / "Makefile", *(ROOT / "docs").glob("*.md"), *TESTS.glob("*.py"),
             *(ROOT / "src").rglob("*.py"), *(ROOT / "src").rglob("*.yaml")]
    for path in texts:
        text = path.read_text().replace("docs/notes/scripts/", "")
        for name in moved:
            assert f"scripts/{name}" not in text, f"{path} names scripts/{name}"


def test_make_study_plan_rebuilds_the_committed_plan_byte_for_byte():
    plan = load_script("make_study_plan")
    assert plan.plan_text() == (ROOT / "src" / "multimnist" / "data" / "plans" / "study.yaml").read_text()


@pytest.mark.slow  # writes and reads 70,000 MNIST digits as IDX files
def test_build_mnist_archive_from_idx_files_gives_the_vendored_arrays(digits, tmp_path):
    """The same arrays as the vendored archive (not its bytes: the archive was written at another zip compression
    level than today's files.write_npz), with their checks passed and the .sha256 beside them."""
    import numpy as np

    names = {"train-images-idx3-ubyte": digits.x_train, "train-labels-idx1-ubyte": digits.y_train,
             "t10k-images-idx3-ubyte": digits.x_test, "t10k-labels-idx1-ubyte": digits.y_test}
    for name, arr in names.items():
        write_idx(tmp_path / name, arr)
    archive = load_script("build_mnist_archive")
    assert archive.main(["--idx", str(tmp_path), "--out", str(tmp_path / "mnist.npz")]) == 0
    with np.load(ROOT / "src" / "multimnist" / "data" / "assets" / "mnist.npz") as vendored, \
            np.load(tmp_path / "mnist.npz") as rebuilt:
        assert vendored.files == rebuilt.files
        for key in vendored.files:
            assert vendored[key].dtype == rebuilt[key].dtype and np.array_equal(vendored[key], rebuilt[key]), key
    digest = hashlib.sha256((tmp_path / "mnist.npz").read_bytes()).hexdigest()
    assert (tmp_path / "mnist.sha256").read_text() == f"{digest}  mnist.npz\n"


def test_build_mnist_archive_refuses_a_pickle_that_is_not_arrays():
    import io
    import pickle

    archive = load_script("build_mnist_archive")
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global os.system"):
        archive.ArrayUnpickler(io.BytesIO(b"cos\nsystem\n(S'true'\ntR.")).load()

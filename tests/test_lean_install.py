"""The core install (numpy, PyYAML, Pillow) makes, loads and exports data without the training stack.

The fast test checks, in a fresh interpreter, that the data path imports none of the extras. The slow one
installs the checkout alone into a new virtual environment, on the oldest Python >= 3.10 this machine has,
and runs `data make`, `load_data`, `MultiMNIST` and an export there; `import keras` must fail in it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTRAS = ("keras", "jax", "jaxlib", "scipy", "sklearn", "matplotlib", "jinja2", "torch", "pyarrow", "ray")

DATA_PATH = """
import sys
import multimnist
from multimnist.cli import main
from multimnist.data.export import export_dataset
from multimnist.data import read_dataset

assert main(["data", "make", "--out", sys.argv[1] + "/data", "--train-size", "200"]) == 0
(x, y), _ = multimnist.load_data(train_size=200, cache_dir=sys.argv[1] + "/cache")
image, target = multimnist.MultiMNIST(sys.argv[1] + "/data")[0]
export_dataset(read_dataset(sys.argv[1] + "/data"), sys.argv[1] + "/export", "imagefolder")
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
assert not loaded, f"the data path imported {loaded}"
print(x.shape, y.max(), image.size, target)
"""


@pytest.mark.slow
def test_the_data_path_imports_none_of_the_extras(tmp_path):
    out = subprocess.run([sys.executable, "-c", DATA_PATH, str(tmp_path), ",".join(EXTRAS)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(200, 28, 39) 49 (39, 28)" in out.stdout


def test_a_command_needing_a_missing_extra_says_which_to_install(tmp_path, small_dataset_dir):
    code = ("import sys; sys.modules['matplotlib'] = None\n"  # as if the [report] extra were not installed
            "from multimnist.cli import main\n"
            f"sys.exit(main(['data', 'inspect', '--data', {str(small_dataset_dir)!r}, '--out', {str(tmp_path)!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr == ("multimnist: error: this command needs matplotlib, which the core install leaves out: "
                          "pip install -e '.[report]' in the multimnist clone (or '.[all]')\n")


REPORT_ALONE = """
import sys
from pathlib import Path

class NotInstalled:  # as if only the core and the [report] extra were installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in sys.argv[2].split(","):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
from multimnist.cli import main
sys.exit(main(["report", sys.argv[1]]))
"""
NOT_IN_REPORT = ("keras", "jax", "jaxlib", "sklearn", "pyarrow", "ray", "torch")


@pytest.fixture
def study_folder(tmp_path):
    from test_claims import make_study_folder  # a reproduce folder of hand-written files

    return make_study_folder(tmp_path / "run")


@pytest.mark.slow
def test_the_report_command_needs_only_the_report_extra(study_folder):
    out = subprocess.run([sys.executable, "-c", REPORT_ALONE, str(study_folder), ",".join(NOT_IN_REPORT)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (study_folder / "report.html").is_file() and (study_folder / "results.json").is_file()


def test_the_report_command_without_scipy_names_the_report_extra(study_folder):
    out = subprocess.run([sys.executable, "-c", REPORT_ALONE, str(study_folder), ",".join((*NOT_IN_REPORT, "scipy"))],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert out.stderr == ("multimnist: error: this command needs scipy, which the core install leaves out: "
                          "pip install -e '.[report]' in the multimnist clone (or '.[all]')\n")
    assert not (study_folder / "report.html").exists()


def test_inspect_names_a_missing_dataset_before_a_missing_extra(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"  # as if the [report] extra were not installed
            "from multimnist.cli import main\n"
            f"sys.exit(main(['data', 'inspect', '--data', {str(tmp_path / 'missing')!r}, '--out', "
            f"{str(tmp_path / 'out')!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stderr) == (2, f"multimnist: error: --data: dataset not found: "
                                               f"{tmp_path / 'missing'}\n")


def test_importing_the_package_is_cheap():
    code = "import sys, multimnist; print(sorted(m for m in ('numpy', 'yaml', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def oldest_python() -> str:
    """The oldest interpreter >= 3.10 found here (MULTIMNIST_LEAN_PYTHON overrides), else this one."""
    if os.environ.get("MULTIMNIST_LEAN_PYTHON"):
        return os.environ["MULTIMNIST_LEAN_PYTHON"]
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python3.{m}") for m in range(10, 14)]
    candidates += sorted(glob.glob(f"{pyenv}/versions/3.1[0-9]*/bin/python3"))
    found = []
    for exe in filter(None, candidates):
        probe = subprocess.run([exe, "-c", "import sys, venv, ensurepip; print(*sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            version = tuple(int(v) for v in probe.stdout.split())
            if version >= (3, 10):
                found.append((version, exe))
    return min(found)[1] if found else sys.executable


def _copy_checkout(dest: Path) -> Path:
    """The files a build needs, so that building leaves nothing in the working tree."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


@pytest.mark.slow
def test_the_core_alone_makes_and_loads_data_in_a_fresh_venv(tmp_path):
    python = oldest_python()
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)  # no system site-packages
    bin_ = venv / ("Scripts" if os.name == "nt" else "bin")
    source = _copy_checkout(tmp_path / "checkout")
    install = subprocess.run([str(bin_ / "python"), "-m", "pip", "install", "--quiet", str(source)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("MULTIMNIST_CACHE", None)
    make = subprocess.run([str(bin_ / "multimnist"), "data", "make", "--out", str(tmp_path / "d"),
                           "--train-size", "500"], capture_output=True, text=True, timeout=300, env=env)
    assert make.returncode == 0, make.stderr[-2000:]
    assert {p.name for p in (tmp_path / "d").iterdir()} >= {"train.npz", "test.npz", "meta.json"}

    use = textwrap.dedent(f"""
        import sys, multimnist
        from importlib.metadata import version
        from multimnist.data import read_dataset
        from multimnist.data.export import export_dataset
        from multimnist.errors import UserError
        (x, y), (xt, yt) = multimnist.load_data(train_size=500)
        assert x.shape == (500, 28, 39) and x.dtype.name == "uint8" and y.min() == 0 and y.max() == 49
        image, target = multimnist.MultiMNIST({str(tmp_path / "d")!r}, train=False)[0]
        assert image.mode == "L" and image.size == (39, 28)
        ds = read_dataset({str(tmp_path / "d")!r})
        export_dataset(ds, {str(tmp_path / "png")!r}, "imagefolder")
        try:
            export_dataset(ds, {str(tmp_path / "pq")!r}, "parquet")
        except UserError as e:
            print("parquet:", e)
        assert version("multimnist") == multimnist.__version__, version("multimnist")  # pyproject reads _version.py
        print(sys.version_info[:2], sorted(m for m in sys.modules if m.split(".")[0] in {EXTRAS!r}))
    """)
    run = subprocess.run([str(bin_ / "python"), "-c", use], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "parquet: --format parquet needs pyarrow: pip install -e '.[parquet]' in the multimnist clone" in run.stdout
    assert run.stdout.strip().endswith("[]")
    assert list((tmp_path / "xdg" / "multimnist" / "datasets").iterdir())  # cached under XDG_CACHE_HOME

    train = subprocess.run([str(bin_ / "multimnist"), "train", "classifier", "--data", str(tmp_path / "d"), "--out",
                            str(tmp_path / "run")], capture_output=True, text=True, timeout=120, env=env)
    assert train.returncode == 2 and "pip install -e '.[train]' in the multimnist clone" in train.stderr
    assert len(train.stderr.splitlines()) == 1, train.stderr

    for extra in ("keras", "jax", "matplotlib", "sklearn"):
        probe = subprocess.run([str(bin_ / "python"), "-c", f"import {extra}"], capture_output=True, text=True)
        assert probe.returncode != 0, f"{extra} is importable in the core-only venv"

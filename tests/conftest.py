"""Shared fixtures: the vendored MNIST digits (loaded once) and a small generated dataset on disk; the scripts as
modules (`load_script`); and a watch
that keeps `make test-fast` fast by naming the unmarked tests that have grown slow."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset

import numpy as np
import pytest

SMALL_TRAIN = 1000  # small enough to keep the suite fast, large enough to hold all 50 study classes
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str):
    """scripts/NAME.py as a module (the scripts are no package, so they cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def idx_bytes(arr: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x00000803/0x00000801, big-endian dimensions, then the bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)


@pytest.fixture(scope="session")
def digits():
    return load_mnist()


@pytest.fixture(scope="session")
def small_config():
    return GeneratorConfig(train_size=SMALL_TRAIN)


@pytest.fixture(scope="session")
def small_dataset(digits, small_config):
    return make_dataset(digits, small_config, seed=0)


@pytest.fixture(scope="session")
def small_dataset_dir(small_dataset, tmp_path_factory):
    return save_dataset(small_dataset, tmp_path_factory.mktemp("small_dataset"))


# --- the fast loop's watch: an unmarked test over this many seconds (setup and call) is named at the end ---
SLOW_SECONDS = 3.0
_unmarked_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    if report.when in ("setup", "call") and "slow" not in report.keywords:
        _unmarked_seconds[report.nodeid] = _unmarked_seconds.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, config):
    if "not slow" not in (config.option.markexpr or ""):  # only the fast loop's budget is watched
        return
    slow = sorted(((s, n) for n, s in _unmarked_seconds.items() if s > SLOW_SECONDS), reverse=True)
    if slow:
        terminalreporter.write_sep("-", f"unmarked tests over {SLOW_SECONDS:g} s: mark them slow or make them faster")
        for seconds, nodeid in slow:
            terminalreporter.write_line(f"{seconds:5.1f} s  {nodeid}")

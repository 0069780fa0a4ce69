"""The dataset store (data/store.py): processes asking for the same dataset at once generate it once, and a
dataset whose files no longer match its meta.json is generated again with a warning, or refused when it is
not the dataset asked for."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import multimnist
from multimnist.data import ensure_dataset, preset_config, read_dataset, store
from multimnist.errors import UserError
from multimnist.files import sha256_arrays
from multimnist.layout import DATA_META, DATA_SPLITS

import numpy as np
import pytest

TINY = 200

# Each process counts its generations in a marker file, then waits at a barrier so that all of them ask for the
# dataset at the same moment; a generation takes at least a second, so the others ask while it runs.
WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path

    import multimnist
    from multimnist.data import store
    from multimnist.files import sha256_arrays

    cache, marks, name, size = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    real = store.make_dataset

    def counted(*args, **kwargs):
        with open(marks / "generations", "a") as f:
            f.write(name + "\\n")
        time.sleep(1.0)
        return real(*args, **kwargs)

    store.make_dataset = counted
    (marks / f"ready-{name}").touch()
    while not (marks / "go").exists():
        time.sleep(0.01)
    (x_train, y_train), (x_test, y_test) = multimnist.load_data(cache_dir=cache, train_size=size)
    print(sha256_arrays(x_train, y_train, x_test, y_test))
""")


@pytest.mark.slow  # its subject is three processes racing for one cache folder: three interpreter starts
def test_concurrent_first_calls_generate_once(tmp_path):
    marks, cache = tmp_path / "marks", tmp_path / "cache"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(multimnist.__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(cache), str(marks), str(i), str(TINY)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    try:
        deadline = time.monotonic() + 120
        while len(list(marks.glob("ready-*"))) < len(procs):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a worker did not start"
            time.sleep(0.05)
        (marks / "go").touch()
        results = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    assert len((marks / "generations").read_text().splitlines()) == 1  # one process generated, two waited
    assert len({out.strip() for out, _ in results}) == 1  # and all three read the same data
    (folder,) = (cache / "datasets").iterdir()
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no lock file left


def _cached_folder(cache: Path) -> Path:
    (folder,) = (cache / "datasets").iterdir()
    return folder


@pytest.mark.slow
def test_a_replaced_train_file_is_detected_and_generated_again(tmp_path, caplog):
    cache = tmp_path / "cache"
    (x_train, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    folder = _cached_folder(cache)
    # Another dataset's train.npz copied in: more images than meta.json records.
    other = ensure_dataset(tmp_path / "other", preset_config(train_size=TINY + 100), 0).dataset
    (folder / "train.npz").write_bytes((tmp_path / "other" / "train.npz").read_bytes())
    with caplog.at_level(logging.WARNING, logger="multimnist"):
        (again, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    assert len(other.y_train) == TINY + 100 and np.array_equal(again, x_train)
    assert f"train.npz holds {TINY + 100:,} images, meta.json records {TINY:,}; generating it again" in caplog.text


def test_same_count_other_images_are_caught_by_the_recorded_hash(tmp_path, caplog):
    cache = tmp_path / "cache"
    (x_train, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    folder = _cached_folder(cache)
    ensure_dataset(tmp_path / "seed1", preset_config(train_size=TINY), 1)  # as many images, other ones
    (folder / "train.npz").write_bytes((tmp_path / "seed1" / "train.npz").read_bytes())
    meta = json.loads((folder / DATA_META).read_text())
    assert meta["train"]["total"] == TINY and len(meta["sha256"]) == 64
    with caplog.at_level(logging.WARNING, logger="multimnist"):
        (again, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    assert np.array_equal(again, x_train) and "differ from those meta.json records (SHA-256)" in caplog.text


def test_a_truncated_file_is_generated_again(tmp_path, caplog):
    cache = tmp_path / "cache"
    (x_train, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    train = _cached_folder(cache) / "train.npz"
    train.write_bytes(train.read_bytes()[: train.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="multimnist"):
        (again, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY)
    assert np.array_equal(again, x_train) and "cannot read" in caplog.text


def test_the_recorded_hash_is_the_hash_of_the_arrays(tmp_path):
    ds = ensure_dataset(tmp_path / "d", preset_config(train_size=TINY), 0).dataset
    assert ds.meta["sha256"] == sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    assert store.recorded_mismatch(ds) is None


def test_a_kept_dataset_is_not_rewritten(tmp_path, monkeypatch):
    config = preset_config(train_size=TINY)
    first = ensure_dataset(tmp_path / "d", config, 0)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "d").iterdir()}
    monkeypatch.setattr(store, "make_dataset", lambda *a, **k: pytest.fail("generated again"))
    second = ensure_dataset(tmp_path / "d", config, 0)
    assert first.made and not second.made
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "d").iterdir()} == before
    assert np.array_equal(first.dataset.x_train, second.dataset.x_train)


def test_a_changed_dataset_of_other_settings_is_refused_not_regenerated(tmp_path):
    folder = tmp_path / "d"
    ensure_dataset(folder, preset_config("faint", train_size=TINY), 0)
    ensure_dataset(tmp_path / "e", preset_config("faint", train_size=TINY + 100), 0)
    (folder / "train.npz").write_bytes((tmp_path / "e" / "train.npz").read_bytes())
    asked = preset_config(train_size=TINY)  # the study preset: not what the folder holds
    with pytest.raises(UserError, match="this folder holds preset .faint., not preset .study.*other settings"):
        ensure_dataset(folder, asked, 0)
    with pytest.raises(UserError, match=f"train.npz holds {TINY + 100:,} images, meta.json records {TINY:,}"):
        ensure_dataset(folder, asked, 0, keep_other=True)  # what MultiMNIST does with its root
    assert len(read_dataset(folder).y_train) == TINY + 100  # untouched


def test_multimnist_root_with_a_damaged_split_is_generated_again(tmp_path, caplog):
    root = tmp_path / "root"
    first = multimnist.MultiMNIST(root, train_size=TINY)
    test = root / DATA_SPLITS["test"]
    test.write_bytes(test.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="multimnist"):
        again = multimnist.MultiMNIST(root, train_size=TINY)
    assert np.array_equal(again.data, first.data) and "generating it again" in caplog.text


def test_recipe_makes_the_same_dataset_again(tmp_path):
    made = ensure_dataset(tmp_path / "a", preset_config("few-source-digits", train_size=TINY), 3).dataset
    config, seed = store.recipe(made.meta)
    again = ensure_dataset(tmp_path / "b", config, seed).dataset
    assert seed == 3 and again.meta["sha256"] == made.meta["sha256"] and again.meta["preset"] == "few-source-digits"
    with pytest.raises(UserError, match="made by another multimnist version"):
        store.recipe({**made.meta, "generator": {**made.meta["generator"], "knob_of_the_future": 1}})
    with pytest.raises(UserError, match="records no generator settings"):
        store.recipe({})

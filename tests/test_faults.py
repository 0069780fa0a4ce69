"""Faults end in one line naming the path or the holder, with nothing half-written left: a folder in use by another
process, a full disk, permission denied, a read-only file system, and a run folder left by a failed run."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from multimnist import files
from multimnist.cli import data as cli_data
from multimnist.cli import main
from multimnist.errors import file_error
from multimnist.files import lock_path

import pytest

MAKE = ["data", "make", "--plan", "balanced", "--train-size", "100"]


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(err: str) -> str:
    """The error line, after checking it is the last and only one (progress lines may come before it)."""
    lines = err.splitlines()
    assert lines and lines[-1].startswith("multimnist: error: ") and "Traceback" not in err, err
    assert sum("error" in line for line in lines) == 1, err
    return lines[-1]


def _least_data(path: Path) -> Path:
    """The least data a command trains on (data/dataset.py: MIN_CLASSES, MIN_TRAIN): 2 classes, 10 images."""
    import numpy as np

    y = np.repeat([3, 7], 5)
    np.savez(path, x_train=np.zeros((10, 28, 39), np.uint8), y_train=y, x_test=np.zeros((2, 28, 39), np.uint8),
             y_test=y[:2])
    return path


def _leftovers(folder: Path) -> list[str]:
    """Temporary and lock files under `folder` (and the lock beside it)."""
    names = [p.name for p in folder.rglob("*") if ".tmp" in p.name or p.name.endswith(".lock")]
    return names + ([lock_path(folder).name] if lock_path(folder).exists() else [])


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock on tmp_path/out, as `multimnist reproduce --out OUT` would."""
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import sys, time
        from multimnist.files import lock_folder
        with lock_folder({str(out)!r}, "multimnist reproduce --out {out}"):
            print("locked", flush=True)
            sys.stdin.read()  # hold until the test closes stdin
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield out, proc
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("argv", [
    MAKE,
    ["reproduce", "--profile", "quick"],
    ["train", "classifier", "--data", "{tmp}/d.npz"],
    ["sweep", "depth", "--data", "{tmp}/d.npz"],
], ids=["data-make", "reproduce", "train", "sweep"])
def test_a_folder_in_use_stops_the_second_process_at_once(holder, tmp_path, capsys, argv):
    out, proc = holder
    _least_data(tmp_path / "d.npz")  # a good --data: the lock is what stops the command
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, _, err = _run([*argv, "--out", str(out)], capsys)
    assert code == 1
    line = _one_line(err)
    assert f"{out.resolve()} is in use by pid {proc.pid}" in line and f"multimnist reproduce --out {out}" in line
    assert not out.exists()  # the second process wrote nothing


def test_the_folder_is_free_again_when_the_holder_ends(holder, tmp_path, capsys):
    out, proc = holder
    proc.stdin.close()
    proc.wait(timeout=30)
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)
    assert code == 0, err
    assert (out / "meta.json").is_file() and _leftovers(out) == []


def test_a_killed_holder_leaves_no_lock_in_force(tmp_path, capsys):
    out = tmp_path / "out"
    code = f"from multimnist.files import lock_folder\nimport os\nwith lock_folder({str(out)!r}, 'x'):\n    os._exit(9)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert lock_path(out).exists()  # the file stays, but the kernel released the flock with the process
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)
    assert code == 0, err


def test_an_output_folder_that_is_a_file_or_a_missing_report_folder(tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    code, _, err = _run([*MAKE, "--out", str(tmp_path / "afile")], capsys)
    assert code == 1 and _one_line(err) == f"multimnist: error: {tmp_path / 'afile'} is a file, not a folder"
    assert (tmp_path / "afile").read_text() == "mine"
    code, _, err = _run(["report", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and _one_line(err) == f"multimnist: error: no such folder: {tmp_path / 'nowhere'}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_during_data_make_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(zipfile.ZipFile, "writestr", _enospc)
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)
    assert code == 1
    assert _one_line(err) == f"multimnist: error: disk full: cannot write {out / 'train.npz'}"
    assert _leftovers(tmp_path) == [] and not (out / "train.npz").exists() and not (out / "meta.json").exists()


def test_full_disk_on_a_later_file_keeps_the_folder_unfinished(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = Path.write_bytes

    def full_on_json(self, data):
        if self.suffix == ".json":
            _enospc()
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_on_json)
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)
    assert code == 1 and _one_line(err).endswith(f"disk full: cannot write {out / 'meta.json'}")
    assert sorted(p.name for p in out.iterdir()) == ["test.npz", "train.npz"]  # no meta.json: not a dataset
    monkeypatch.undo()
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)  # the same command after freeing space
    assert code == 2 and "without meta.json" in err and "--force" in err
    code, _, err = _run([*MAKE, "--out", str(out), "--force"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("err_no, words", [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system"),
                                           (errno.EDQUOT, "disk quota exceeded")])
def test_unwritable_folder_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch, err_no, words):
    # Tests run as root, for whom chmod does not make a folder read-only: the file system's answer is simulated.
    out = tmp_path / "out"
    real = os.open

    def refuse_temp_files(path, flags, *args, **kwargs):
        if ".tmp" in str(path):
            raise OSError(err_no, os.strerror(err_no), str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refuse_temp_files)
    code, _, err = _run([*MAKE, "--out", str(out)], capsys)
    assert code == 1
    assert _one_line(err) == f"multimnist: error: {words}: cannot write {out / 'train.npz'}"
    assert _leftovers(tmp_path) == []


def test_read_only_parent_of_the_output_folder(tmp_path, capsys, monkeypatch):
    parent = tmp_path / "ro"
    real = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self == parent or parent in self.parents:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, _, err = _run([*MAKE, "--out", str(parent / "data")], capsys)
    assert code == 1 and _one_line(err) == f"multimnist: error: read-only file system: cannot write {parent / 'data'}"


@pytest.mark.parametrize("err_no, filename, line", [
    (errno.ENOSPC, "/somewhere/model.keras", "disk full: cannot write /somewhere/model.keras"),
    (errno.EACCES, "/shared/data/train.npz", "permission denied: /shared/data/train.npz"),
    (errno.EROFS, "/mnt/ro/x.json", "read-only file system: cannot write /mnt/ro/x.json"),
    (errno.EIO, "/disk/x.npz", "/disk/x.npz: input/output error"),
    (errno.ENOSPC, None, "disk full (No space left on device)"),
])
def test_an_oserror_the_library_did_not_wrap_is_still_one_line(tmp_path, capsys, monkeypatch, err_no, filename, line):
    def broken(args):
        raise OSError(err_no, os.strerror(err_no), filename)

    monkeypatch.setattr(cli_data, "_make", broken)
    code, _, err = _run([*MAKE, "--out", str(tmp_path / "out")], capsys)
    assert code == 1 and _one_line(err) == f"multimnist: error: {line}"


@pytest.mark.parametrize("setting, message", [
    ("training.batch_size=1.5", "unregularized.training.batch_size: expected an integer, got 1.5"),
    ("model.hidden=80", "unregularized.model.hidden: expected a list of integers, got 80"),
    ("model.dropout=[0.1, high]", "unregularized.model.dropout: expected a number or a list of numbers"),
    ("training.shuffle=3", "unregularized.training.shuffle: expected true or false, got 3"),
    ("model.activation=7", "unregularized.model.activation: expected text, got 7"),
])
def test_set_values_are_checked_against_the_field_type(small_dataset_dir, tmp_path, capsys, setting, message):
    code, _, err = _run(["train", "classifier", "--data", str(small_dataset_dir), "--out", str(tmp_path / "r"),
                         "--epochs", "1", "--set", setting], capsys)
    assert code == 2 and message in _one_line(err)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("seeds, message", [
    ("2-0", "--seeds: '2-0' is an empty range: it ends below its start (meant 0..2?)"),
    ("3..1", "--seeds: '3..1' is an empty range"),
    ("", "--seeds: cannot read '' as a range"),
    ("0,1,1", "--seeds: '0,1,1' lists 1 more than once"),
    ("a", "--seeds: cannot read 'a' as a range"),
])
def test_empty_or_bad_seed_ranges_are_errors(small_dataset_dir, tmp_path, capsys, seeds, message):
    for argv in (["train", "classifier", "--data", str(small_dataset_dir), "--epochs", "1"],
                 ["sweep", "batch", "--data", str(small_dataset_dir)],
                 ["reproduce"]):
        code, _, err = _run([*argv, "--out", str(tmp_path / "r"), "--seeds", seeds], capsys)
        assert code == 2 and message in _one_line(err), argv
        assert not (tmp_path / "r").exists()


def _train(data, out, *extra):
    return ["train", "classifier", "--data", str(data), "--out", str(out), "--epochs", "1", *extra]


@pytest.mark.slow
def test_full_disk_while_saving_the_model_then_the_same_command_finishes(small_dataset_dir, tmp_path, capsys,
                                                                          monkeypatch):
    import keras

    out = tmp_path / "r"
    monkeypatch.setattr(keras.Model, "save", _enospc)
    code, _, err = _run(_train(small_dataset_dir, out), capsys)
    assert code == 1 and _one_line(err) == f"multimnist: error: disk full: cannot write {out / 'model.keras'}"
    assert not (out / "model.keras").exists() and _leftovers(out) == []
    monkeypatch.undo()
    code, _, err = _run(_train(small_dataset_dir, out), capsys)
    assert code == 0, err
    assert (out / "metrics.json").is_file()


@pytest.mark.slow
def test_a_run_that_failed_before_its_first_epoch_does_not_refuse_the_corrected_rerun(small_dataset_dir, tmp_path,
                                                                                        capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.yaml").write_text("name: unregularized\nmodel: {hidden: [60, 50]}\n")  # the failed attempt's
    (out / "history.csv").write_text("epoch,accuracy,loss,val_accuracy,val_loss\n")  # no epoch finished
    code, _, err = _run(_train(small_dataset_dir, out), capsys)
    assert code == 0, err
    assert "never finished an epoch" in err and (out / "metrics.json").is_file()


@pytest.mark.slow
def test_a_temporary_file_left_by_a_killed_run_does_not_refuse_the_rerun(small_dataset_dir, tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / ".config.yaml.0badc0de.tmp.yaml").write_text("name: half-writ")  # killed while writing config.yaml
    code, _, err = _run(_train(small_dataset_dir, out), capsys)
    assert code == 0, err
    assert (out / "metrics.json").is_file() and _leftovers(out) == []


@pytest.mark.slow
def test_a_backup_truncated_by_a_full_disk_does_not_refuse_the_rerun(small_dataset_dir, tmp_path, capsys):
    done, out = tmp_path / "done", tmp_path / "r"
    assert main(_train(small_dataset_dir, done)) == 0
    (out / "backup").mkdir(parents=True)
    shutil.copy(done / "config.yaml", out / "config.yaml")
    (out / "history.csv").write_text("epoch,accuracy,loss,val_accuracy,val_loss\n")
    # A checkpoint cut short when the disk filled while it was written.
    (out / "backup" / "state.npz").write_bytes(b"PK\x03\x04" + bytes(4096))
    capsys.readouterr()
    code, _, err = _run(_train(small_dataset_dir, out), capsys)
    assert code == 0, err
    assert (out / "metrics.json").is_file()


def test_file_error_finds_the_file_inside_an_h5py_message():
    message = ("Can't synchronously write data (file write failed: time = Sat Nov 28 06:46:54 2026\n, filename = "
               "'run/backup/latest.weights.h5', file descriptor = 5, errno = 28, error message = 'No space left')")
    assert str(file_error(OSError(errno.ENOSPC, message))) == "disk full: cannot write run/backup/latest.weights.h5"
    assert str(file_error(OSError(errno.EIO, "line one\nline two"))) == "line one"


# --- a bad --data: one line, exit 2, before Keras, JAX or matplotlib load ---

def _bad_data(tmp_path: Path, kind: str) -> Path:
    """A --data argument that is wrong in the way `kind` names."""
    import numpy as np

    if kind in ("npy", "npy-renamed"):
        path = tmp_path / ("x.npy" if kind == "npy" else "x.npz")
        with open(path, "wb") as f:
            np.save(f, np.zeros((3, 28, 39), np.uint8))
        return path
    if kind == "text":
        path = tmp_path / "train.npz"
        path.write_text("not numbers\n")
        return path
    if kind == "missing":
        return tmp_path / "nothing.npz"
    if kind == "empty-folder":
        (tmp_path / "empty").mkdir()
        return tmp_path / "empty"
    if kind == "no-arrays":
        np.savez(tmp_path / "wrong.npz", images=np.zeros((3, 28, 39), np.uint8))
        return tmp_path / "wrong.npz"
    raise AssertionError(kind)


BAD_DATA = {"npy": "is not an .npz archive (it holds one array, as np.save writes)",
            "npy-renamed": "is not an .npz archive (it holds one array, as np.save writes)",
            "text": "is not an .npz archive (np.savez's zip of arrays)",
            "missing": "dataset not found",
            "empty-folder": "missing dataset file",
            "no-arrays": "has no 'x_train' array"}
DATA_COMMANDS = {"data inspect": ["data", "inspect"], "data export": ["data", "export", "--format", "imagefolder"],
                 "train classifier": ["train", "classifier"], "train autoencoder": ["train", "autoencoder"],
                 "sweep depth": ["sweep", "depth"], "sweep compression": ["sweep", "compression"],
                 "calibrate score": ["calibrate", "score"], "reproduce": ["reproduce"],
                 "score": ["score", "--model", ".", "--reader", "."], "generate": ["generate", "--model", "."]}


@pytest.mark.parametrize("kind", BAD_DATA)
@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_a_bad_data_file_is_one_line_and_exit_2_in_every_command(tmp_path, capsys, command, kind):
    data = _bad_data(tmp_path, kind)
    code, _, err = _run([*DATA_COMMANDS[command], "--data", str(data), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert _one_line(err) == f"multimnist: error: --data: {err.split('--data: ', 1)[1].strip()}"
    assert BAD_DATA[kind] in err and "allow_pickle" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a fresh interpreter, so that nothing an earlier test imported counts
def test_a_bad_data_file_is_refused_before_keras_jax_or_matplotlib_load(tmp_path):
    data = _bad_data(tmp_path, "npy")
    calls = [[*argv, "--data", str(data), "--out", str(tmp_path / "out")] for argv in DATA_COMMANDS.values()]
    code = textwrap.dedent(f"""
        import contextlib, io, sys
        from multimnist.cli import main
        with contextlib.redirect_stderr(io.StringIO()):
            codes = [main(argv) for argv in {calls!r}]
        print(codes, sorted(m for m in ("keras", "jax", "matplotlib", "scipy", "sklearn") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == f"{[2] * len(calls)} []", done.stdout + done.stderr


TOO_LITTLE = {"one class": ({3: 12}, "12 training images of 1 class;"),
              "too few in all": ({3: 4, 7: 5}, "9 training images of 2 classes;"),
              "one image": ({3: 1}, "1 training image of 1 class;")}


@pytest.mark.parametrize("case", TOO_LITTLE)
@pytest.mark.parametrize("command", ["train classifier", "train autoencoder", "sweep depth", "calibrate score",
                                     "reproduce"])
def test_data_too_small_to_train_on_is_refused_with_the_minimum(tmp_path, capsys, command, case):
    import numpy as np

    counts, words = TOO_LITTLE[case]
    y = np.repeat(list(counts), list(counts.values()))
    np.savez(tmp_path / "mine.npz", x_train=np.zeros((len(y), 28, 39), np.uint8), y_train=y,
             x_test=np.zeros((1, 28, 39), np.uint8), y_test=y[:1])
    code, _, err = _run([*DATA_COMMANDS[command], "--data", str(tmp_path / "mine.npz"), "--out",
                         str(tmp_path / "out")], capsys)
    assert code == 2 and words in _one_line(err)
    assert "training needs at least 2 classes and 10 training images (the 20% validation split then holds 2)" in err
    assert not (tmp_path / "out").exists()


def test_inspect_and_export_take_data_too_small_to_train_on(tmp_path, capsys):
    import numpy as np

    y = np.array([3, 3, 3])
    np.savez(tmp_path / "mine.npz", x_train=np.zeros((3, 28, 39), np.uint8), y_train=y,
             x_test=np.zeros((3, 28, 39), np.uint8), y_test=y)
    code, out, err = _run(["data", "export", "--data", str(tmp_path / "mine.npz"), "--format", "imagefolder",
                           "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "wrote 6 PNG files" in out, err


def test_the_readme_states_the_minimum_the_code_enforces():
    from multimnist.data.dataset import MIN_CLASSES, MIN_TRAIN

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert f"training needs at least {MIN_CLASSES} classes and {MIN_TRAIN} training images" in readme
